/**
 * The snapshot file: a SNAPSHOT_HEADER, then the DISTRIBUTORS buffer, then the ID_INDEX
 * buffer, each region 8-aligned and byte-for-byte the SharedArrayBuffer image (so loading is
 * one copy per table, and the header's capacities give back the same layouts).
 *
 *   0                 64                          64 + D                    64 + D + I
 *   | SNAPSHOT_HEADER | DISTRIBUTORS (capacity C) | ID_INDEX (capacity 2C) |
 *
 * Offsets come from `snapshotLayout`, never from the store's own arithmetic.
 */
import { assert, AssertionError } from '../src/core/assert.js';
import { UplineError } from '../src/core/errors.js';
import {
  DISTRIBUTORS,
  ID_INDEX,
  LAYOUT_VERSION,
  SNAPSHOT_HEADER,
  SNAPSHOT_LAYOUT_HASH,
  SNAPSHOT_MAGIC,
  idIndexSizeMax,
} from './layouts.js';
import {
  alignUp,
  assertFingerprint,
  COLUMN_ALIGN_BYTES,
  isPowerOfTwo,
  layoutFor,
} from './schema.js';
import type { StructValue } from './struct.js';
import { readStruct, writeStruct } from './struct.js';

/** What a snapshot header says beyond its fixed stamp (magic, version, hash). */
export interface SnapshotHeaderInfo {
  distributorCount: number;
  distributorCapacity: number;
  idIndexCapacity: number;
  /** The seq of the last event the snapshot includes (a safe integer). */
  lastSeq: number;
  period: number;
}

export interface FileRegion {
  readonly byteOffset: number;
  readonly byteLength: number;
}

export interface SnapshotLayout {
  readonly header: FileRegion;
  readonly distributors: FileRegion;
  readonly idIndex: FileRegion;
  readonly byteLength: number;
}

function corrupt(message: string): never {
  throw new UplineError('UPLINE_IO', `corrupt snapshot header: ${message}`);
}

/** Checks the numbers of a header: on encode (a bug) and on decode (a bad file). */
function checkInfo(info: SnapshotHeaderInfo, fail: (message: string) => never): void {
  const { distributorCount, distributorCapacity, idIndexCapacity, lastSeq, period } = info;
  if (!Number.isInteger(distributorCapacity) || distributorCapacity < 1) {
    fail(`distributorCapacity ${distributorCapacity}`);
  }
  if (!Number.isInteger(distributorCount) || distributorCount < 0) {
    fail(`distributorCount ${distributorCount}`);
  }
  if (distributorCount > distributorCapacity) fail('distributorCount > distributorCapacity');
  if (!isPowerOfTwo(idIndexCapacity)) fail(`idIndexCapacity ${idIndexCapacity}`);
  // The index keeps load <= 3/4, so a file that breaks it was not written by upline.
  if (distributorCount > idIndexSizeMax(idIndexCapacity)) fail('idIndexCapacity too small');
  if (!Number.isSafeInteger(lastSeq) || lastSeq < 0) fail(`lastSeq ${lastSeq}`);
  if (!Number.isInteger(period) || period < 0) fail(`period ${period}`);
}

function headerValue(info: SnapshotHeaderInfo): StructValue<typeof SNAPSHOT_HEADER.fields> {
  return {
    magic: SNAPSHOT_MAGIC,
    layoutVersion: LAYOUT_VERSION,
    layoutHash: SNAPSHOT_LAYOUT_HASH,
    distributorCount: info.distributorCount,
    distributorCapacity: info.distributorCapacity,
    idIndexCapacity: info.idIndexCapacity,
    lastSeq: info.lastSeq,
    period: info.period,
    reserved0: 0,
    reserved1: 0n,
    reserved2: 0n,
    reserved3: 0n,
  };
}

/** A header of SNAPSHOT_HEADER.SIZEOF bytes stamped with this build's layout. */
export function encodeSnapshotHeader(info: SnapshotHeaderInfo): Uint8Array {
  checkInfo(info, (message) => {
    throw new AssertionError(`snapshot header to write: ${message}`);
  });
  const bytes = new Uint8Array(SNAPSHOT_HEADER.SIZEOF);
  writeStruct(SNAPSHOT_HEADER, bytes, 0, headerValue(info));
  return bytes;
}

/**
 * Reads and checks a header at `byteOffset`: refuses another file type, another layout
 * version or another layout hash (UPLINE_LAYOUT_MISMATCH), and a truncated or inconsistent
 * header (UPLINE_IO).
 */
export function decodeSnapshotHeader(bytes: ArrayBufferView, byteOffset = 0): SnapshotHeaderInfo {
  if (byteOffset + SNAPSHOT_HEADER.SIZEOF > bytes.byteLength) corrupt('truncated');
  const header = readStruct(SNAPSHOT_HEADER, bytes, byteOffset);
  if (header.magic !== SNAPSHOT_MAGIC) {
    throw new UplineError('UPLINE_LAYOUT_MISMATCH', 'not an upline snapshot (bad magic)');
  }
  if (header.layoutVersion !== LAYOUT_VERSION) {
    throw new UplineError(
      'UPLINE_LAYOUT_MISMATCH',
      `snapshot layoutVersion ${header.layoutVersion}, this build reads ${LAYOUT_VERSION}`,
    );
  }
  assertFingerprint('snapshot', SNAPSHOT_LAYOUT_HASH, header.layoutHash);
  const reservedZero =
    header.reserved0 === 0 &&
    header.reserved1 === 0n &&
    header.reserved2 === 0n &&
    header.reserved3 === 0n;
  if (!reservedZero) corrupt('reserved bytes are not zero');
  const info: SnapshotHeaderInfo = {
    distributorCount: header.distributorCount,
    distributorCapacity: header.distributorCapacity,
    idIndexCapacity: header.idIndexCapacity,
    lastSeq: header.lastSeq,
    period: header.period,
  };
  checkInfo(info, corrupt);
  return info;
}

/** Where each part of a snapshot file lives, for the capacities its header names. */
export function snapshotLayout(
  distributorCapacity: number,
  idIndexCapacity: number,
): SnapshotLayout {
  const header = { byteOffset: 0, byteLength: SNAPSHOT_HEADER.SIZEOF };
  const distributorsBytes = layoutFor(DISTRIBUTORS, distributorCapacity).byteLength;
  const distributors = {
    byteOffset: alignUp(header.byteLength, COLUMN_ALIGN_BYTES),
    byteLength: distributorsBytes,
  };
  const idIndex = {
    byteOffset: alignUp(distributors.byteOffset + distributorsBytes, COLUMN_ALIGN_BYTES),
    byteLength: layoutFor(ID_INDEX, idIndexCapacity).byteLength,
  };
  const byteLength = idIndex.byteOffset + idIndex.byteLength;
  assert(distributors.byteOffset >= header.byteOffset + header.byteLength, 'header overlap');
  assert(idIndex.byteOffset >= distributors.byteOffset + distributors.byteLength, 'overlap');
  assert(byteLength % COLUMN_ALIGN_BYTES === 0, 'snapshot length not aligned');
  return Object.freeze({ header, distributors, idIndex, byteLength });
}
