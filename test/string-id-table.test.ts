import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { layoutFor } from '../native-layout/schema.js';
import {
  STRING_IDS,
  STRING_IDS_CAPACITY_MIN,
  fingerprintString,
  stringIdsCapacityFor,
} from '../native-layout/string-ids.js';
import type { ConfirmEntry, Fingerprint } from '../src/engine/string-id-table.js';
import { StringIdTable } from '../src/engine/string-id-table.js';

const assertionError = { name: 'AssertionError', code: 'UPLINE_ASSERTION' };
const corrupt = { name: 'UplineError', code: 'UPLINE_IO' };

/**
 * What the engine does: values are unique (a seq, a row), and `confirm` looks the value up in
 * the "log" to see whether its key is the one asked for. One function per oracle, made once.
 */
class Log {
  readonly keyOf = new Map<number, string>();
  confirmCalls = 0;
  readonly confirm: ConfirmEntry = (value, key) => {
    this.confirmCalls++;
    return this.keyOf.get(value) === key;
  };
}

type Op =
  | { readonly kind: 'set'; readonly key: string }
  | { readonly kind: 'get'; readonly key: string }
  | { readonly kind: 'update'; readonly key: string }
  | { readonly kind: 'grow' }
  | { readonly kind: 'reserve'; readonly size: number };

// A small alphabet repeats keys often; full code units (surrogates included) exercise the hash.
const keyArbitrary = fc.oneof(
  fc.string({ minLength: 1, maxLength: 3, unit: fc.constantFrom('a', 'b', 'c') }),
  fc.string({ minLength: 1, maxLength: 64, unit: 'binary' }).filter((key) => key.length <= 64),
  fc.string({ minLength: 64, maxLength: 64 }),
);

const opArbitrary: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: keyArbitrary.map((key): Op => ({ kind: 'set', key })) },
  { weight: 4, arbitrary: keyArbitrary.map((key): Op => ({ kind: 'get', key })) },
  { weight: 2, arbitrary: keyArbitrary.map((key): Op => ({ kind: 'update', key })) },
  { weight: 1, arbitrary: fc.constant<Op>({ kind: 'grow' }) },
  {
    weight: 1,
    arbitrary: fc.integer({ min: 0, max: 300 }).map((size): Op => ({ kind: 'reserve', size })),
  },
);

/** Runs `ops` against a table and a Map; every few values are packed like the engine's. */
function runAgainstOracle(ops: readonly Op[], fingerprint?: Fingerprint): void {
  const table = StringIdTable.create(STRING_IDS_CAPACITY_MIN, fingerprint);
  const oracle = new Map<string, number>();
  const log = new Log();
  let nextValue = 0;
  for (const op of ops) {
    if (op.kind === 'grow') {
      const generation = table.generation;
      table.grow();
      assert.equal(table.generation, generation + 1);
    } else if (op.kind === 'reserve') {
      table.reserve(op.size);
      assert.ok(table.sizeMax >= op.size);
    } else if (op.kind === 'get') {
      assert.equal(table.get(op.key, log.confirm), oracle.get(op.key) ?? -1);
    } else if (op.kind === 'update') {
      const value = nextValue++ * 32 + 7;
      if (!oracle.has(op.key)) {
        assert.throws(() => table.update(op.key, value, log.confirm), /not in the table/);
        continue;
      }
      table.update(op.key, value, log.confirm);
      log.keyOf.set(value, op.key);
      oracle.set(op.key, value);
    } else if (table.get(op.key, log.confirm) !== -1) {
      assert.ok(oracle.has(op.key));
      assert.throws(() => table.set(op.key, 1, log.confirm), /already/);
    } else {
      assert.ok(!oracle.has(op.key));
      const value = nextValue++ * 32;
      table.set(op.key, value, log.confirm);
      log.keyOf.set(value, op.key);
      oracle.set(op.key, value);
    }
    assert.equal(table.size, oracle.size);
    assert.ok(table.size * 4 <= table.capacity * 3, 'load <= 3/4');
  }
  for (const [key, value] of oracle) assert.equal(table.get(key, log.confirm), value);
  const restored = StringIdTable.fromBytes(table.bytes(), table.capacity, table.size, fingerprint);
  for (const [key, value] of oracle) assert.equal(restored.get(key, log.confirm), value);
}

/** Every key has the same fingerprint: only `confirm` can tell them apart. */
const allCollide: Fingerprint = (_key, out) => {
  out[0] = 0x1234_5678;
  out[1] = 0x9abc_def0;
};

describe('StringIdTable', () => {
  it('agrees with a Map under random sets, gets, updates and growth (fast-check, seeded)', () => {
    fc.assert(
      fc.property(fc.array(opArbitrary, { maxLength: 400 }), (ops) => runAgainstOracle(ops)),
      { seed: 42, numRuns: 200 },
    );
  });

  it('agrees with a Map when every fingerprint collides (fast-check, seeded)', () => {
    fc.assert(
      fc.property(fc.array(opArbitrary, { maxLength: 120 }), (ops) => {
        runAgainstOracle(ops, allCollide);
      }),
      { seed: 7, numRuns: 100 },
    );
  });

  it('respects confirm on a fingerprint collision: two keys, one fingerprint, both kept', () => {
    const table = StringIdTable.create(16, allCollide);
    const log = new Log();
    table.set('first', 32, log.confirm);
    log.keyOf.set(32, 'first');
    assert.equal(log.confirmCalls, 0, 'nothing to confirm in an empty table');
    // A fingerprint match that confirm rejects is not a duplicate: probing goes on.
    assert.equal(table.get('second', log.confirm), -1);
    assert.equal(log.confirmCalls, 1);
    table.set('second', 64, log.confirm);
    log.keyOf.set(64, 'second');
    assert.equal(table.size, 2);
    assert.equal(table.get('first', log.confirm), 32);
    assert.equal(table.get('second', log.confirm), 64);
    table.update('second', 96, log.confirm);
    log.keyOf.set(96, 'second');
    assert.equal(table.get('second', log.confirm), 96);
    assert.equal(table.get('first', log.confirm), 32);
    assert.throws(() => table.set('first', 128, log.confirm), /already/);
    // A caller that never confirms sees no key at all, even with the fingerprint present.
    assert.equal(
      table.get('first', () => false),
      -1,
    );
    // Growth rehashes by the stored fingerprint and keeps both.
    table.grow(64);
    assert.equal(table.get('first', log.confirm), 32);
    assert.equal(table.get('second', log.confirm), 96);
  });

  it('grows by itself at load 3/4 and sizes ahead with createFor', () => {
    const table = StringIdTable.create(16);
    const log = new Log();
    for (let index = 0; index < 12; index++) table.set(`k${index}`, index);
    assert.equal(table.capacity, 16, '12 keys fit 16 positions');
    table.set('k12', 12);
    assert.equal(table.capacity, 32);
    assert.equal(table.generation, 1);
    for (let index = 0; index <= 12; index++) log.keyOf.set(index, `k${index}`);
    for (let index = 0; index <= 12; index++) {
      assert.equal(table.get(`k${index}`, log.confirm), index);
    }
    assert.equal(StringIdTable.createFor(6_000_000).capacity, 2 ** 23);
    assert.equal(stringIdsCapacityFor(0), 16);
    assert.equal(stringIdsCapacityFor(12), 16);
    assert.equal(stringIdsCapacityFor(13), 32);
  });

  it('restores from bytes and refuses bytes that break its invariants', () => {
    const table = StringIdTable.create(16);
    const log = new Log();
    for (let index = 0; index < 10; index++) {
      table.set(`order-${index}`, index);
      log.keyOf.set(index, `order-${index}`);
    }
    const bytes = table.bytes().slice();
    const restored = StringIdTable.fromBytes(bytes, 16, 10);
    for (let index = 0; index < 10; index++) {
      assert.equal(restored.get(`order-${index}`, log.confirm), index);
    }
    assert.throws(() => StringIdTable.fromBytes(bytes, 16, 9), corrupt);
    assert.throws(() => StringIdTable.fromBytes(bytes.subarray(8), 16, 10), corrupt);
    assert.throws(() => StringIdTable.fromBytes(bytes, 16, 13), corrupt);
    const layout = layoutFor(STRING_IDS, 16);
    const hashA = new Uint32Array(bytes.buffer, layout.column.hashA.byteOffset, 16);
    const hashB = new Uint16Array(bytes.buffer, layout.column.hashB.byteOffset, 16);
    const valueLow = new Uint32Array(bytes.buffer, layout.column.valueLow.byteOffset, 16);
    const valueHigh = new Uint16Array(bytes.buffer, layout.column.valueHigh.byteOffset, 16);
    const empty = hashA.findIndex((a) => a === 0);
    for (const column of [hashB, valueLow, valueHigh]) {
      column[empty] = 3;
      assert.throws(() => StringIdTable.fromBytes(bytes, 16, 10), /empty/);
      column[empty] = 0;
    }
    assert.equal(StringIdTable.fromBytes(bytes, 16, 10).size, 10, 'restored once mended');
  });

  it('refuses corrupted bytes with UPLINE_IO or restores a table that still works (fuzz)', () => {
    const table = StringIdTable.create(64);
    const log = new Log();
    for (let index = 0; index < 40; index++) {
      table.set(`id-${index}`, index);
      log.keyOf.set(index, `id-${index}`);
    }
    const layout = layoutFor(STRING_IDS, 64);
    const corruption = fc.record({
      byteIndex: fc.integer({ min: 0, max: layout.byteLength - 1 }),
      byte: fc.integer({ min: 0, max: 255 }),
    });
    fc.assert(
      fc.property(fc.array(corruption, { minLength: 1, maxLength: 4 }), (changes) => {
        const bytes = table.bytes().slice();
        for (const { byteIndex, byte } of changes) bytes[byteIndex] = byte;
        let restored: StringIdTable;
        try {
          restored = StringIdTable.fromBytes(bytes, 64, 40);
        } catch (error) {
          // Only ever the operating error: the fast scan and the plain checks agree.
          assert.equal((error as { code?: string }).code, 'UPLINE_IO');
          return;
        }
        // Accepted: every invariant holds, so lookups terminate and a new key can be stored.
        for (let index = 0; index < 40; index++) restored.get(`id-${index}`, log.confirm);
        restored.set('new-key', 1_000);
        assert.equal(restored.size, 41);
      }),
      { seed: 42, numRuns: 500 },
    );
  });

  it('refuses an entry placed where a probe from its home cannot reach it', () => {
    const table = StringIdTable.create(16);
    table.set('lonely', 1);
    const bytes = table.bytes().slice();
    const layout = layoutFor(STRING_IDS, 16);
    const hashA = new Uint32Array(bytes.buffer, layout.column.hashA.byteOffset, 16);
    const hashB = new Uint16Array(bytes.buffer, layout.column.hashB.byteOffset, 16);
    const valueLow = new Uint32Array(bytes.buffer, layout.column.valueLow.byteOffset, 16);
    const home = hashA.findIndex((a) => a !== 0);
    // Move the entry one position past its home, leaving its home empty.
    const moved = (home + 1) & 15;
    hashA[moved] = hashA[home] ?? 0;
    hashB[moved] = hashB[home] ?? 0;
    valueLow[moved] = 1;
    hashA[home] = 0;
    hashB[home] = 0;
    valueLow[home] = 0;
    assert.throws(() => StringIdTable.fromBytes(bytes, 16, 1), /unreachable/);
  });

  it('writes the fingerprint and value at the offsets the STRING_IDS layout names', () => {
    const table = StringIdTable.create(32);
    const value = 2 ** 32 * 1347 + 42 * 32 + 3; // both value columns in use
    table.set('evt-42', value);
    const fingerprint = new Uint32Array(2);
    fingerprintString('evt-42', fingerprint);
    const [a = 0, b = 0] = fingerprint;
    const position = a & 31;
    const layout = layoutFor(STRING_IDS, 32);
    // A second view at a non-zero byteOffset: the bytes copied 8 bytes into a larger buffer.
    const copy = new Uint8Array(8 + layout.byteLength);
    copy.set(table.bytes(), 8);
    const data = new DataView(copy.buffer, 8);
    assert.equal(data.getUint32(layout.column.hashA.byteOffset + position * 4, true), a);
    assert.equal(data.getUint16(layout.column.hashB.byteOffset + position * 2, true), b & 0xffff);
    assert.equal(
      data.getUint32(layout.column.valueLow.byteOffset + position * 4, true),
      42 * 32 + 3,
    );
    assert.equal(data.getUint16(layout.column.valueHigh.byteOffset + position * 2, true), 1347);
    const next = (position + 1) & 31;
    assert.equal(data.getUint32(layout.column.hashA.byteOffset + next * 4, true), 0);
    assert.equal(data.getUint32(layout.column.valueLow.byteOffset + next * 4, true), 0);
    assert.equal(layout.byteLength, 32 * 12);
    assert.equal(
      table.get('evt-42', () => true),
      value,
    );
  });

  it('keeps its fingerprint function: a change must bump STRING_IDS_VERSION', () => {
    // Snapshots hold positions computed by this function; these values pin it down.
    const out = new Uint32Array(2);
    const pinned: [string, number, number][] = [
      ['a', 0x11caa9f5, 0xe4a05d57],
      ['evt-1', 0xe23ac4e8, 0x40e982ae],
      ['order-'.padEnd(64, '0'), 0x30e92efc, 0xbb423214],
      ['\u{1f431}\u0000z', 0x3b1e36f6, 0x7422b772],
    ];
    for (const [key, a, b] of pinned) {
      fingerprintString(key, out);
      assert.deepEqual([...out], [a, b], key);
    }
  });

  it('asserts on invalid keys and values (invalid input, fast-check)', () => {
    const table = StringIdTable.create(16);
    const log = new Log();
    const badKey = fc.oneof(fc.constant(''), fc.string({ minLength: 65, maxLength: 200 }));
    const badValue = fc.oneof(
      fc.integer({ max: -1 }),
      fc.double().filter((value) => !Number.isSafeInteger(value)),
      fc.constantFrom(Number.NaN, Infinity, 2 ** 53, 2 ** 48, -0.5),
    );
    fc.assert(
      fc.property(badKey, badValue, (key, value) => {
        assert.throws(() => table.get(key, log.confirm), assertionError);
        assert.throws(() => table.set(key, 1), assertionError);
        assert.throws(() => table.set('ok', value), assertionError);
        assert.throws(() => table.update('ok', value, log.confirm), assertionError);
      }),
      { seed: 42, numRuns: 300 },
    );
    assert.equal(table.size, 0);
    assert.throws(() => StringIdTable.create(24), /not 2\^k/);
    assert.throws(() => StringIdTable.create(8), assertionError);
    assert.throws(() => table.grow(16), /must grow/);
  });
});
