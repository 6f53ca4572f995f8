import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  COLUMN_ALIGN_BYTES,
  ELEMENT_BYTES,
  SLOT_NONE,
  assertTableLayout,
  attachShared,
  attachTable,
  column,
  createTable,
  defineStruct,
  defineTable,
  f64,
  growTable,
  i32,
  layoutFor,
  readStruct,
  shareTable,
  slot,
  tableBytes,
  u16,
  u8,
  writeStruct,
} from '../native-layout/index.js';
import type { TableLayout, TableFields } from '../native-layout/index.js';

/**
 * A deliberately awkward table: odd-sized columns between 8-byte ones, so alignment padding
 * shows up at small capacities. It is also the shape the engine's event batches will take.
 */
const BATCH = defineTable('eventBatch', 1, {
  kind: u8,
  slot,
  seq: f64,
  level: u16,
  amountCents: f64,
  flags: column('u8', 7),
});

const assertionError = { name: 'AssertionError', code: 'UPLINE_ASSERTION' };

describe('defineTable / layoutFor', () => {
  it('places columns in declaration order, 8-aligned, without overlap', () => {
    const layout = layoutFor(BATCH, 5);
    const offsets = layout.columns.map((region) => [region.name, region.byteOffset]);
    // kind 5 B -> pad to 8; slot 20 B -> 32; seq 40 B -> 72; level 10 B -> 88; amount 40 B.
    assert.deepEqual(offsets, [
      ['kind', 0],
      ['slot', 8],
      ['seq', 32],
      ['level', 72],
      ['amountCents', 88],
      ['flags', 128],
    ]);
    assert.equal(layout.byteLength, 136);
    assert.equal(BATCH.bytesPerRow, 1 + 4 + 8 + 2 + 8 + 1);
    for (const region of layout.columns) {
      assert.equal(region.byteOffset % COLUMN_ALIGN_BYTES, 0, region.name);
      assert.equal(region.byteLength, 5 * ELEMENT_BYTES[region.type], region.name);
    }
  });

  it('has no padding at all when the capacity is a multiple of 8', () => {
    const layout = layoutFor(BATCH, 64);
    assert.equal(layout.byteLength, 64 * BATCH.bytesPerRow);
  });

  it('refuses bad capacities, names and fills', () => {
    assert.throws(() => layoutFor(BATCH, 0), assertionError);
    assert.throws(() => layoutFor(BATCH, 1.5), assertionError);
    assert.throws(() => layoutFor(BATCH, 2 ** 31), assertionError);
    assert.throws(() => defineTable('bad name', 1, { a: u8 }), assertionError);
    assert.throws(() => defineTable('t', 0, { a: u8 }), assertionError);
    assert.throws(() => defineTable('t', 1, {}), assertionError);
    assert.throws(() => defineTable('t', 1, { '0': u8 }), assertionError);
    assert.throws(() => column('u8', -1), assertionError);
    assert.throws(() => column('i32', 2 ** 31), assertionError);
    assert.throws(() => column('f64', Number.NaN), assertionError);
  });

  it('catches overlapping, misaligned and overflowing regions', () => {
    const good = layoutFor(BATCH, 5);
    const tamper = (index: number, byteOffset: number): TableLayout<TableFields> => {
      const columns = good.columns.map((region, at) =>
        at === index ? { ...region, byteOffset } : region,
      );
      return { ...good, columns };
    };
    assertTableLayout(good);
    assert.throws(() => assertTableLayout(tamper(2, 24)), /overlaps/);
    assert.throws(() => assertTableLayout(tamper(1, 12)), /not aligned/);
    assert.throws(() => assertTableLayout({ ...good, byteLength: 128 }), /overflows/);
    assert.throws(() => assertTableLayout({ ...good, byteLength: 132 }), /not aligned/);
    assert.throws(() => assertTableLayout(tamper(2, 40)), /gap/);
  });

  it('gives each declaration its own fingerprint', () => {
    const base = { a: i32, b: f64 };
    const hash = defineTable('t', 1, base).hash;
    assert.equal(defineTable('t', 1, { a: i32, b: f64 }).hash, hash, 'stable');
    assert.notEqual(defineTable('u', 1, base).hash, hash, 'name');
    assert.notEqual(defineTable('t', 2, base).hash, hash, 'version');
    assert.notEqual(defineTable('t', 1, { b: f64, a: i32 }).hash, hash, 'order');
    assert.notEqual(defineTable('t', 1, { a: column('u32'), b: f64 }).hash, hash, 'type');
    assert.notEqual(defineTable('t', 1, { a: slot, b: f64 }).hash, hash, 'fill');
    assert.notEqual(defineTable('t', 1, { a: i32, c: f64 }).hash, hash, 'field name');
  });
});

describe('createTable views', () => {
  it('are typed from the declaration and start at the fill values', () => {
    const handle = createTable(BATCH, 5);
    const seq: Float64Array = handle.views.seq;
    const slots: Int32Array = handle.views.slot;
    const level: Uint16Array = handle.views.level;
    assert.deepEqual([...slots], [-1, -1, -1, -1, -1]);
    assert.deepEqual([...handle.views.flags], [7, 7, 7, 7, 7]);
    assert.deepEqual([...seq], [0, 0, 0, 0, 0]);
    assert.deepEqual([...level], [0, 0, 0, 0, 0]);
    assert.equal(handle.generation, 0);
    assert.ok(Object.isFrozen(handle.views));
  });

  it('write exactly the bytes the layout names (read through a second view)', () => {
    const handle = createTable(BATCH, 5);
    const { seq: seqRegion, slot: slotRegion, level: levelRegion } = handle.layout.column;
    handle.views.seq[3] = 12345.5;
    handle.views.slot[4] = 0x01020304;
    handle.views.level[2] = 0xbeef;
    const data = new DataView(handle.buffer);
    assert.equal(data.getFloat64(seqRegion.byteOffset + 3 * 8, true), 12345.5);
    assert.equal(data.getInt32(slotRegion.byteOffset + 4 * 4, true), 0x01020304);
    assert.equal(data.getUint16(levelRegion.byteOffset + 2 * 2, true), 0xbeef);
    // A byte view that starts inside the buffer, at the column: offsets relative to it.
    const slotBytes = new Uint8Array(handle.buffer, slotRegion.byteOffset, slotRegion.byteLength);
    assert.equal(slotBytes.byteOffset, 8);
    assert.deepEqual([...slotBytes.subarray(16, 20)], [0x04, 0x03, 0x02, 0x01]);
    assert.deepEqual([...slotBytes.subarray(0, 4)], [0xff, 0xff, 0xff, 0xff], 'fill -1');
    // And a DataView with a non-zero byteOffset reads the same f64.
    const seqData = new DataView(handle.buffer, seqRegion.byteOffset + 8, 4 * 8);
    assert.equal(seqData.getFloat64(2 * 8, true), 12345.5);
    // Writing through raw bytes shows up in the typed view.
    data.setFloat64(seqRegion.byteOffset, -7, true);
    assert.equal(handle.views.seq[0], -7);
  });

  it('keep padding bytes zero and columns apart', () => {
    const handle = createTable(BATCH, 5);
    for (const name of BATCH.fieldNames) handle.views[name].fill(0xff);
    const bytes = tableBytes(handle);
    const kindEnd = handle.layout.column.kind.byteLength;
    assert.deepEqual([...bytes.subarray(kindEnd, handle.layout.column.slot.byteOffset)], [0, 0, 0]);
  });
});

describe('attachTable / growTable', () => {
  it('attaches to an existing buffer and sees the same memory', () => {
    const owner = createTable(BATCH, 5);
    const reader = attachTable(BATCH, owner.buffer, 5);
    owner.views.amountCents[1] = 99;
    assert.equal(reader.views.amountCents[1], 99);
    assert.equal(reader.views.slot[0], SLOT_NONE, 'attach does not refill');
    const viaShare = attachShared(BATCH, shareTable(owner));
    assert.equal(viaShare.views.amountCents[1], 99);
  });

  it('refuses a buffer of the wrong length or another layout', () => {
    const owner = createTable(BATCH, 5);
    assert.throws(() => attachTable(BATCH, owner.buffer, 6), /needs/);
    assert.throws(() => attachTable(BATCH, new SharedArrayBuffer(8), 5), /needs/);
    const other = defineTable('eventBatch', 2, BATCH.fields);
    assert.throws(() => attachShared(other, shareTable(owner)), {
      name: 'UplineError',
      code: 'UPLINE_LAYOUT_MISMATCH',
    });
  });

  it('grows by handover: old rows copied, new rows filled, old handle untouched', () => {
    const old = createTable(BATCH, 5);
    for (let row = 0; row < 5; row++) {
      old.views.slot[row] = row * 10;
      old.views.seq[row] = row + 0.25;
      old.views.flags[row] = row;
      old.views.level[row] = 1000 + row;
    }
    const next = growTable(old, 11);
    assert.equal(next.generation, 1);
    assert.equal(next.capacity, 11);
    assert.notEqual(next.buffer, old.buffer);
    assert.deepEqual([...next.views.slot], [0, 10, 20, 30, 40, -1, -1, -1, -1, -1, -1]);
    assert.deepEqual([...next.views.flags], [0, 1, 2, 3, 4, 7, 7, 7, 7, 7, 7]);
    assert.deepEqual([...next.views.seq.subarray(0, 5)], [0.25, 1.25, 2.25, 3.25, 4.25]);
    assert.deepEqual([...next.views.level.subarray(4, 6)], [1004, 0]);
    next.views.slot[0] = 555;
    assert.equal(old.views.slot[0], 0, 'the old buffer is not shared with the new one');
    assert.equal(growTable(next, 12).generation, 2);
    assert.throws(() => growTable(next, 11), assertionError);
  });
});

describe('defineStruct', () => {
  const HEADER = defineStruct('testHeader', 1, {
    tag: 'u8',
    pad: 'u8',
    small: 'i16',
    count: 'u32',
    total: 'f64',
    big: 'u64',
  });

  it('lays fields out at natural alignment with SIZEOF a multiple of 8', () => {
    assert.deepEqual(HEADER.offsets, { tag: 0, pad: 1, small: 2, count: 4, total: 8, big: 16 });
    assert.equal(HEADER.SIZEOF, 24);
  });

  it('refuses implicit padding and odd sizes', () => {
    assert.throws(() => defineStruct('s', 1, { a: 'u8', b: 'u32', c: 'u8', d: 'u16' }), /padding/);
    assert.throws(() => defineStruct('s', 1, { a: 'u32' }), /multiple of 8/);
  });

  it('writes little-endian at any byte offset and reads back', () => {
    const bytes = new Uint8Array(3 + HEADER.SIZEOF + 5);
    const value = {
      tag: 0xab,
      pad: 0,
      small: -2,
      count: 0xdeadbeef,
      total: 2 ** 53 - 1,
      big: 2n ** 64n - 2n,
    };
    writeStruct(HEADER, bytes, 3, value);
    assert.deepEqual(readStruct(HEADER, bytes, 3), value);
    assert.deepEqual([...bytes.subarray(3 + 4, 3 + 8)], [0xef, 0xbe, 0xad, 0xde]);
    assert.deepEqual([...bytes.subarray(3 + 2, 3 + 4)], [0xfe, 0xff]);
    const shifted = new DataView(bytes.buffer, 3);
    assert.equal(shifted.getBigUint64(16, true), 2n ** 64n - 2n);
    assert.equal(shifted.getFloat64(8, true), 2 ** 53 - 1);
    // Via a Buffer that is itself a view with a non-zero offset into a bigger pool.
    const buffer = Buffer.from(bytes.buffer, 3, HEADER.SIZEOF);
    assert.deepEqual(readStruct(HEADER, buffer), value);
  });

  it('refuses values that do not fit and records that do not fit', () => {
    const bytes = new Uint8Array(HEADER.SIZEOF);
    const value = { tag: 1, pad: 0, small: 0, count: 0, total: 0, big: 0n };
    assert.throws(() => writeStruct(HEADER, bytes, 0, { ...value, tag: 256 }), assertionError);
    assert.throws(() => writeStruct(HEADER, bytes, 0, { ...value, count: -1 }), assertionError);
    assert.throws(() => writeStruct(HEADER, bytes, 0, { ...value, big: -1n }), assertionError);
    assert.throws(() => writeStruct(HEADER, bytes, 0, { ...value, total: Infinity }));
    assert.throws(() => writeStruct(HEADER, bytes, 1, value), /does not fit/);
    assert.throws(() => readStruct(HEADER, bytes.subarray(1)), /does not fit/);
  });
});
