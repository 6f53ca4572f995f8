import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  DISTRIBUTOR_ID_MAX,
  ID_INDEX,
  IdIndex,
  hashId,
  idIndexCapacityFor,
  layoutFor,
} from '../native-layout/index.js';

const assertionError = { name: 'AssertionError', code: 'UPLINE_ASSERTION' };

type Op =
  | { readonly kind: 'set'; readonly id: number }
  | { readonly kind: 'get'; readonly id: number }
  | { readonly kind: 'grow' };

// Small ids collide often in a 16-position index; large ones exercise the whole i32 range.
const idArbitrary = fc.oneof(
  fc.integer({ min: 1, max: 64 }),
  fc.integer({ min: 1, max: DISTRIBUTOR_ID_MAX }),
  fc.constantFrom(1, DISTRIBUTOR_ID_MAX, 0x4000_0000, 0x7fff_fff0),
);

const opArbitrary: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: idArbitrary.map((id): Op => ({ kind: 'set', id })) },
  { weight: 4, arbitrary: idArbitrary.map((id): Op => ({ kind: 'get', id })) },
  { weight: 1, arbitrary: fc.constant<Op>({ kind: 'grow' }) },
);

/** Runs `ops` against an IdIndex and a Map; grows like the engine: before it would be full. */
function runAgainstOracle(ops: readonly Op[]): void {
  let index = IdIndex.create(16);
  const oracle = new Map<number, number>();
  for (const op of ops) {
    if (op.kind === 'grow') {
      const previous = index;
      index = index.grow();
      assert.equal(index.generation, previous.generation + 1);
      assert.throws(() => previous.set(1, 0), /read-only/, 'the old writer is retired');
    } else if (op.kind === 'get') {
      assert.equal(index.get(op.id), oracle.get(op.id) ?? -1);
    } else if (oracle.has(op.id)) {
      assert.throws(() => index.set(op.id, 0), /already/);
    } else {
      if (index.size === index.sizeMax) index = index.grow();
      index.set(op.id, oracle.size);
      oracle.set(op.id, oracle.size);
    }
    assert.equal(index.size, oracle.size);
    assert.ok(index.size * 4 <= index.capacity * 3, 'load factor <= 3/4');
  }
  for (const [id, slot] of oracle) assert.equal(index.get(id), slot);
  // A reader attached to the final buffer (as a worker would) agrees entry for entry.
  const reader = IdIndex.attachShared(index.share());
  assert.equal(reader.size, oracle.size);
  assert.equal(reader.generation, index.generation);
  for (const [id, slot] of oracle) assert.equal(reader.get(id), slot);
}

describe('IdIndex', () => {
  it('agrees with a Map under random sets, gets and growth (fast-check, seeded)', () => {
    fc.assert(
      fc.property(fc.array(opArbitrary, { maxLength: 400 }), (ops) => runAgainstOracle(ops)),
      { seed: 42, numRuns: 200 },
    );
  });

  it('stores every id of a dense range and spreads sequential ids', () => {
    let index = IdIndex.create(16);
    for (let id = 1; id <= 5000; id++) {
      if (index.size === index.sizeMax) index = index.grow();
      index.set(id, id - 1);
    }
    assert.equal(index.capacity, 8192); // 5000 ids at load <= 3/4
    for (let id = 1; id <= 5000; id++) assert.equal(index.get(id), id - 1);
    assert.equal(index.get(5001), -1);
    const homes = new Set<number>();
    for (let id = 1; id <= 1024; id++) homes.add(hashId(id) & 2047);
    assert.ok(homes.size > 700, `sequential ids crowd together: ${homes.size} homes`);
  });

  it('writes keys and values at the offsets the ID_INDEX layout names', () => {
    const index = IdIndex.create(16);
    index.set(77, 5);
    const layout = layoutFor(ID_INDEX, 16);
    const position = hashId(77) & 15;
    const data = new DataView(index.buffer);
    assert.equal(data.getInt32(layout.column.keys.byteOffset + position * 4, true), 77);
    assert.equal(data.getInt32(layout.column.values.byteOffset + position * 4, true), 5);
    const values = new Int32Array(index.buffer, layout.column.values.byteOffset, 16);
    assert.equal(values.filter((slot) => slot === -1).length, 15, 'other positions are empty');
  });

  it('refuses invalid ids, slots, capacities and overfilling (invalid input, fast-check)', () => {
    const index = IdIndex.create(16);
    const invalidId = fc.oneof(
      fc.integer({ max: 0 }),
      fc.integer({ min: DISTRIBUTOR_ID_MAX + 1, max: Number.MAX_SAFE_INTEGER }),
      fc.double().filter((value) => !Number.isInteger(value)),
      fc.constantFrom(Number.NaN, Infinity, -0.5, 2 ** 32 + 1),
    );
    fc.assert(
      fc.property(invalidId, (id) => {
        assert.throws(() => index.get(id), assertionError);
        assert.throws(() => index.set(id, 0), assertionError);
      }),
      { seed: 42, numRuns: 300 },
    );
    assert.throws(() => index.set(5, -1), assertionError);
    assert.throws(() => index.set(5, 1.5), assertionError);
    assert.throws(() => IdIndex.create(24), /power of 2/);
    assert.throws(() => IdIndex.create(8), /small/);
    for (let id = 1; id <= 12; id++) index.set(id * 1000, id); // 3/4 of 16
    assert.throws(() => index.set(99999, 13), /full/);
    assert.throws(() => index.grow(16), /must grow/);
  });

  it('attached readers are read-only and check the buffer they are given', () => {
    const writer = IdIndex.create(32);
    writer.set(3, 0);
    const reader = IdIndex.attach(writer.buffer, 32);
    assert.equal(reader.writable, false);
    assert.equal(reader.get(3), 0);
    assert.throws(() => reader.set(4, 1), /read-only/);
    assert.throws(() => reader.grow(), assertionError);
    assert.throws(() => IdIndex.attach(writer.buffer, 64), /needs/);
    // A key written without its value is corruption, caught at attach.
    const keys = new Int32Array(writer.buffer, layoutFor(ID_INDEX, 32).column.keys.byteOffset, 32);
    keys[(hashId(3) + 1) & 31] = 9;
    assert.throws(() => IdIndex.attach(writer.buffer, 32), /no slot/);
  });

  it('sizes in lockstep with the distributor table', () => {
    assert.equal(idIndexCapacityFor(1), 16);
    assert.equal(idIndexCapacityFor(8), 16);
    assert.equal(idIndexCapacityFor(1024), 2048);
    assert.equal(idIndexCapacityFor(1025), 2048);
    assert.equal(idIndexCapacityFor(1536), 2048);
    assert.equal(idIndexCapacityFor(1537), 4096);
    assert.equal(idIndexCapacityFor(10_000_000), 2 ** 24);
  });
});
