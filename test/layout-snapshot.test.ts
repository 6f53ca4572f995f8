import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DISTRIBUTORS,
  ID_INDEX,
  IdIndex,
  LAYOUT_VERSION,
  SNAPSHOT_HEADER,
  SNAPSHOT_LAYOUT_HASH,
  SNAPSHOT_MAGIC,
  combineFingerprints,
  createTable,
  decodeSnapshotHeader,
  defineTable,
  encodeSnapshotHeader,
  f64,
  idIndexCapacityFor,
  readStruct,
  snapshotLayout,
  tableBytes,
  writeStruct,
} from '../native-layout/index.js';
import type { SnapshotHeaderInfo } from '../native-layout/index.js';

const info: SnapshotHeaderInfo = {
  distributorCount: 3,
  distributorCapacity: 8,
  idIndexCapacity: 16,
  lastSeq: 2 ** 53 - 1,
  period: 7,
};

const mismatch = { name: 'UplineError', code: 'UPLINE_LAYOUT_MISMATCH' };
const corrupt = { name: 'UplineError', code: 'UPLINE_IO' };

/** A header that passes every check, then has one field replaced. */
function headerWith(field: keyof typeof SNAPSHOT_HEADER.fields, value: number | bigint) {
  const bytes = encodeSnapshotHeader(info);
  const header = { ...readStruct(SNAPSHOT_HEADER, bytes), [field]: value };
  writeStruct(SNAPSHOT_HEADER, bytes, 0, header);
  return bytes;
}

describe('snapshot header', () => {
  it('round-trips, at a non-zero offset too, little-endian with the magic first', () => {
    const bytes = encodeSnapshotHeader(info);
    assert.equal(bytes.byteLength, 64);
    assert.deepEqual(decodeSnapshotHeader(bytes), info);
    const data = new DataView(bytes.buffer);
    assert.equal(data.getUint32(0, true), SNAPSHOT_MAGIC);
    assert.deepEqual([...bytes.subarray(0, 4)], [0x4e, 0x4c, 0x50, 0x55]);
    assert.equal(data.getUint32(SNAPSHOT_HEADER.offsets.layoutVersion, true), LAYOUT_VERSION);
    assert.equal(data.getUint32(SNAPSHOT_HEADER.offsets.layoutHash, true), SNAPSHOT_LAYOUT_HASH);
    assert.equal(data.getFloat64(SNAPSHOT_HEADER.offsets.lastSeq, true), 2 ** 53 - 1);
    const file = new Uint8Array(5 + 64);
    file.set(bytes, 5);
    assert.deepEqual(decodeSnapshotHeader(file, 5), info);
    assert.deepEqual(decodeSnapshotHeader(file.subarray(5)), info);
  });

  it('refuses another file, another version and another layout hash', () => {
    assert.throws(() => decodeSnapshotHeader(headerWith('magic', 0x12345678)), mismatch);
    assert.throws(
      () => decodeSnapshotHeader(headerWith('layoutVersion', LAYOUT_VERSION + 1)),
      mismatch,
    );
    assert.throws(
      () => decodeSnapshotHeader(headerWith('layoutHash', (SNAPSHOT_LAYOUT_HASH ^ 1) >>> 0)),
      mismatch,
    );
  });

  it('is refused when written under a different DISTRIBUTORS declaration', () => {
    // What another build's hash would be had it declared `legs` as f64: different, refused.
    const fields = { ...DISTRIBUTORS.fields, legs: f64 };
    const other = defineTable('distributors', LAYOUT_VERSION, fields);
    const otherHash = combineFingerprints(LAYOUT_VERSION, [
      SNAPSHOT_HEADER.hash,
      other.hash,
      ID_INDEX.hash,
    ]);
    assert.notEqual(otherHash, SNAPSHOT_LAYOUT_HASH);
    const ours = combineFingerprints(LAYOUT_VERSION, [
      SNAPSHOT_HEADER.hash,
      DISTRIBUTORS.hash,
      ID_INDEX.hash,
    ]);
    assert.equal(ours, SNAPSHOT_LAYOUT_HASH);
    assert.throws(() => decodeSnapshotHeader(headerWith('layoutHash', otherHash)), mismatch);
  });

  it('refuses truncated and inconsistent headers as corrupt files', () => {
    assert.throws(() => decodeSnapshotHeader(encodeSnapshotHeader(info).subarray(0, 63)), corrupt);
    assert.throws(() => decodeSnapshotHeader(headerWith('distributorCount', 9)), corrupt);
    assert.throws(() => decodeSnapshotHeader(headerWith('distributorCapacity', 0)), corrupt);
    assert.throws(() => decodeSnapshotHeader(headerWith('idIndexCapacity', 24)), corrupt);
    assert.throws(() => decodeSnapshotHeader(headerWith('lastSeq', 1.5)), corrupt);
    assert.throws(() => decodeSnapshotHeader(headerWith('reserved2', 1n)), corrupt);
  });

  it('will not encode a header that breaks its own invariants', () => {
    const bad = { ...info, distributorCount: 9 };
    assert.throws(() => encodeSnapshotHeader(bad), { name: 'AssertionError' });
    assert.throws(() => encodeSnapshotHeader({ ...info, idIndexCapacity: 2 }), {
      name: 'AssertionError',
    });
  });
});

describe('snapshot file layout', () => {
  it('places header, distributors and id index 8-aligned, back to back', () => {
    const file = snapshotLayout(5, 16);
    assert.deepEqual(file.header, { byteOffset: 0, byteLength: 64 });
    assert.equal(file.distributors.byteOffset, 64);
    assert.equal(file.idIndex.byteOffset % 8, 0);
    assert.ok(file.idIndex.byteOffset >= 64 + file.distributors.byteLength);
    assert.equal(file.byteLength, file.idIndex.byteOffset + 16 * 4);
  });

  it('round-trips tables through one file image', () => {
    const capacity = 8;
    const table = createTable(DISTRIBUTORS, capacity);
    const index = IdIndex.create(idIndexCapacityFor(capacity), table);
    table.views.externalId[0] = 17;
    table.views.balance[0] = 4200;
    index.set(17, 0);
    const file = snapshotLayout(capacity, index.capacity);
    const image = new Uint8Array(file.byteLength);
    const header = { ...info, distributorCount: 1, distributorCapacity: capacity };
    image.set(encodeSnapshotHeader({ ...header, idIndexCapacity: index.capacity }), 0);
    image.set(tableBytes(table), file.distributors.byteOffset);
    image.set(tableBytes(index.handle), file.idIndex.byteOffset);

    const read = decodeSnapshotHeader(image);
    const layout = snapshotLayout(read.distributorCapacity, read.idIndexCapacity);
    const loaded = createTable(DISTRIBUTORS, read.distributorCapacity);
    const { byteOffset, byteLength } = layout.distributors;
    tableBytes(loaded).set(image.subarray(byteOffset, byteOffset + byteLength));
    const loadedIndex = IdIndex.create(read.idIndexCapacity, loaded);
    const idRegion = layout.idIndex;
    const idBytes = image.subarray(idRegion.byteOffset, idRegion.byteOffset + idRegion.byteLength);
    tableBytes(loadedIndex.handle).set(idBytes);
    const reader = IdIndex.attach(loadedIndex.buffer, read.idIndexCapacity, loaded);
    assert.equal(loaded.views.balance[0], 4200);
    assert.equal(loaded.views.sponsor[0], -1);
    assert.equal(reader.get(17), 0);
  });
});
