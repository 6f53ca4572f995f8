import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { IdIndex } from '../native-layout/id-index.js';
import { DISTRIBUTORS, SNAPSHOT_MAGIC, idIndexCapacityFor } from '../native-layout/layouts.js';
import { layoutFor } from '../native-layout/schema.js';
import { encodeSnapshotHeader } from '../native-layout/snapshot.js';
import {
  SNAPSHOT_FILE_VERSION,
  SNAPSHOT_HEADER_V2,
  SNAPSHOT_V2_LAYOUT_HASH,
  snapshotFileLayout,
} from '../native-layout/snapshot-file.js';
import { ORDER_BOOK } from '../native-layout/string-ids.js';
import { readStruct, writeStruct } from '../native-layout/struct.js';
import { createTable, tableBytes } from '../native-layout/table.js';
import type { SnapshotImage } from '../src/engine/snapshot.js';
import { readSnapshot, snapshotPathFor, writeSnapshot } from '../src/engine/snapshot.js';
import type { ConfirmEntry } from '../src/engine/string-id-table.js';
import { StringIdTable } from '../src/engine/string-id-table.js';

const mismatch = { name: 'UplineError', code: 'UPLINE_LAYOUT_MISMATCH' };
const corrupt = { name: 'UplineError', code: 'UPLINE_IO' };

const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'upline-snapshot-'));
after(() => fs.rmSync(directory, { recursive: true, force: true }));

let fileNumber = 0;
function freshFile(): string {
  return snapshotPathFor(path.join(directory, `db-${fileNumber++}.sqlite`));
}

const eventKeys = ['evt-a', 'evt-b', 'evt-c', 'evt-d', 'evt-e', 'evt-f'];
const orderKeys = ['order-1', 'order-2'];
/** Values are unique, so confirming is looking the value's key up (as the log would). */
const keyOfEvent = new Map(eventKeys.map((key, index) => [(index + 1) * 32, key]));
const confirmEvent: ConfirmEntry = (value, key) => keyOfEvent.get(value) === key;
const confirmOrder: ConfirmEntry = (value, key) => orderKeys[value] === key;

/** 3 distributors, 6 events, 2 orders: a small but complete engine state. */
function sampleImage(): SnapshotImage {
  const distributors = createTable(DISTRIBUTORS, 8);
  const idIndex = IdIndex.create(idIndexCapacityFor(8), distributors);
  const d = distributors.views;
  for (const [slot, id] of [101, 7, 0x7fff_ffff].entries()) {
    d.externalId[slot] = id;
    d.sponsor[slot] = slot - 1;
    d.gv[slot] = 1_000 * (slot + 1);
    idIndex.set(id, slot);
  }
  const eventIds = StringIdTable.create(16);
  for (const [index, key] of eventKeys.entries()) eventIds.set(key, (index + 1) * 32);
  const orderIds = StringIdTable.create(16);
  const orderBook = createTable(ORDER_BOOK, 8);
  for (const [row, key] of orderKeys.entries()) {
    orderIds.set(key, row);
    orderBook.views.buyer[row] = row + 1;
    orderBook.views.pv[row] = 50;
    orderBook.views.cvCents[row] = 4_999;
    orderBook.views.seq[row] = row + 3;
  }
  orderBook.views.refunded[1] = 1;
  const scalars = {
    lastSeq: 6,
    count: 3,
    period: 2,
    periodNetCvCents: 4_999,
    periodFirstOrderRow: 1,
    orderCount: 2,
  };
  return { distributors, idIndex, eventIds, orderIds, orderBook, scalars };
}

/** Rewrites one header field of the file at `file`, keeping everything else. */
type HeaderField = keyof typeof SNAPSHOT_HEADER_V2.fields;

function patchHeader(file: string, field: HeaderField, value: number): void {
  const bytes = fs.readFileSync(file);
  const header = { ...readStruct(SNAPSHOT_HEADER_V2, bytes), [field]: value };
  writeStruct(SNAPSHOT_HEADER_V2, bytes, 0, header);
  fs.writeFileSync(file, bytes);
}

describe('engine snapshot file', () => {
  it('round-trips every table byte for byte, and the scalars', () => {
    const image = sampleImage();
    const file = freshFile();
    writeSnapshot(file, image);
    const read = readSnapshot(file);
    assert.ok(read !== undefined);
    assert.deepEqual(read.scalars, image.scalars);
    assert.deepEqual(tableBytes(read.distributors), tableBytes(image.distributors));
    assert.deepEqual(tableBytes(read.orderBook), tableBytes(image.orderBook));
    assert.deepEqual(read.eventIds.bytes(), image.eventIds.bytes());
    assert.deepEqual(read.orderIds.bytes(), image.orderIds.bytes());
    assert.equal(read.idIndex.size, 3);
    assert.equal(read.idIndex.get(0x7fff_ffff), 2);
    assert.equal(read.idIndex.writable, true, 'the engine keeps enrolling into it');
    for (const [index, key] of eventKeys.entries()) {
      assert.equal(read.eventIds.get(key, confirmEvent), (index + 1) * 32);
    }
    assert.equal(read.orderIds.get('order-2', confirmOrder), 1);
    assert.equal(read.orderIds.get('order-3', confirmOrder), -1);
    // What was read is live: it grows and takes new ids like a fresh state.
    read.orderIds.set('order-3', 2, confirmOrder);
    assert.equal(read.orderIds.size, 3);
    assert.ok(!fs.existsSync(`${file}.tmp`), 'the temporary file was renamed');
  });

  it('round-trips an empty state, and unused capacity at its fill values', () => {
    const distributors = createTable(DISTRIBUTORS, 4);
    const empty: SnapshotImage = {
      distributors,
      idIndex: IdIndex.create(16, distributors),
      eventIds: StringIdTable.create(16),
      orderIds: StringIdTable.create(16),
      orderBook: createTable(ORDER_BOOK, 4),
      scalars: {
        lastSeq: 0,
        count: 0,
        period: 0,
        periodNetCvCents: 0,
        periodFirstOrderRow: 0,
        orderCount: 0,
      },
    };
    const file = freshFile();
    writeSnapshot(file, empty);
    const read = readSnapshot(file);
    assert.ok(read !== undefined);
    assert.deepEqual(read.scalars, empty.scalars);
    assert.equal(read.distributors.capacity, 4);
    assert.deepEqual(tableBytes(read.distributors), tableBytes(empty.distributors));
    assert.deepEqual(tableBytes(read.orderBook), tableBytes(empty.orderBook));
    assert.deepEqual([...read.orderBook.views.buyer], [-1, -1, -1, -1]);
  });

  it('answers undefined without a file, and ignores a leftover .tmp', () => {
    const file = freshFile();
    fs.writeFileSync(`${file}.tmp`, 'half a snapshot from a crash');
    assert.equal(readSnapshot(file), undefined);
    const image = sampleImage();
    writeSnapshot(file, image);
    fs.writeFileSync(`${file}.tmp`, 'a later crash mid-write');
    assert.deepEqual(readSnapshot(file)?.scalars, image.scalars);
    // The next write replaces the leftover.
    writeSnapshot(file, image);
    assert.ok(!fs.existsSync(`${file}.tmp`));
  });

  it('refuses a truncated or extended file (UPLINE_IO)', () => {
    const file = freshFile();
    writeSnapshot(file, sampleImage());
    const whole = fs.readFileSync(file);
    for (const length of [0, 10, SNAPSHOT_HEADER_V2.SIZEOF, whole.byteLength - 8]) {
      fs.writeFileSync(file, whole.subarray(0, length));
      assert.throws(() => readSnapshot(file), corrupt, `truncated to ${length}`);
    }
    fs.writeFileSync(file, Buffer.concat([whole, Buffer.alloc(8)]));
    assert.throws(() => readSnapshot(file), corrupt);
  });

  it('refuses another layout, version or file type (UPLINE_LAYOUT_MISMATCH)', () => {
    const file = freshFile();
    writeSnapshot(file, sampleImage());
    const whole = fs.readFileSync(file);
    patchHeader(file, 'layoutHash', (SNAPSHOT_V2_LAYOUT_HASH ^ 1) >>> 0);
    assert.throws(() => readSnapshot(file), mismatch);
    fs.writeFileSync(file, whole);
    patchHeader(file, 'fileVersion', SNAPSHOT_FILE_VERSION + 1);
    assert.throws(() => readSnapshot(file), mismatch);
    fs.writeFileSync(file, whole);
    patchHeader(file, 'magic', 0x1234_5678);
    assert.throws(() => readSnapshot(file), mismatch);
    // A v1 file (header of native-layout/snapshot.ts) is not read as v2.
    const v1 = encodeSnapshotHeader({
      distributorCount: 0,
      distributorCapacity: 8,
      idIndexCapacity: 16,
      lastSeq: 0,
      period: 0,
    });
    fs.writeFileSync(file, Buffer.concat([v1, Buffer.alloc(64)]));
    assert.throws(() => readSnapshot(file), mismatch);
  });

  it('refuses inconsistent numbers and corrupt regions (UPLINE_IO)', () => {
    const file = freshFile();
    writeSnapshot(file, sampleImage());
    const whole = fs.readFileSync(file);
    patchHeader(file, 'orderCount', 1);
    assert.throws(() => readSnapshot(file), corrupt);
    fs.writeFileSync(file, whole);
    patchHeader(file, 'eventIdCount', 7);
    assert.throws(() => readSnapshot(file), corrupt);
    fs.writeFileSync(file, whole);
    patchHeader(file, 'reserved0', 1);
    assert.throws(() => readSnapshot(file), corrupt);
    // A buyer slot past the distributor count, inside the ORDER_BOOK region.
    const layout = snapshotFileLayout(readHeaderInfo(whole));
    // The file holds the order book's 2 rows in use: its image at capacity 2.
    const buyer = layoutFor(ORDER_BOOK, 2).column.buyer.byteOffset;
    const bad = Buffer.from(whole);
    bad.writeInt32LE(99, layout.orderBook.byteOffset + buyer);
    fs.writeFileSync(file, bad);
    assert.throws(() => readSnapshot(file), /order row 0 buyer 99/);
  });

  it('places header fields and regions where the layouts say (raw bytes)', () => {
    const image = sampleImage();
    const file = freshFile();
    writeSnapshot(file, image);
    const whole = fs.readFileSync(file);
    // A second view at a non-zero byteOffset: the file copied 8 bytes into a larger buffer.
    const copy = new Uint8Array(8 + whole.byteLength);
    copy.set(whole, 8);
    const data = new DataView(copy.buffer, 8);
    const offsets = SNAPSHOT_HEADER_V2.offsets;
    assert.deepEqual([...whole.subarray(0, 4)], [0x4e, 0x4c, 0x50, 0x55], 'magic "NLPU" LE');
    assert.equal(data.getUint32(offsets.magic, true), SNAPSHOT_MAGIC);
    assert.equal(data.getUint32(offsets.fileVersion, true), 2);
    assert.equal(data.getUint32(offsets.layoutHash, true), SNAPSHOT_V2_LAYOUT_HASH);
    assert.equal(data.getFloat64(offsets.lastSeq, true), 6);
    assert.equal(data.getFloat64(offsets.periodNetCvCents, true), 4_999);
    assert.equal(data.getFloat64(offsets.fileBytes, true), whole.byteLength);
    assert.equal(data.getUint32(offsets.orderCount, true), 2);
    const layout = snapshotFileLayout(readHeaderInfo(whole));
    assert.equal(layout.byteLength, whole.byteLength);
    assert.equal(layout.distributors.byteOffset, SNAPSHOT_HEADER_V2.SIZEOF);
    // Dense tables hold their rows in use: the image of DISTRIBUTORS at 3 rows, of ORDER_BOOK
    // at 2; the hash tables are whole.
    assert.equal(layout.distributors.byteLength, layoutFor(DISTRIBUTORS, 3).byteLength);
    assert.equal(layout.orderBook.byteLength, layoutFor(ORDER_BOOK, 2).byteLength);
    const externalId = layoutFor(DISTRIBUTORS, 3).column.externalId.byteOffset;
    const thirdId = data.getInt32(layout.distributors.byteOffset + externalId + 2 * 4, true);
    assert.equal(thirdId, 0x7fff_ffff);
    const seq = layoutFor(ORDER_BOOK, 2).column.seq.byteOffset;
    assert.equal(data.getFloat64(layout.orderBook.byteOffset + seq + 1 * 8, true), 4);
    const eventStart = 8 + layout.eventIds.byteOffset;
    const eventBytes = copy.subarray(eventStart, eventStart + layout.eventIds.byteLength);
    assert.deepEqual(eventBytes, image.eventIds.bytes());
  });

  it('asserts on an image whose parts disagree', () => {
    const image = sampleImage();
    const file = freshFile();
    const wrongCount = { ...image, scalars: { ...image.scalars, orderCount: 3 } };
    assert.throws(() => writeSnapshot(file, wrongCount), /order id count/);
    const wrongDistributors = { ...image, scalars: { ...image.scalars, count: 2 } };
    assert.throws(() => writeSnapshot(file, wrongDistributors), /id index size/);
    assert.ok(!fs.existsSync(file));
  });
});

function readHeaderInfo(bytes: Uint8Array) {
  const { magic, fileVersion, layoutHash, fileBytes, reserved0, reserved1, reserved2, ...info } =
    readStruct(SNAPSHOT_HEADER_V2, bytes);
  return info;
}
