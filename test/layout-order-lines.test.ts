import { strict as assert } from 'node:assert';
import { test } from 'node:test';

import {
  ORDER_LINES,
  layoutFor,
  orderLinesBytes,
  orderLinesCount,
  readOrderLines,
  writeOrderLines,
} from '../native-layout/index.js';
import { AssertionError } from '../src/core/assert.js';
import { createLineColumns } from '../src/ledger/line-columns.js';
import { seededRandom } from './fixtures/store-helpers.js';

test('an order lines blob is the ORDER_LINES table laid out for its count', () => {
  for (let count = 1; count <= 300; count++) {
    const layout = layoutFor(ORDER_LINES, count);
    assert.equal(orderLinesBytes(count), layout.byteLength);
    assert.equal(orderLinesBytes(count) % 8, 0);
    // Strictly growing: the length alone says how many lines a blob holds.
    if (count > 1) assert.ok(orderLinesBytes(count) > orderLinesBytes(count - 1));
    assert.equal(orderLinesCount(orderLinesBytes(count)), count);
  }
});

test('lengths no count lays out are refused, not misread', () => {
  const lengths = new Set(Array.from({ length: 100 }, (_, index) => orderLinesBytes(index + 1)));
  for (let length = 1; length < orderLinesBytes(100); length++) {
    if (lengths.has(length)) continue;
    assert.throws(() => orderLinesCount(length), AssertionError, `length ${length}`);
  }
  assert.throws(() => orderLinesCount(0), AssertionError);
});

test('lines round-trip through a blob written at any offset, padding zeroed', () => {
  const random = seededRandom(7);
  const columns = createLineColumns(64);
  for (let row = 0; row < 64; row++) {
    columns.beneficiary[row] = 1 + Math.floor(random() * 0x7ffffffe);
    columns.source[row] = 1 + Math.floor(random() * 0x7ffffffe);
    columns.type[row] = Math.floor(random() * 8);
    columns.level[row] = Math.floor(random() * 256);
    const magnitude = Math.floor(random() * Number.MAX_SAFE_INTEGER);
    columns.amountCents[row] = random() < 0.5 ? -magnitude : magnitude;
  }
  for (const [from, count] of [
    [0, 1],
    [3, 7],
    [10, 54],
  ] as const) {
    const bytes = new Uint8Array(16 + orderLinesBytes(count)).fill(0xee);
    writeOrderLines(new DataView(bytes.buffer), 16, columns, from, count);
    const blob = bytes.subarray(16);
    const lines = readOrderLines(blob);
    assert.equal(lines.length, count);
    for (const [line, read] of lines.entries()) {
      const row = from + line;
      assert.deepEqual(read, {
        amountCents: columns.amountCents[row],
        beneficiary: columns.beneficiary[row],
        source: columns.source[row],
        type: columns.type[row],
        level: columns.level[row],
      });
    }
    // Every byte of the blob is written: the same lines always give the same bytes.
    const again = new Uint8Array(orderLinesBytes(count));
    writeOrderLines(new DataView(again.buffer), 0, columns, from, count);
    assert.deepEqual(Buffer.from(blob), Buffer.from(again));
  }
});

test('a blob reads back from an unaligned Buffer (as SQLite returns them)', () => {
  const columns = createLineColumns(3);
  columns.amountCents.set([-5, 7, 123456789012]);
  columns.beneficiary.set([1, 2, 3]);
  columns.source.set([9, 9, 9]);
  const bytes = new Uint8Array(1 + orderLinesBytes(3));
  writeOrderLines(new DataView(bytes.buffer), 1, columns, 0, 3);
  const lines = readOrderLines(bytes.subarray(1));
  assert.deepEqual(
    lines.map((line) => [line.beneficiary, line.amountCents]),
    [
      [1, -5],
      [2, 7],
      [3, 123456789012],
    ],
  );
});
