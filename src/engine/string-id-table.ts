/**
 * String id -> number, over the STRING_IDS table (native-layout/string-ids.ts): open
 * addressing, linear probing, power-of-two capacity, load <= 3/4, keys stored as a 48-bit
 * fingerprint (hash A and 16 bits of hash B), values as integers below 2^48. Replaces the
 * engine's Map<string, number>s (event id dedupe, order id -> order row): 12 bytes per position
 * instead of ~127 per Map entry, one SharedArrayBuffer that a snapshot writes and reads as
 * bytes.
 *
 * Equality is confirmed by the caller. Two different keys can share a fingerprint, so on a
 * fingerprint match the table asks `confirm(value, key)` whether the stored entry really is
 * `key` (the engine reads the event at the seq the value names and compares ids). If not,
 * probing goes on: both keys can be stored, each found by its own confirmation.
 *
 * Single owner (the sequencer thread); nothing else reads the buffer while it is live, so
 * `grow()` may swap buffers at any call: it is a handover inside one thread. Entries are
 * never deleted (a taken event id or order id stays taken), so there are no tombstones.
 */
import {
  STRING_IDS,
  STRING_IDS_CAPACITY_MIN,
  STRING_ID_ABSENT,
  STRING_ID_EMPTY,
  STRING_ID_HASH_B_MASK,
  STRING_ID_LENGTH_MAX,
  STRING_ID_VALUE_LIMIT,
  fingerprintString,
  stringIdsCapacityFor,
  stringIdsSizeMax,
} from '../../native-layout/string-ids.js';
import { isPowerOfTwo, layoutFor } from '../../native-layout/schema.js';
import type { TableHandle } from '../../native-layout/table.js';
import { attachTable, createTable, tableBytes } from '../../native-layout/table.js';
import { AssertionError, assert } from '../core/assert.js';
import { UplineError } from '../core/errors.js';

/**
 * True only if the entry holding `value` really is `key`. Called on fingerprint matches
 * only. Pass one function created once (a bound method), not a new closure per call.
 */
export type ConfirmEntry = (value: number, key: string) => boolean;

/** Writes a key's fingerprint to out[0] (never 0) and out[1]; injectable for tests. */
export type Fingerprint = (key: string, out: Uint32Array) => void;

export type StringIdsHandle = TableHandle<typeof STRING_IDS.fields>;

function assertKey(key: string): void {
  // On every call: build the message only on failure, so the hot path allocates nothing.
  if (key.length >= 1 && key.length <= STRING_ID_LENGTH_MAX) return;
  throw new AssertionError(`string id of ${key.length} characters, want 1..64`);
}

function assertValue(value: number): void {
  if (Number.isSafeInteger(value) && value >= 0 && value < STRING_ID_VALUE_LIMIT) return;
  throw new AssertionError(`string id value ${value} is not an integer in [0, 2^48)`);
}

const VALUE_LOW_SPAN = 2 ** 32;

function corrupt(message: string): never {
  throw new UplineError('UPLINE_IO', `corrupt string id table: ${message}`);
}

export class StringIdTable {
  #handle: StringIdsHandle;
  #hashA: Uint32Array;
  #hashB: Uint16Array;
  #valueLow: Uint32Array;
  #valueHigh: Uint16Array;
  #mask: number;
  #size: number;
  readonly #fingerprint: Fingerprint;
  /** The fingerprint of the key at hand; copied to locals before `confirm` may re-enter. */
  readonly #scratch = new Uint32Array(2);

  private constructor(handle: StringIdsHandle, size: number, fingerprint: Fingerprint) {
    assert(isPowerOfTwo(handle.capacity), `string id capacity ${handle.capacity} not 2^k`);
    assert(handle.capacity >= STRING_IDS_CAPACITY_MIN, `string id capacity ${handle.capacity}`);
    assert(size <= stringIdsSizeMax(handle.capacity), 'string id table above its load limit');
    this.#handle = handle;
    this.#hashA = handle.views.hashA;
    this.#hashB = handle.views.hashB;
    this.#valueLow = handle.views.valueLow;
    this.#valueHigh = handle.views.valueHigh;
    this.#mask = handle.capacity - 1;
    this.#size = size;
    this.#fingerprint = fingerprint;
  }

  /**
   * An empty table of `capacityPow2` positions (holds 3/4 of that). `fingerprint` is for
   * tests that force collisions; a table's bytes are only meaningful under the function that
   * wrote them, and snapshots assume the default.
   */
  static create(capacityPow2: number, fingerprint: Fingerprint = fingerprintString) {
    return new StringIdTable(createTable(STRING_IDS, capacityPow2), 0, fingerprint);
  }

  /** An empty table big enough for `sizeTarget` keys without growing (size from config). */
  static createFor(sizeTarget: number, fingerprint: Fingerprint = fingerprintString) {
    return StringIdTable.create(stringIdsCapacityFor(sizeTarget), fingerprint);
  }

  /** A table restored from `bytes()` of one with this capacity and size; copies the bytes. */
  static fromBytes(
    bytes: Uint8Array,
    capacity: number,
    size: number,
    fingerprint: Fingerprint = fingerprintString,
  ): StringIdTable {
    const byteLength = layoutFor(STRING_IDS, capacity).byteLength;
    if (bytes.byteLength !== byteLength) {
      corrupt(`${bytes.byteLength} bytes, capacity ${capacity} needs ${byteLength}`);
    }
    const buffer = new SharedArrayBuffer(byteLength);
    new Uint8Array(buffer).set(bytes);
    return StringIdTable.fromTable(attachTable(STRING_IDS, buffer, capacity), size, fingerprint);
  }

  /**
   * Adopts a table's buffer without copying (the snapshot reader reads straight into it).
   * Checks every position once, O(capacity): empty positions are fully empty, the count is
   * `size`, and every entry is reachable from its home position. (Every taken position holds a
   * valid value: the two columns cannot spell one outside [0, 2^48).)
   */
  static fromTable(
    handle: StringIdsHandle,
    size: number,
    fingerprint: Fingerprint = fingerprintString,
  ): StringIdTable {
    if (!isPowerOfTwo(handle.capacity) || handle.capacity < STRING_IDS_CAPACITY_MIN) {
      corrupt(`capacity ${handle.capacity}`);
    }
    if (!Number.isSafeInteger(size) || size < 0 || size > stringIdsSizeMax(handle.capacity)) {
      corrupt(`size ${size} for capacity ${handle.capacity}`);
    }
    const counted = checkPositions(handle);
    if (counted !== size) corrupt(`${counted} entries, expected ${size}`);
    return new StringIdTable(handle, size, fingerprint);
  }

  get size(): number {
    return this.#size;
  }

  get capacity(): number {
    return this.#handle.capacity;
  }

  /** Keys this capacity holds before `set` grows the table. */
  get sizeMax(): number {
    return stringIdsSizeMax(this.#handle.capacity);
  }

  get generation(): number {
    return this.#handle.generation;
  }

  get handle(): StringIdsHandle {
    return this.#handle;
  }

  /** The table's bytes, byte for byte the STRING_IDS layout at `capacity` (for snapshots). */
  bytes(): Uint8Array {
    return tableBytes(this.#handle);
  }

  /** The value of `key`, or -1 if absent. Allocates nothing (given a pre-made `confirm`). */
  get(key: string, confirm: ConfirmEntry): number {
    const position = this.#find(key, confirm);
    return position === -1 ? STRING_ID_ABSENT : this.#valueAt(position);
  }

  /**
   * Stores `key -> value`. The caller has seen `get` answer -1 for `key`; with `confirm`
   * given, finding `key` on the way to a free position is asserted against as well. Grows
   * (a rehash into a new buffer) when the load limit would be passed: to keep that off the
   * hot path, size the table up front with `createFor` or `reserve`.
   */
  set(key: string, value: number, confirm?: ConfirmEntry): void {
    assertKey(key);
    assertValue(value);
    if (this.#size >= this.sizeMax) this.grow();
    this.#fingerprint(key, this.#scratch);
    const a = this.#scratch[0] ?? STRING_ID_EMPTY;
    const b = (this.#scratch[1] ?? 0) & STRING_ID_HASH_B_MASK;
    if (a === STRING_ID_EMPTY) throw new AssertionError('fingerprint A must not be 0');
    const hashA = this.#hashA;
    const mask = this.#mask;
    let position = a & mask;
    for (;;) {
      const stored = hashA[position] ?? STRING_ID_EMPTY;
      if (stored === STRING_ID_EMPTY) break;
      if (confirm !== undefined && stored === a && this.#hashB[position] === b) {
        if (confirm(this.#valueAt(position), key)) {
          throw new AssertionError(`string id ${key} is already in the table`);
        }
      }
      position = (position + 1) & mask;
    }
    this.#place(position, a, b, value);
    this.#size++;
  }

  /** Changes the value of `key`, which must be present (as `confirm` decides). */
  update(key: string, value: number, confirm: ConfirmEntry): void {
    assertValue(value);
    const position = this.#find(key, confirm);
    if (position === -1) throw new AssertionError(`string id ${key} is not in the table`);
    this.#writeValue(position, value);
  }

  /** Grows now, if needed, so that `sizeTarget` keys fit without a growth later. */
  reserve(sizeTarget: number): void {
    const capacity = stringIdsCapacityFor(sizeTarget);
    if (capacity > this.#handle.capacity) this.grow(capacity);
  }

  /**
   * Rehashes every entry into a new buffer of `newCapacity` positions (generation + 1). Needs
   * no key and no confirmation: the stored hash A gives each entry's new home.
   */
  grow(newCapacity = this.#handle.capacity * 2): void {
    const old = this.#handle;
    assert(newCapacity > old.capacity, `string id table must grow: ${newCapacity}`);
    const next = createTable(STRING_IDS, newCapacity, old.generation + 1);
    const { hashA: oldA, hashB: oldB, valueLow: oldLow, valueHigh: oldHigh } = old.views;
    this.#adopt(next);
    let moved = 0;
    for (let position = 0; position < old.capacity; position++) {
      const a = oldA[position] ?? STRING_ID_EMPTY;
      if (a === STRING_ID_EMPTY) continue;
      const to = this.#freePositionFrom(a);
      this.#hashB[to] = oldB[position] ?? 0;
      this.#valueLow[to] = oldLow[position] ?? 0;
      this.#valueHigh[to] = oldHigh[position] ?? 0;
      this.#hashA[to] = a;
      moved++;
    }
    assert(moved === this.#size, 'string id table lost entries while growing');
  }

  /** The position holding `key` (confirmed), or -1. The hot path: no allocation. */
  #find(key: string, confirm: ConfirmEntry): number {
    assertKey(key);
    this.#fingerprint(key, this.#scratch);
    // Locals, not the scratch: `confirm` may look up another key in this table.
    const a = this.#scratch[0] ?? STRING_ID_EMPTY;
    const b = (this.#scratch[1] ?? 0) & STRING_ID_HASH_B_MASK;
    if (a === STRING_ID_EMPTY) throw new AssertionError('fingerprint A must not be 0');
    const hashA = this.#hashA;
    const mask = this.#mask;
    let position = a & mask;
    // Terminates: load <= 3/4 leaves an empty position on every probe path.
    for (;;) {
      const stored = hashA[position] ?? STRING_ID_EMPTY;
      if (stored === STRING_ID_EMPTY) return -1;
      if (stored === a && this.#hashB[position] === b) {
        if (confirm(this.#valueAt(position), key)) return position;
      }
      position = (position + 1) & mask;
    }
  }

  #freePositionFrom(a: number): number {
    const hashA = this.#hashA;
    const mask = this.#mask;
    let position = a & mask;
    while ((hashA[position] ?? STRING_ID_EMPTY) !== STRING_ID_EMPTY) {
      position = (position + 1) & mask;
    }
    return position;
  }

  #place(position: number, a: number, b: number, value: number): void {
    // hashA last: it is what marks the position taken.
    this.#hashB[position] = b;
    this.#writeValue(position, value);
    this.#hashA[position] = a;
  }

  #valueAt(position: number): number {
    return (this.#valueHigh[position] ?? 0) * VALUE_LOW_SPAN + (this.#valueLow[position] ?? 0);
  }

  /** `value` is asserted to be an integer in [0, 2^48) by every caller's entry point. */
  #writeValue(position: number, value: number): void {
    this.#valueLow[position] = value % VALUE_LOW_SPAN;
    this.#valueHigh[position] = Math.floor(value / VALUE_LOW_SPAN);
  }

  #adopt(handle: StringIdsHandle): void {
    this.#handle = handle;
    this.#hashA = handle.views.hashA;
    this.#hashB = handle.views.hashB;
    this.#valueLow = handle.views.valueLow;
    this.#valueHigh = handle.views.valueHigh;
    this.#mask = handle.capacity - 1;
  }
}

interface Scan {
  /** Taken positions since the last empty one: the current probe run's length. */
  run: number;
  /** Non-zero once any position broke an invariant. */
  bad: number;
  count: number;
}

/**
 * Counts the entries of a table read from outside, checking each position: an empty one is
 * all zeros; a taken one lies within the probe run that contains it, i.e. its distance from
 * its home is less than the run's length so far (else `get` could never reach it). Runs wrap
 * around the end, so the scan starts at an empty position and goes round once, in two
 * straight segments.
 *
 * Restart cost matters here (2 tables of 2^23 positions): the scan is written with few
 * unpredictable branches and only sets a flag, ~60 ms a table against ~250 ms for the plain
 * version (`explainCorruption`), which runs only to name what is wrong.
 */
function checkPositions(handle: StringIdsHandle): number {
  const { hashA } = handle.views;
  const capacity = handle.capacity;
  let start = 0;
  while (start < capacity && hashA[start] !== STRING_ID_EMPTY) start++;
  if (start === capacity) corrupt('no empty position');
  const scan: Scan = { run: 0, bad: 0, count: 0 };
  scanSegment(handle, start, capacity, scan);
  scanSegment(handle, 0, start, scan);
  if (scan.bad !== 0) explainCorruption(handle);
  return scan.count;
}

function scanSegment(handle: StringIdsHandle, from: number, to: number, scan: Scan): void {
  const { hashA, hashB, valueLow, valueHigh } = handle.views;
  const mask = handle.capacity - 1;
  let { run, bad, count } = scan;
  for (let position = from; position < to; position++) {
    const a = hashA[position] ?? STRING_ID_EMPTY;
    const taken = a === STRING_ID_EMPTY ? 0 : 1;
    run = (run + 1) * taken;
    bad |= (((position - (a & mask)) & mask) >= run ? 1 : 0) & taken;
    const rest = (hashB[position] ?? 0) | (valueLow[position] ?? 0) | (valueHigh[position] ?? 0);
    bad |= (rest !== 0 ? 1 : 0) & (1 - taken);
    count += taken;
  }
  scan.run = run;
  scan.bad = bad;
  scan.count = count;
}

/** The slow, plain checks, run once a scan found something: throws naming the position. */
function explainCorruption(handle: StringIdsHandle): never {
  const { hashA, hashB, valueLow, valueHigh } = handle.views;
  const capacity = handle.capacity;
  for (let position = 0; position < capacity; position++) {
    if (hashA[position] !== STRING_ID_EMPTY) continue;
    const rest = (hashB[position] ?? 0) | (valueLow[position] ?? 0) | (valueHigh[position] ?? 0);
    if (rest !== 0) corrupt(`empty ${position}`);
  }
  checkReachable(hashA, capacity);
  throw new AssertionError('the scan and the plain checks disagree on a corrupt table');
}

function checkReachable(hashA: Uint32Array, capacity: number): void {
  const mask = capacity - 1;
  let start = 0;
  while (start < capacity && hashA[start] !== STRING_ID_EMPTY) start++;
  if (start === capacity) corrupt('no empty position');
  // A probe run is the taken positions after an empty one; walk from just after `start`.
  let runStart = (start + 1) & mask;
  for (let step = 1; step <= capacity; step++) {
    const position = (start + step) & mask;
    const a = hashA[position] ?? STRING_ID_EMPTY;
    if (a === STRING_ID_EMPTY) {
      runStart = (position + 1) & mask;
      continue;
    }
    const fromHome = (position - (a & mask)) & mask;
    const fromRunStart = (position - runStart) & mask;
    if (fromHome > fromRunStart) corrupt(`entry at ${position} unreachable from its home`);
  }
}
