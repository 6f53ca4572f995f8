import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  DISTRIBUTOR_ID_MAX,
  DISTRIBUTORS,
  ID_INDEX,
  ID_INDEX_TAG_SHIFT,
  IdIndex,
  attachShared,
  createTable,
  growTable,
  hashId,
  idIndexCapacityFor,
  layoutFor,
  shareTable,
} from '../native-layout/index.js';
import type { IdIndexDistributors } from '../native-layout/index.js';

const assertionError = { name: 'AssertionError', code: 'UPLINE_ASSERTION' };

type Op =
  | { readonly kind: 'set'; readonly id: number }
  | { readonly kind: 'get'; readonly id: number }
  | { readonly kind: 'grow'; readonly doubleIndex: boolean };

// Small ids collide often in a 16-position index; large ones exercise the whole i32 range.
const idArbitrary = fc.oneof(
  fc.integer({ min: 1, max: 64 }),
  fc.integer({ min: 1, max: DISTRIBUTOR_ID_MAX }),
  fc.constantFrom(1, DISTRIBUTOR_ID_MAX, 0x4000_0000, 0x7fff_fff0),
);

const opArbitrary: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: idArbitrary.map((id): Op => ({ kind: 'set', id })) },
  { weight: 4, arbitrary: idArbitrary.map((id): Op => ({ kind: 'get', id })) },
  { weight: 1, arbitrary: fc.boolean().map((doubleIndex): Op => ({ kind: 'grow', doubleIndex })) },
);

/** A distributor table and its index, grown together as EngineState grows them. */
interface Pair {
  table: IdIndexDistributors;
  index: IdIndex;
}

/** growTable, then the index over the grown table: at the capacity that goes with it, or 2x. */
function growPair(pair: Pair, doubleIndex: boolean): void {
  const previous = pair.index;
  const table = growTable(pair.table, pair.table.capacity * 2);
  const lockstep = Math.max(previous.capacity, idIndexCapacityFor(table.capacity));
  const index = doubleIndex ? previous.grow(table, lockstep * 2) : previous.grow(table);
  assert.equal(index.capacity, doubleIndex ? lockstep * 2 : lockstep);
  assert.equal(index.generation, table.generation, 'the index follows the table generation');
  assert.equal(index.distributors, table);
  assert.ok(index.buffer !== previous.buffer, 'a new buffer even at the same capacity');
  assert.throws(() => previous.set(1, 0), /read-only/, 'the old writer is retired');
  pair.table = table;
  pair.index = index;
}

/**
 * Runs `ops` against an IdIndex over a DISTRIBUTORS table and a Map; each set enrolls the id
 * in the next row first (as EngineState.addDistributor does), growing both when it is full.
 */
function runAgainstOracle(ops: readonly Op[]): void {
  const first = createTable(DISTRIBUTORS, 4);
  const pair: Pair = { table: first, index: IdIndex.create(idIndexCapacityFor(4), first) };
  const oracle = new Map<number, number>();
  for (const op of ops) {
    if (op.kind === 'grow') {
      growPair(pair, op.doubleIndex);
    } else if (op.kind === 'get') {
      assert.equal(pair.index.get(op.id), oracle.get(op.id) ?? -1);
    } else {
      const slot = oracle.size;
      if (slot === pair.table.capacity) growPair(pair, false);
      pair.table.views.externalId[slot] = op.id;
      if (oracle.has(op.id)) {
        // Two rows with one id: refused, and the index still answers the first row.
        assert.throws(() => pair.index.set(op.id, slot), /already in the index/);
        pair.table.views.externalId[slot] = 0;
        assert.equal(pair.index.get(op.id), oracle.get(op.id));
      } else {
        pair.index.set(op.id, slot);
        oracle.set(op.id, slot);
      }
    }
    assert.equal(pair.index.size, oracle.size);
    assert.ok(pair.index.size * 4 <= pair.index.capacity * 3, 'load factor <= 3/4');
  }
  for (const [id, slot] of oracle) assert.equal(pair.index.get(id), slot);
  // A worker attaches the table first, then the index over it, and agrees entry for entry.
  const table = attachShared(DISTRIBUTORS, shareTable(pair.table));
  const reader = IdIndex.attachShared(pair.index.share(), table);
  assert.equal(reader.size, oracle.size);
  assert.equal(reader.generation, pair.index.generation);
  for (const [id, slot] of oracle) assert.equal(reader.get(id), slot);
}

/** An index of `positions` over a table of `rows`, holding `ids` in slots 0, 1, ... */
function indexOf(ids: readonly number[], rows = 32, positions = 32) {
  const table = createTable(DISTRIBUTORS, rows);
  const index = IdIndex.create(positions, table);
  ids.forEach((id, slot) => {
    table.views.externalId[slot] = id;
    index.set(id, slot);
  });
  return { table, index };
}

describe('IdIndex', () => {
  it('agrees with a Map under random sets, gets and growth (fast-check, seeded)', () => {
    fc.assert(
      fc.property(fc.array(opArbitrary, { maxLength: 400 }), (ops) => runAgainstOracle(ops)),
      { seed: 42, numRuns: 200 },
    );
  });

  it('stores every id of a dense range and spreads sequential ids', () => {
    let table = createTable(DISTRIBUTORS, 16);
    let index = IdIndex.create(idIndexCapacityFor(16), table);
    for (let id = 1; id <= 5000; id++) {
      if (id - 1 === table.capacity) {
        table = growTable(table, table.capacity * 2);
        index = index.grow(table);
      }
      table.views.externalId[id - 1] = id;
      index.set(id, id - 1);
    }
    assert.equal(index.capacity, 16384); // in lockstep with 8192 rows: 2 positions a row
    for (let id = 1; id <= 5000; id++) assert.equal(index.get(id), id - 1);
    assert.equal(index.get(5001), -1);
    const homes = new Set<number>();
    for (let id = 1; id <= 1024; id++) homes.add(hashId(id) & 2047);
    assert.ok(homes.size > 700, `sequential ids crowd together: ${homes.size} homes`);
  });

  it('writes tagged slots only, where the ID_INDEX layout says; keys stay in the rows', () => {
    const { table, index } = indexOf([77], 32, 16);
    const layout = layoutFor(ID_INDEX, 16);
    assert.deepEqual(Object.keys(layout.column), ['entries']);
    assert.equal(index.buffer.byteLength, 16 * 4, '4 bytes a position');
    const position = hashId(77) & 15;
    // Slot 0 with the tag above bit 29: the top 2 bits of 77's hash.
    const entry = (hashId(77) >>> 30) << ID_INDEX_TAG_SHIFT;
    const data = new DataView(index.buffer);
    for (let at = 0; at < 16; at++) {
      const held = data.getInt32(layout.column.entries.byteOffset + at * 4, true);
      assert.equal(held, at === position ? entry : -1, `position ${at}`);
    }
    // The same bytes through a second view that starts one position in (non-zero byteOffset).
    const shifted = new Int32Array(index.buffer, layout.column.entries.byteOffset + 4, 15);
    assert.equal(shifted.filter((held) => held === -1).length, position === 0 ? 15 : 14);
    // The key is the row's: were externalId rewritten (the engine never does), 77 is gone.
    table.views.externalId[0] = 78;
    assert.equal(index.get(77), -1);
  });

  it('passes an entry whose tag differs without taking its row for a match', () => {
    // Two ids with one home in 16 positions but different tags; the first's row is rewritten
    // to the second's id (corruption the engine never makes): the tag still tells them apart.
    const home = (id: number) => hashId(id) & 15;
    const tag = (id: number) => hashId(id) >>> 30;
    let second = 2;
    while (home(second) !== home(1) || tag(second) === tag(1)) second++;
    const { table, index } = indexOf([1], 32, 16);
    table.views.externalId[0] = second;
    assert.equal(index.get(second), -1, 'a different tag is not read as a match');
    table.views.externalId[0] = 1;
    assert.equal(index.get(1), 0);
  });

  it('confirms every probe against externalId: colliding ids sit side by side', () => {
    // Ids sharing a home position in 16 positions, all stored and each found at its own slot.
    const home = hashId(1) & 15;
    const colliding: number[] = [];
    for (let id = 1; colliding.length < 5; id++) if ((hashId(id) & 15) === home) colliding.push(id);
    const { index } = indexOf(colliding, 32, 16);
    colliding.forEach((id, slot) => assert.equal(index.get(id), slot));
    let absent = (colliding.at(-1) ?? 0) + 1;
    while ((hashId(absent) & 15) !== home) absent++;
    assert.equal(index.get(absent), -1, 'a miss walks the run to the empty position');
  });

  it('indexes a row only once it holds the id, and each id and slot once', () => {
    const table = createTable(DISTRIBUTORS, 8);
    const index = IdIndex.create(16, table);
    assert.throws(() => index.set(5, 0), /holds id 0, not 5: write the row first/);
    table.views.externalId[0] = 5;
    index.set(5, 0);
    assert.throws(() => index.set(5, 0), /already in the index \(slot 0\)/);
    table.views.externalId[1] = 5;
    assert.throws(() => index.set(5, 1), /already in the index \(slot 0\)/);
    assert.equal(index.size, 1);
    assert.throws(() => index.set(6, 8), /bad slot 8/, 'a slot beyond the table');
  });

  it('refuses invalid ids, slots, capacities, pairings and overfilling (fast-check)', () => {
    const { table, index } = indexOf([], 32, 16);
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
    assert.throws(() => IdIndex.create(24, table), /power of 2/);
    assert.throws(() => IdIndex.create(8, table), /small/);
    for (let slot = 0; slot < 12; slot++) table.views.externalId[slot] = (slot + 1) * 1000;
    for (let slot = 0; slot < 12; slot++) index.set((slot + 1) * 1000, slot); // 3/4 of 16
    table.views.externalId[12] = 99_999;
    assert.throws(() => index.set(99_999, 12), /full/);
    const grown = growTable(table, 64);
    assert.throws(() => index.grow(grown, 8), /must not shrink/);
    assert.throws(() => index.grow(table), /newer DISTRIBUTORS/, 'the same table is no growth');
    const other = createTable(DISTRIBUTORS, 64);
    assert.throws(() => index.grow(other), /newer DISTRIBUTORS/, 'a table of another lineage');
    // Growth rebuilds from the rows: a row holding an id the index never took is refused.
    assert.equal(grown.views.externalId[12], 99_999, 'the refused row was written first');
    assert.throws(() => index.grow(grown), /13 rows hold an id, the id index held 12/);
    grown.views.externalId[12] = 0;
    const rebuilt = index.grow(grown);
    assert.equal(rebuilt.size, 12);
    for (let slot = 0; slot < 12; slot++) assert.equal(rebuilt.get((slot + 1) * 1000), slot);
  });

  it('pairs an index with the table of its own generation only', () => {
    const { table, index } = indexOf([3, 4]);
    const grownTable = growTable(table, 64);
    const grownIndex = index.grow(grownTable);
    assert.equal(grownIndex.get(4), 1);
    assert.equal(index.get(4), 1, 'the old pair still answers, for readers that hold it');
    assert.throws(() => IdIndex.attachShared(grownIndex.share(), table), /generation 1 paired/);
    assert.throws(() => IdIndex.attachShared(index.share(), grownTable), /generation 0 paired/);
    const reader = IdIndex.attachShared(grownIndex.share(), grownTable);
    assert.equal(reader.get(3), 0);
  });

  it('attached readers are read-only and check the buffer they are given', () => {
    const { table, index: writer } = indexOf([3]);
    const reader = IdIndex.attach(writer.buffer, 32, table);
    assert.equal(reader.writable, false);
    assert.equal(reader.get(3), 0);
    table.views.externalId[1] = 4;
    assert.throws(() => reader.set(4, 1), /read-only/);
    assert.throws(() => reader.grow(growTable(table, 64)), assertionError);
    assert.throws(() => IdIndex.attach(writer.buffer, 64, table), /needs/);
    // A position naming a row without an id, or no row at all, is corruption, caught at attach.
    const entries = new Int32Array(
      writer.buffer,
      layoutFor(ID_INDEX, 32).column.entries.byteOffset,
    );
    const free = (hashId(3) + 1) & 31;
    entries[free] = 2;
    assert.throws(() => IdIndex.attach(writer.buffer, 32, table), /names slot 2, no id/);
    entries[free] = 32;
    assert.throws(() => IdIndex.attach(writer.buffer, 32, table), /holds 32: no slot/);
    entries[free] = -2;
    assert.throws(() => IdIndex.attach(writer.buffer, 32, table), /holds -2: no slot/);
    // A slot whose row holds an id, under another id's tag.
    const own = entries[hashId(3) & 31]!;
    entries[free] = own ^ (1 << ID_INDEX_TAG_SHIFT);
    assert.throws(() => IdIndex.attach(writer.buffer, 32, table), /the tag is not id 3's/);
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
