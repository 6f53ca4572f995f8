/**
 * The engine snapshot file, version 2: everything the engine needs to resume without
 * replaying the whole event log. A NEW header struct (SNAPSHOT_HEADER_V2) rather than an edit
 * of SNAPSHOT_HEADER in layouts.ts: v1 has no room for the string id tables, the order book
 * and the period scalars, and its decoder (snapshot.ts) keeps refusing v2 files (its
 * layoutVersion field, at the same offset, reads 2) as v2's refuses v1 files.
 *
 *   0          96                                                                  byteLength
 *   | HEADER_V2 | DISTRIBUTORS | ID_INDEX | event ids | order ids | ORDER_BOOK |
 *                 rows in use   whole      whole       whole       rows in use
 *
 * Every region is 8-aligned and is a table's image in its own declared layout:
 * - hash tables (ID_INDEX, the two STRING_IDS tables) whole, at the capacity the header
 *   names: positions depend on the capacity, so the bytes are the SharedArrayBuffer's;
 * - dense tables (DISTRIBUTORS, ORDER_BOOK) only for their rows in use: the image of the
 *   table at capacity `prefixRows(count)`, each column copied to or from the same column of
 *   the live table (`prefixCopies`). Unused capacity is not written, and on read it is
 *   allocated at its fill values without ever reading (or touching) its pages from the file:
 *   at 10M distributors in a 2^24-row table that is 530 MB neither written nor read.
 *
 * Offsets come from `snapshotFileLayout` and `prefixCopies` only. The header names the
 * file's total length, so a truncated file is refused before any region is read.
 */
import { assert, AssertionError } from '../src/core/assert.js';
import { UplineError } from '../src/core/errors.js';
import {
  DISTRIBUTORS,
  ID_INDEX,
  LAYOUT_VERSION,
  SNAPSHOT_MAGIC,
  idIndexSizeMax,
} from './layouts.js';
import type { TableDef, TableFields } from './schema.js';
import {
  alignUp,
  assertFingerprint,
  combineFingerprints,
  COLUMN_ALIGN_BYTES,
  isPowerOfTwo,
  layoutFor,
  TABLE_CAPACITY_MAX,
} from './schema.js';
import type { FileRegion } from './snapshot.js';
import { ORDER_BOOK, STRING_IDS, STRING_IDS_CAPACITY_MIN, stringIdsSizeMax } from './string-ids.js';
import type { StructValue } from './struct.js';
import { defineStruct, readStruct, writeStruct } from './struct.js';

/** Stored in the header's second field, where v1 files hold LAYOUT_VERSION (never 2). */
export const SNAPSHOT_FILE_VERSION = 2;

export const SNAPSHOT_HEADER_V2 = defineStruct('snapshotHeader', SNAPSHOT_FILE_VERSION, {
  magic: 'u32',
  fileVersion: 'u32',
  layoutHash: 'u32',
  distributorCount: 'u32',
  /** The seq of the last event the image includes. */
  lastSeq: 'f64',
  /** The whole file's length: a shorter or longer file is refused. */
  fileBytes: 'f64',
  distributorCapacity: 'u32',
  idIndexCapacity: 'u32',
  eventIdCapacity: 'u32',
  eventIdCount: 'u32',
  orderIdCapacity: 'u32',
  /** Rows of ORDER_BOOK in use, and entries of the order id table (one per order). */
  orderCount: 'u32',
  orderBookCapacity: 'u32',
  period: 'u32',
  periodFirstOrderRow: 'u32',
  reserved0: 'u32',
  periodNetCvCents: 'f64',
  reserved1: 'u64',
  reserved2: 'u64',
});

/** Covers every definition the file is made of: any change to any of them refuses old files. */
export const SNAPSHOT_V2_LAYOUT_HASH = combineFingerprints(SNAPSHOT_FILE_VERSION, [
  LAYOUT_VERSION,
  SNAPSHOT_HEADER_V2.hash,
  DISTRIBUTORS.hash,
  ID_INDEX.hash,
  STRING_IDS.hash,
  ORDER_BOOK.hash,
]);

/** The header's numbers beyond its stamp (magic, version, hash, fileBytes). */
export interface SnapshotFileInfo {
  lastSeq: number;
  distributorCount: number;
  distributorCapacity: number;
  idIndexCapacity: number;
  eventIdCapacity: number;
  eventIdCount: number;
  orderIdCapacity: number;
  orderCount: number;
  orderBookCapacity: number;
  period: number;
  periodFirstOrderRow: number;
  periodNetCvCents: number;
}

export interface SnapshotFileLayout {
  readonly header: FileRegion;
  readonly distributors: FileRegion;
  readonly idIndex: FileRegion;
  readonly eventIds: FileRegion;
  readonly orderIds: FileRegion;
  readonly orderBook: FileRegion;
  readonly byteLength: number;
}

function tableRegion<F extends TableFields>(
  after: FileRegion,
  table: TableDef<F>,
  capacity: number,
): FileRegion {
  const byteOffset = alignUp(after.byteOffset + after.byteLength, COLUMN_ALIGN_BYTES);
  return Object.freeze({ byteOffset, byteLength: layoutFor(table, capacity).byteLength });
}

/** Rows of a dense table the file holds: those in use, and at least one (a layout's minimum). */
export function prefixRows(count: number): number {
  assert(Number.isSafeInteger(count) && count >= 0, `row count ${count}`);
  return Math.max(1, count);
}

/** One column's bytes: at `tableByteOffset` in the live table, `fileByteOffset` in its region. */
export interface ColumnCopy {
  readonly name: string;
  readonly tableByteOffset: number;
  readonly fileByteOffset: number;
  readonly byteLength: number;
}

/**
 * How the first `rows` rows of a `capacity`-row table map onto the image of the same table at
 * capacity `rows` (a file region): per column, both offsets from `layoutFor`.
 */
export function prefixCopies<F extends TableFields>(
  table: TableDef<F>,
  capacity: number,
  rows: number,
): readonly ColumnCopy[] {
  assert(rows >= 1 && rows <= capacity, `${table.name} prefix of ${rows} rows of ${capacity}`);
  const live = layoutFor(table, capacity);
  const image = layoutFor(table, rows);
  return image.columns.map((region) => {
    const source = live.column[region.name];
    assert(source !== undefined && source.type === region.type, `${table.name}.${region.name}`);
    assert(region.byteLength <= source.byteLength, `${table.name}.${region.name} prefix length`);
    return Object.freeze({
      name: region.name,
      tableByteOffset: source.byteOffset,
      fileByteOffset: region.byteOffset,
      byteLength: region.byteLength,
    });
  });
}

/** Where each region of a v2 snapshot file lives, for the numbers its header holds. */
export function snapshotFileLayout(info: SnapshotFileInfo): SnapshotFileLayout {
  const header = Object.freeze({ byteOffset: 0, byteLength: SNAPSHOT_HEADER_V2.SIZEOF });
  const distributorRows = prefixRows(info.distributorCount);
  const distributors = tableRegion(header, DISTRIBUTORS, distributorRows);
  const idIndex = tableRegion(distributors, ID_INDEX, info.idIndexCapacity);
  const eventIds = tableRegion(idIndex, STRING_IDS, info.eventIdCapacity);
  const orderIds = tableRegion(eventIds, STRING_IDS, info.orderIdCapacity);
  const orderBook = tableRegion(orderIds, ORDER_BOOK, prefixRows(info.orderCount));
  const byteLength = orderBook.byteOffset + orderBook.byteLength;
  const ordered = [header, distributors, idIndex, eventIds, orderIds, orderBook];
  for (let index = 1; index < ordered.length; index++) {
    const previous = ordered[index - 1];
    const region = ordered[index];
    assert(previous !== undefined && region !== undefined, 'snapshot regions');
    const previousEnd = previous.byteOffset + previous.byteLength;
    assert(region.byteOffset >= previousEnd, 'snapshot regions overlap');
    assert(region.byteOffset - previousEnd < COLUMN_ALIGN_BYTES, 'snapshot region gap');
    assert(region.byteOffset % COLUMN_ALIGN_BYTES === 0, 'snapshot region not aligned');
  }
  assert(byteLength % COLUMN_ALIGN_BYTES === 0, 'snapshot length not aligned');
  assert(Number.isSafeInteger(byteLength), 'snapshot length not a safe integer');
  const regions = { header, distributors, idIndex, eventIds, orderIds, orderBook };
  return Object.freeze({ ...regions, byteLength });
}

function checkStringIds(
  what: string,
  capacity: number,
  count: number,
  fail: (message: string) => never,
): void {
  if (!isPowerOfTwo(capacity) || capacity < STRING_IDS_CAPACITY_MIN) {
    fail(`${what} capacity ${capacity}`);
  }
  if (count > stringIdsSizeMax(capacity)) fail(`${what} count ${count} above load limit`);
}

/** Checks the numbers of a header: on encode (a bug) and on decode (a bad file). */
function checkInfo(info: SnapshotFileInfo, fail: (message: string) => never): void {
  for (const [name, value] of Object.entries(info)) {
    if (name === 'lastSeq' || name === 'periodNetCvCents') continue;
    if (!Number.isInteger(value) || value < 0 || value > 0xffff_ffff) fail(`${name} ${value}`);
  }
  if (!Number.isSafeInteger(info.lastSeq) || info.lastSeq < 0) fail(`lastSeq ${info.lastSeq}`);
  const netCv = info.periodNetCvCents;
  if (!Number.isSafeInteger(netCv) || netCv < 0) fail(`periodNetCvCents ${netCv}`);
  for (const capacity of [info.distributorCapacity, info.orderBookCapacity]) {
    if (capacity < 1 || capacity > TABLE_CAPACITY_MAX) fail(`table capacity ${capacity}`);
  }
  if (info.distributorCount > info.distributorCapacity) fail('distributorCount > capacity');
  if (!isPowerOfTwo(info.idIndexCapacity)) fail(`idIndexCapacity ${info.idIndexCapacity}`);
  if (info.distributorCount > idIndexSizeMax(info.idIndexCapacity)) {
    fail('idIndexCapacity too small'); // the id index keeps load <= 3/4
  }
  checkStringIds('eventIds', info.eventIdCapacity, info.eventIdCount, fail);
  checkStringIds('orderIds', info.orderIdCapacity, info.orderCount, fail);
  // Every id taken was taken by a sequenced event.
  if (info.eventIdCount > info.lastSeq) fail('eventIdCount > lastSeq');
  if (info.orderCount > info.orderBookCapacity) fail('orderCount > orderBookCapacity');
  if (info.periodFirstOrderRow > info.orderCount) fail('periodFirstOrderRow > orderCount');
}

function headerValue(info: SnapshotFileInfo): StructValue<typeof SNAPSHOT_HEADER_V2.fields> {
  return {
    magic: SNAPSHOT_MAGIC,
    fileVersion: SNAPSHOT_FILE_VERSION,
    layoutHash: SNAPSHOT_V2_LAYOUT_HASH,
    fileBytes: snapshotFileLayout(info).byteLength,
    ...info,
    reserved0: 0,
    reserved1: 0n,
    reserved2: 0n,
  };
}

/** A header of SNAPSHOT_HEADER_V2.SIZEOF bytes stamped with this build's layout. */
export function encodeSnapshotFileHeader(info: SnapshotFileInfo): Uint8Array {
  checkInfo(info, (message) => {
    throw new AssertionError(`snapshot header to write: ${message}`);
  });
  const bytes = new Uint8Array(SNAPSHOT_HEADER_V2.SIZEOF);
  writeStruct(SNAPSHOT_HEADER_V2, bytes, 0, headerValue(info));
  return bytes;
}

function corrupt(message: string): never {
  throw new UplineError('UPLINE_IO', `corrupt snapshot: ${message}`);
}

/**
 * Reads and checks a v2 header: another file type, file version or layout hash is
 * UPLINE_LAYOUT_MISMATCH; a truncated file (`fileBytes` = the file's actual length) or
 * inconsistent numbers are UPLINE_IO.
 */
export function decodeSnapshotFileHeader(bytes: ArrayBufferView, fileBytes: number) {
  if (bytes.byteLength < SNAPSHOT_HEADER_V2.SIZEOF) corrupt('truncated header');
  const header = readStruct(SNAPSHOT_HEADER_V2, bytes, 0);
  if (header.magic !== SNAPSHOT_MAGIC) {
    throw new UplineError('UPLINE_LAYOUT_MISMATCH', 'not an upline snapshot (bad magic)');
  }
  if (header.fileVersion !== SNAPSHOT_FILE_VERSION) {
    throw new UplineError(
      'UPLINE_LAYOUT_MISMATCH',
      `snapshot file version ${header.fileVersion}, this build reads ${SNAPSHOT_FILE_VERSION}`,
    );
  }
  assertFingerprint('snapshot', SNAPSHOT_V2_LAYOUT_HASH, header.layoutHash);
  if (header.reserved0 !== 0 || header.reserved1 !== 0n || header.reserved2 !== 0n) {
    corrupt('reserved bytes are not zero');
  }
  const { magic, fileVersion, layoutHash, reserved0, reserved1, reserved2, ...rest } = header;
  const { fileBytes: namedBytes, ...info } = rest;
  checkInfo(info, corrupt);
  const layout = snapshotFileLayout(info);
  if (namedBytes !== layout.byteLength) corrupt(`header names ${namedBytes} bytes`);
  if (fileBytes !== layout.byteLength) {
    corrupt(`file is ${fileBytes} bytes, its header says ${layout.byteLength} (truncated?)`);
  }
  return { info, layout };
}

// Size asserts at load time: a changed declaration must change these numbers on purpose.
assert(SNAPSHOT_HEADER_V2.SIZEOF === 96, `SNAPSHOT_HEADER_V2 is ${SNAPSHOT_HEADER_V2.SIZEOF}`);
assert(SNAPSHOT_HEADER_V2.offsets.magic === 0, 'magic must open the file');
assert(SNAPSHOT_HEADER_V2.offsets.fileVersion === 4, 'fileVersion where v1 has layoutVersion');
assert(LAYOUT_VERSION !== SNAPSHOT_FILE_VERSION, 'a v1 version must never read as v2');
assert(SNAPSHOT_HEADER_V2.offsets.lastSeq % 8 === 0, 'lastSeq must be 8-aligned');
