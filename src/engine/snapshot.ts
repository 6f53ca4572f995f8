/**
 * The engine's state image as a file next to the database (`<db>.snapshot`), in the v2
 * snapshot layout (native-layout/snapshot-file.ts): header, DISTRIBUTORS, ID_INDEX, event id
 * table, order id table, ORDER_BOOK, each region the table's SharedArrayBuffer byte for byte.
 *
 * Atomic replacement: the image is written to `<file>.tmp`, fsynced, renamed over `<file>`,
 * and the directory fsynced, so after a crash `<file>` is either the old image or the new
 * one, never a mix. A leftover `.tmp` is garbage from a crash mid-write: never read, and
 * overwritten by the next write.
 *
 * Reading goes straight from the file into each table's new SharedArrayBuffer (one positional
 * read per region, no intermediate copy), then checks every table's invariants before the
 * engine may use it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { IdIndex } from '../../native-layout/id-index.js';
import type { DistributorFields } from '../../native-layout/layouts.js';
import { DISTRIBUTORS, ID_INDEX } from '../../native-layout/layouts.js';
import type { TableDef, TableFields } from '../../native-layout/schema.js';
import { layoutFor } from '../../native-layout/schema.js';
import type { FileRegion } from '../../native-layout/snapshot.js';
import type { SnapshotFileInfo, SnapshotFileLayout } from '../../native-layout/snapshot-file.js';
import {
  SNAPSHOT_HEADER_V2,
  decodeSnapshotFileHeader,
  encodeSnapshotFileHeader,
  prefixCopies,
  prefixRows,
  snapshotFileLayout,
} from '../../native-layout/snapshot-file.js';
import type { OrderBookFields } from '../../native-layout/string-ids.js';
import { ORDER_BOOK, STRING_IDS } from '../../native-layout/string-ids.js';
import type { TableHandle } from '../../native-layout/table.js';
import { attachTable, createTable, tableBytes } from '../../native-layout/table.js';
import { AssertionError, assert } from '../core/assert.js';
import { UplineError } from '../core/errors.js';
import { StringIdTable } from './string-id-table.js';

/** The engine's scalars that live outside the tables. */
export interface SnapshotScalars {
  /** The seq of the last event the image includes; recovery replays the log after it. */
  readonly lastSeq: number;
  /** Distributor rows in use (EngineState.count). */
  readonly count: number;
  readonly period: number;
  readonly periodNetCvCents: number;
  readonly periodFirstOrderRow: number;
  /** ORDER_BOOK rows in use (OrderBook.count). */
  readonly orderCount: number;
}

export interface SnapshotImage {
  readonly distributors: TableHandle<DistributorFields>;
  readonly idIndex: IdIndex;
  /** Event id -> packTaken(seq, outcome). */
  readonly eventIds: StringIdTable;
  /** Order id -> ORDER_BOOK row. */
  readonly orderIds: StringIdTable;
  readonly orderBook: TableHandle<OrderBookFields>;
  readonly scalars: SnapshotScalars;
}

/** Where the snapshot of the database `dbFile` lives. */
export function snapshotPathFor(dbFile: string): string {
  return `${dbFile}.snapshot`;
}

/** Positional reads and writes move at most this much per call (Node caps one at 2 GiB). */
const IO_CHUNK_BYTES = 1 << 30;

function infoOf(image: SnapshotImage): SnapshotFileInfo {
  const { scalars } = image;
  return {
    lastSeq: scalars.lastSeq,
    distributorCount: scalars.count,
    distributorCapacity: image.distributors.capacity,
    idIndexCapacity: image.idIndex.capacity,
    eventIdCapacity: image.eventIds.capacity,
    eventIdCount: image.eventIds.size,
    orderIdCapacity: image.orderIds.capacity,
    orderCount: scalars.orderCount,
    orderBookCapacity: image.orderBook.capacity,
    period: scalars.period,
    periodFirstOrderRow: scalars.periodFirstOrderRow,
    periodNetCvCents: scalars.periodNetCvCents,
  };
}

/** What the writer asserts on top of the header's own checks: the parts agree. */
function assertImage(image: SnapshotImage): void {
  const { scalars } = image;
  assert(image.distributors.table === DISTRIBUTORS, 'distributors is not a DISTRIBUTORS table');
  assert(image.orderBook.table === ORDER_BOOK, 'orderBook is not an ORDER_BOOK table');
  assert(image.idIndex.size === scalars.count, 'id index size != distributor count');
  assert(image.orderIds.size === scalars.orderCount, 'order id count != order count');
}

function writeFully(fd: number, bytes: Uint8Array, position: number): void {
  let done = 0;
  while (done < bytes.byteLength) {
    const length = Math.min(IO_CHUNK_BYTES, bytes.byteLength - done);
    const written = fs.writeSync(fd, bytes, done, length, position + done);
    assert(written > 0, 'snapshot write made no progress');
    done += written;
  }
}

function writeRegion(fd: number, region: FileRegion, bytes: Uint8Array): void {
  assert(bytes.byteLength === region.byteLength, 'snapshot region length');
  writeFully(fd, bytes, region.byteOffset);
}

/** The first `count` rows of a dense table, column by column (see snapshot-file.ts). */
function writeRows<F extends TableFields>(
  fd: number,
  region: FileRegion,
  handle: TableHandle<F>,
  count: number,
): void {
  const rows = prefixRows(count);
  assert(layoutFor(handle.table, rows).byteLength === region.byteLength, 'prefix region length');
  for (const copy of prefixCopies(handle.table, handle.capacity, rows)) {
    const bytes = new Uint8Array(handle.buffer, copy.tableByteOffset, copy.byteLength);
    writeFully(fd, bytes, region.byteOffset + copy.fileByteOffset);
  }
}

function fsyncDirectory(directory: string): void {
  const fd = fs.openSync(directory, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Writes `image` to `file` atomically (see top). Synchronous: the engine calls it at a batch
 * boundary, when no worker writes the tables, so the bytes are one consistent state.
 */
export function writeSnapshot(file: string, image: SnapshotImage): void {
  writeSnapshotTemporary(file, image);
  publishSnapshot(file);
}

/**
 * The first half of `writeSnapshot`: the image, whole and fsynced, in `<file>.tmp`, which no
 * reader takes for a snapshot. The engine writes it while the commit thread is still making
 * the log and the line index reach the image's seq, and publishes it only once they have.
 */
export function writeSnapshotTemporary(file: string, image: SnapshotImage): void {
  assertImage(image);
  const info = infoOf(image);
  const header = encodeSnapshotFileHeader(info);
  const layout = snapshotFileLayout(info);
  const temporary = `${file}.tmp`;
  const fd = fs.openSync(temporary, 'w', 0o644);
  try {
    // The exact length up front: alignment padding between and after columns reads as zeros.
    fs.ftruncateSync(fd, layout.byteLength);
    writeRegion(fd, layout.header, header);
    writeRows(fd, layout.distributors, image.distributors, info.distributorCount);
    writeRegion(fd, layout.idIndex, tableBytes(image.idIndex.handle));
    writeRegion(fd, layout.eventIds, image.eventIds.bytes());
    writeRegion(fd, layout.orderIds, image.orderIds.bytes());
    writeRows(fd, layout.orderBook, image.orderBook, info.orderCount);
    assert(fs.fstatSync(fd).size === layout.byteLength, 'snapshot file length');
    fs.fsyncSync(fd);
  } catch (error) {
    fs.closeSync(fd);
    fs.rmSync(temporary, { force: true });
    // A full disk is an operating error; a broken invariant stays an assertion.
    if (error instanceof AssertionError) throw error;
    throw new UplineError('UPLINE_IO', `cannot write snapshot ${temporary}`, { cause: error });
  }
  fs.closeSync(fd);
}

/** The second half: `<file>.tmp` becomes `<file>`, atomically and durably. */
export function publishSnapshot(file: string): void {
  fs.renameSync(`${file}.tmp`, file);
  // The rename is durable only once the directory entry is.
  fsyncDirectory(path.dirname(path.resolve(file)));
}

function readFully(fd: number, bytes: Uint8Array, position: number): void {
  let done = 0;
  while (done < bytes.byteLength) {
    const length = Math.min(IO_CHUNK_BYTES, bytes.byteLength - done);
    const read = fs.readSync(fd, bytes, done, length, position + done);
    // The length was checked against the header: a short read means the file changed.
    if (read === 0) throw new UplineError('UPLINE_IO', 'snapshot file ended early');
    done += read;
  }
}

/**
 * A new table of `capacity` rows whose first `count` rows come straight from the file, column
 * by column; the other rows hold their fill values (`createTable`), as they did when written.
 */
function readRows<F extends TableFields>(
  fd: number,
  region: FileRegion,
  table: TableDef<F>,
  capacity: number,
  count: number,
): TableHandle<F> {
  const rows = prefixRows(count);
  assert(layoutFor(table, rows).byteLength === region.byteLength, `${table.name} region length`);
  const handle = createTable(table, capacity);
  for (const copy of prefixCopies(table, capacity, rows)) {
    const bytes = new Uint8Array(handle.buffer, copy.tableByteOffset, copy.byteLength);
    readFully(fd, bytes, region.byteOffset + copy.fileByteOffset);
  }
  return handle;
}

/** A new SharedArrayBuffer for `table` at `capacity`, filled straight from the file. */
function readTable<F extends TableFields>(
  fd: number,
  region: FileRegion,
  table: TableDef<F>,
  capacity: number,
): TableHandle<F> {
  const byteLength = layoutFor(table, capacity).byteLength;
  assert(byteLength === region.byteLength, `${table.name} region length`);
  const buffer = new SharedArrayBuffer(byteLength);
  readFully(fd, new Uint8Array(buffer), region.byteOffset);
  return attachTable(table, buffer, capacity);
}

function openForRead(file: string): number | undefined {
  try {
    return fs.openSync(file, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new UplineError('UPLINE_IO', `cannot open snapshot ${file}`, { cause: error });
  }
}

/**
 * The image in `file`, or undefined if there is none (a leftover `.tmp` does not count).
 * Refuses another layout (UPLINE_LAYOUT_MISMATCH) and a truncated or inconsistent file
 * (UPLINE_IO): the caller then replays the whole log instead.
 */
export function readSnapshot(file: string): SnapshotImage | undefined {
  const fd = openForRead(file);
  if (fd === undefined) return undefined;
  try {
    const fileBytes = fs.fstatSync(fd).size;
    const headerBytes = new Uint8Array(Math.min(fileBytes, SNAPSHOT_HEADER_V2.SIZEOF));
    readFully(fd, headerBytes, 0);
    const { info, layout } = decodeSnapshotFileHeader(headerBytes, fileBytes);
    return readRegions(fd, info, layout);
  } finally {
    fs.closeSync(fd);
  }
}

function readRegions(
  fd: number,
  info: SnapshotFileInfo,
  layout: SnapshotFileLayout,
): SnapshotImage {
  const { distributorCapacity, distributorCount, orderBookCapacity, orderCount } = info;
  const distributors = readRows(
    fd,
    layout.distributors,
    DISTRIBUTORS,
    distributorCapacity,
    distributorCount,
  );
  const idIndexTable = readTable(fd, layout.idIndex, ID_INDEX, info.idIndexCapacity);
  const eventIdTable = readTable(fd, layout.eventIds, STRING_IDS, info.eventIdCapacity);
  const orderIdTable = readTable(fd, layout.orderIds, STRING_IDS, info.orderIdCapacity);
  const orderBook = readRows(fd, layout.orderBook, ORDER_BOOK, orderBookCapacity, orderCount);
  const eventIds = StringIdTable.fromTable(eventIdTable, info.eventIdCount);
  const orderIds = StringIdTable.fromTable(orderIdTable, info.orderCount);
  const idIndex = contentChecked(() => restoreIdIndex(distributors, idIndexTable, info));
  contentChecked(() => checkOrderBook(orderBook, info));
  const scalars: SnapshotScalars = {
    lastSeq: info.lastSeq,
    count: info.distributorCount,
    period: info.period,
    periodNetCvCents: info.periodNetCvCents,
    periodFirstOrderRow: info.periodFirstOrderRow,
    orderCount: info.orderCount,
  };
  return { distributors, idIndex, eventIds, orderIds, orderBook, scalars };
}

/** A failed check on bytes read from disk is a bad file (UPLINE_IO), not a bug here. */
function contentChecked<T>(check: () => T): T {
  try {
    return check();
  } catch (error) {
    if (!(error instanceof AssertionError)) throw error;
    throw new UplineError('UPLINE_IO', `corrupt snapshot: ${error.message}`, { cause: error });
  }
}

/**
 * The writable id index for the restored distributors. IdIndex has no way to adopt a
 * buffer as its writer (only read-only `attach`), so the writer is rebuilt from the
 * `externalId` column, O(count), and cross-checked against the file's ID_INDEX region (whose
 * slots name their keys in that same column).
 */
function restoreIdIndex(
  distributors: TableHandle<DistributorFields>,
  idIndexTable: TableHandle<typeof ID_INDEX.fields>,
  info: SnapshotFileInfo,
): IdIndex {
  const externalId = distributors.views.externalId;
  const stored = IdIndex.attach(idIndexTable.buffer, idIndexTable.capacity, distributors);
  assert(stored.size === info.distributorCount, 'ID_INDEX entries != distributor count');
  const writer = IdIndex.create(info.idIndexCapacity, distributors);
  for (let slot = 0; slot < info.distributorCount; slot++) {
    const id = externalId[slot] ?? 0;
    if (stored.get(id) !== slot) throw new AssertionError(`ID_INDEX disagrees at slot ${slot}`);
    writer.set(id, slot);
  }
  // A file of 0 distributors still holds row 0 (the layout's minimum), at its fill value.
  if (info.distributorCount === 0 && externalId[0] !== 0) {
    throw new AssertionError('distributor row 0 is used with a count of 0');
  }
  return writer;
}

function checkOrderBook(orderBook: TableHandle<OrderBookFields>, info: SnapshotFileInfo) {
  const { buyer, refunded } = orderBook.views;
  for (let row = 0; row < info.orderCount; row++) {
    const slot = buyer[row] ?? -1;
    if (slot < 0 || slot >= info.distributorCount) {
      throw new AssertionError(`order row ${row} buyer ${slot}`);
    }
    if ((refunded[row] ?? 0) > 1) throw new AssertionError(`order row ${row} refunded flag`);
  }
  // A file of 0 orders still holds row 0 (the layout's minimum), at its fill value.
  if (info.orderCount === 0 && buyer[0] !== -1) {
    throw new AssertionError('order row 0 is used with a count of 0');
  }
}
