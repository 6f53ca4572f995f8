/**
 * Layouts for the engine's string-keyed state: STRING_IDS (event id -> packed seq/outcome,
 * order id -> order row) and ORDER_BOOK (one row per accepted order). Kept out of
 * `layouts.ts`, which other layouts own; the snapshot file that combines all of them is in
 * `snapshot-file.ts`.
 *
 * A string id is never stored as a string. It is stored as a 48-bit fingerprint, a 32-bit
 * hash A and 16 bits of an independent hash B of its UTF-16 code units, in an open-addressing
 * table; values are integers below 2^48, split in two columns:
 *
 *   hashA      | 0 | a7 | 0 | 3f | 3f | 0 | ...  u32, 0 = empty (a real hash A is never 0)
 *   hashB      | 0 | 19 | 0 | 52 | e0 | 0 | ...  u16, compared only when hashA matches
 *   valueLow   | 0 | 96 | 0 | 33 |  8 | 0 | ...  u32, value mod 2^32
 *   valueHigh  | 0 |  0 | 0 |  0 |  0 | 0 | ...  u16, floor(value / 2^32)
 *                ^ home = hashA & mask; linear probing; positions 3 and 4 share hashA
 *
 * 12 bytes per position (16 with a whole u32 hash B and an f64 value: 64 MiB more for the
 * 2^24 positions of 10M event ids). Hash A must stay whole: a growth rehashes from it, having
 * no keys. Keys in one probe run tend to share hash A's low bits (their homes are near), so
 * at capacity 2^k only 32 - k of its bits tell them apart; hash B's 16 bits are independent
 * of the position, which keeps a false fingerprint match per lookup below 2^-26 at 2^22
 * positions and 2^-18 at 2^30. Values: an event's seq * 32 + outcome (seqs up to 2^43) or an
 * order row.
 *
 * Probing reads only the dense u32 `hashA` column (16 positions per 64-byte cache line),
 * which is why the maximum load is 3/4 rather than 1/2: an unsuccessful lookup (every new
 * event id is one) costs ~8.5 probes on average at load 3/4, i.e. one or two cache lines of
 * `hashA`. Measured with 6M ids: get-miss + set took 2.59 s at capacity 2^23 (end load 0.72)
 * and 2.57 s at 2^24 (0.36), hits 2.0 s and 1.8 s: cache misses on the key strings and the
 * table dominate, not probe length, so the lower load would buy nothing for twice the memory.
 *
 * A fingerprint can collide (and on purpose if a client crafts ids), so the table never
 * decides equality alone: on a fingerprint match the caller confirms against the event log
 * (see StringIdTable.get).
 */
import { assert } from '../src/core/assert.js';
import { isPowerOfTwo, column, defineTable, f64, i32, slot, u16, u32, u8 } from './schema.js';

/**
 * Bump when the fingerprint function below changes: tables written by another function are
 * then refused (the version is part of STRING_IDS' layout hash, so of the snapshot's).
 */
export const STRING_IDS_VERSION = 2;

/** hashA of an empty position. `fingerprintString` never produces it. */
export const STRING_ID_EMPTY = 0;
/** What a lookup answers for an absent key (an empty position's columns are all 0). */
export const STRING_ID_ABSENT = -1;
/** Values are integers in [0, STRING_ID_VALUE_LIMIT): what valueLow and valueHigh hold. */
export const STRING_ID_VALUE_LIMIT = 2 ** 48;
/** Hash B keeps this many low bits (the width of the hashB column). */
export const STRING_ID_HASH_B_MASK = 0xffff;
/** Event ids and order ids are 1..64 characters (src/events/validate.ts). */
export const STRING_ID_LENGTH_MAX = 64;
export const STRING_IDS_CAPACITY_MIN = 16;
/** Maximum load: size <= capacity * NUMERATOR / DENOMINATOR (see the top comment). */
export const STRING_IDS_LOAD_MAX_NUMERATOR = 3;
export const STRING_IDS_LOAD_MAX_DENOMINATOR = 4;

export const STRING_IDS = defineTable('stringIds', STRING_IDS_VERSION, {
  hashA: column('u32', STRING_ID_EMPTY),
  hashB: u16,
  valueLow: u32,
  valueHigh: u16,
});

export type StringIdFields = typeof STRING_IDS.fields;

/** Most keys a table of `capacity` positions holds (an integer: capacity is 2^k >= 16). */
export function stringIdsSizeMax(capacity: number): number {
  const quarter = capacity / STRING_IDS_LOAD_MAX_DENOMINATOR;
  return quarter * STRING_IDS_LOAD_MAX_NUMERATOR;
}

/** The smallest valid capacity that holds `size` keys within the load limit. */
export function stringIdsCapacityFor(size: number): number {
  assert(Number.isSafeInteger(size) && size >= 0, `string id count ${size}`);
  let capacity = STRING_IDS_CAPACITY_MIN;
  while (stringIdsSizeMax(capacity) < size) capacity *= 2;
  assert(isPowerOfTwo(capacity), 'string id capacity is a power of two');
  return capacity;
}

// ---------------------------------------------------------------------------------------------
// The fingerprint: two structurally different 32-bit hashes in one pass over the code units

const MURMUR_SEED = 0x9747b28c;
const MURMUR_C1 = 0xcc9e2d51;
const MURMUR_C2 = 0x1b873593;
const FNV_SEED = 0x811c9dc5 ^ 0x5bd1e995;
const FNV_PRIME = 0x01000193;
/** Replaces a hash A of 0, which marks an empty position (halves one value's odds: harmless). */
const HASH_A_ZERO_STAND_IN = 0x6b43a9b5;

/** murmur3's 32-bit finalizer: every input bit reaches every output bit. */
function fmix32(value: number): number {
  let hash = value;
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return hash >>> 0;
}

/** murmur3_32's block step over one 32-bit word. */
function murmurBlock(hash: number, word: number): number {
  let k = Math.imul(word, MURMUR_C1);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, MURMUR_C2);
  const mixed = hash ^ k;
  return (Math.imul((mixed << 13) | (mixed >>> 19), 5) + 0xe6546b64) | 0;
}

/**
 * Writes the fingerprint of `key` into `out[0]` (hash A: murmur3-style blocks over pairs of
 * UTF-16 code units, never 0, picks the home position) and `out[1]` (hash B: FNV-1a over code
 * units with murmur's finalizer). Reads `charCodeAt` only: no allocation, no TextEncoder. Two
 * different constructions, so keys colliding in one are no likelier to collide in the other.
 */
export function fingerprintString(key: string, out: Uint32Array): void {
  const length = key.length;
  let a = MURMUR_SEED;
  let b = FNV_SEED;
  let index = 0;
  for (; index + 1 < length; index += 2) {
    const low = key.charCodeAt(index);
    const high = key.charCodeAt(index + 1);
    a = murmurBlock(a, low | (high << 16));
    b = Math.imul(Math.imul(b ^ low, FNV_PRIME) ^ high, FNV_PRIME);
  }
  if (index < length) {
    const last = key.charCodeAt(index);
    a = murmurBlock(a, last);
    b = Math.imul(b ^ last, FNV_PRIME);
  }
  const hashA = fmix32(a ^ length);
  out[0] = hashA === STRING_ID_EMPTY ? HASH_A_ZERO_STAND_IN : hashA;
  out[1] = fmix32(b ^ length);
}

// ---------------------------------------------------------------------------------------------
// ORDER_BOOK: one row per accepted order, in acceptance order (rows are never removed)

export const ORDER_BOOK_VERSION = 1;

export const ORDER_BOOK = defineTable('orderBook', ORDER_BOOK_VERSION, {
  /** The buyer's distributor slot; SLOT_NONE (-1) in a row no order occupies yet. */
  buyer: slot,
  pv: f64,
  cvCents: f64,
  /** The period the order was accepted in (its volume leaves that period on refund). */
  period: i32,
  /** The order event's seq (what a refund reverses the lines of). */
  seq: f64,
  /** 1 once refunded; the order id stays taken. */
  refunded: u8,
});

export type OrderBookFields = typeof ORDER_BOOK.fields;

// Size asserts at load time: a changed declaration must change these on purpose.
assert(STRING_IDS.bytesPerRow === 12, `STRING_IDS position is ${STRING_IDS.bytesPerRow} bytes`);
assert(ORDER_BOOK.bytesPerRow === 33, `ORDER_BOOK row is ${ORDER_BOOK.bytesPerRow} bytes`);
assert(stringIdsSizeMax(STRING_IDS_CAPACITY_MIN) === 12, 'load 3/4 of the minimum capacity');
