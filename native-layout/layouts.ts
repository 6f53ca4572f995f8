/**
 * The concrete layouts of upline's shared memory and snapshot files. Change a field here and
 * every view, worker and snapshot follows; bump LAYOUT_VERSION when you do, and the layout
 * hash refuses snapshots written before the change.
 */
import { assert } from '../src/core/assert.js';
import {
  assertCapacity,
  column,
  combineFingerprints,
  defineTable,
  f64,
  i32,
  slot,
  u8,
} from './schema.js';
import { defineStruct } from './struct.js';

/**
 * 4 since the id index's entries carry a hash tag above the slot; 3 when it first held slots
 * only. 2 is skipped: a v2 snapshot file holds its own version (SNAPSHOT_FILE_VERSION, 2)
 * where a v1 file holds this one, and that field alone must tell the two apart (asserted in
 * snapshot-file.ts).
 */
export const LAYOUT_VERSION: number = 4;

/** Distributor ids are chosen by the operator in 1..2^31-1 (SPEC 2), so 0 means "none". */
export const DISTRIBUTOR_ID_MAX = 0x7fff_ffff;

// ---------------------------------------------------------------------------------------------
// DISTRIBUTORS: one row per dense slot (0, 1, 2, ... in enrollment order)

/** The distributor has been terminated (SPEC 3.5). */
export const FLAG_TERMINATED = 1;
/** The distributor's first order has happened (never reset, SPEC 3.2 step 4). */
export const FLAG_FIRST_ORDER_DONE = 2;
/** "I am my placement parent's R child" (else L); meaningful only with FLAG_PLACED. */
export const FLAG_PLACED_RIGHT = 4;
/** The distributor has a placement parent (a placement root does not). */
export const FLAG_PLACED = 8;
/**
 * The sponsor's next unplaced recruit goes to leg R. SPEC 3.1 sends the k-th unplaced recruit
 * to L when k is even and R when odd, so only k's parity matters: toggle this bit after each
 * auto-placed recruit instead of keeping a 4-byte counter (which would break the 96-byte
 * budget, see README).
 */
export const FLAG_AUTO_NEXT_RIGHT = 16;

export const DISTRIBUTORS = defineTable('distributors', LAYOUT_VERSION, {
  /** External id, 1..2^31-1; 0 in a row no distributor occupies yet. */
  externalId: i32,
  /** Slots are i32, SLOT_NONE (-1) = none. */
  sponsor: slot,
  parent: slot,
  childL: slot,
  childR: slot,
  /** Personally sponsored distributors active this period. */
  legs: i32,
  /** Personal enrollments this period. */
  enrollments: i32,
  /** Volumes and money are f64 holding integers: exact up to 2^53 (cents, points). */
  pv: f64,
  gv: f64,
  legVolumeL: f64,
  legVolumeR: f64,
  balance: f64,
  /** Epoch ms. */
  enrolledAt: f64,
  paidRank: u8,
  title: u8,
  /** FLAG_* bits. */
  flags: u8,
});

export type DistributorFields = typeof DISTRIBUTORS.fields;

// ---------------------------------------------------------------------------------------------
// ID_INDEX: open addressing, external id -> slot (see id-index.ts)

/**
 * Load factor at most 3/4 (linear probing with fmix32 stays near 2.5 probes per hit there).
 * Schema v1 first kept 1/2, which at a configured 10M distributors took a 2^25-position index
 * where 2^24 is enough.
 */
export const ID_INDEX_LOAD_MAX = 3 / 4;
export const ID_INDEX_CAPACITY_MIN = 16;

/** The most ids an index of `capacity` positions (a power of two >= 16) holds. */
export function idIndexSizeMax(capacity: number): number {
  return capacity * ID_INDEX_LOAD_MAX;
}
/**
 * An ID_INDEX entry is a slot with 2 bits of its id's hash above it (id-index.ts), so slots
 * must fit below ID_INDEX_TAG_SHIFT: the index addresses at most 2^29 distributor rows.
 */
export const ID_INDEX_TAG_SHIFT = 29;
export const ID_INDEX_ROWS_MAX = 2 ** ID_INDEX_TAG_SHIFT;
/** An empty position (every real entry is >= 0). */
export const ID_INDEX_EMPTY = -1;

/**
 * Entries only, ID_INDEX_EMPTY (-1) = an empty position. The key of the slot in an entry is
 * the slot's DISTRIBUTORS `externalId`, which every lookup compares: layout v1 stored the key
 * beside the slot (`keys` i32, `values` i32), twice the bytes (128 MiB at 10M, now 64).
 */
export const ID_INDEX = defineTable('idIndex', LAYOUT_VERSION, {
  entries: column('i32', ID_INDEX_EMPTY),
});

export function nextPowerOfTwo(value: number): number {
  assert(Number.isSafeInteger(value) && value >= 1, `nextPowerOfTwo of ${value}`);
  return 2 ** Math.ceil(Math.log2(value));
}

/**
 * The id index capacity that goes with a distributor table of `distributorCapacity` rows:
 * grown in lockstep, the index can never pass load 3/4 while the table has a free row. A
 * power-of-two distributor capacity gets exactly 2 positions per row; a configured one, c,
 * between 4/3 and 8/3 (10M: 2^24, 1.68 per row).
 */
export function idIndexCapacityFor(distributorCapacity: number): number {
  assertCapacity(distributorCapacity, DISTRIBUTORS.name);
  const capacity = nextPowerOfTwo(Math.ceil(distributorCapacity / ID_INDEX_LOAD_MAX));
  return Math.max(ID_INDEX_CAPACITY_MIN, capacity);
}

/**
 * The largest initial capacity an operator may configure for distributors, orders or events
 * (config keys and `upline replay` flags): the tables it sizes must still be addressable by
 * i32 positions, and the id index and the id fingerprint tables take up to 8/3 positions a
 * row, rounded up to a power of two. 2^29 keeps every one of them at or below 2^30.
 */
export const CONFIGURED_CAPACITY_MAX = 2 ** 29;

/** Index positions per distributor row when the table's capacity is a power of two. */
export const ID_INDEX_POSITIONS_PER_ROW = idIndexCapacityFor(1 << 20) / (1 << 20);

// ---------------------------------------------------------------------------------------------
// SNAPSHOT_HEADER and the snapshot file: header, DISTRIBUTORS buffer, ID_INDEX buffer

/** 'UPLN' read as a little-endian u32 is 0x4e4c5055; stored as this number. */
export const SNAPSHOT_MAGIC = 0x55504c4e;

export const SNAPSHOT_HEADER = defineStruct('snapshotHeader', LAYOUT_VERSION, {
  magic: 'u32',
  layoutVersion: 'u32',
  layoutHash: 'u32',
  distributorCount: 'u32',
  distributorCapacity: 'u32',
  idIndexCapacity: 'u32',
  lastSeq: 'f64',
  period: 'u32',
  reserved0: 'u32',
  reserved1: 'u64',
  reserved2: 'u64',
  reserved3: 'u64',
});

/** Covers every definition a snapshot file is made of: any change refuses old files. */
export const SNAPSHOT_LAYOUT_HASH = combineFingerprints(LAYOUT_VERSION, [
  SNAPSHOT_HEADER.hash,
  DISTRIBUTORS.hash,
  ID_INDEX.hash,
]);

// Size asserts at load time (TigerBeetle's comptime asserts): a changed declaration must
// change these numbers on purpose, together with the README's budget table.
assert(DISTRIBUTORS.bytesPerRow === 79, `DISTRIBUTORS row is ${DISTRIBUTORS.bytesPerRow} bytes`);
assert(ID_INDEX.bytesPerRow === 4, `ID_INDEX row is ${ID_INDEX.bytesPerRow} bytes`);
assert(
  CONFIGURED_CAPACITY_MAX <= ID_INDEX_ROWS_MAX,
  'every configured distributor slot fits below the id index tag',
);
// Homes use the hash's low bits and the tag its top 2, so they must not overlap.
assert(
  idIndexCapacityFor(ID_INDEX_ROWS_MAX) <= 2 ** 30,
  'an id index of the most rows has homes below the tag bits',
);
assert(SNAPSHOT_HEADER.SIZEOF === 64, `SNAPSHOT_HEADER is ${SNAPSHOT_HEADER.SIZEOF} bytes`);
assert(SNAPSHOT_HEADER.offsets.magic === 0, 'magic must open the file');
assert(SNAPSHOT_HEADER.offsets.lastSeq % 8 === 0, 'lastSeq must be 8-aligned');
