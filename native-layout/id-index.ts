/**
 * External distributor id -> dense slot, as an open-addressing hash table in one
 * SharedArrayBuffer (the ID_INDEX table: `keys` i32, `values` i32), so workers look ids up
 * without a Map per thread.
 *
 *   keys   | 0 | 17 | 0 | 42 | 9 | 0 | ...   0 = empty (ids are 1..2^31-1)
 *   values |-1 |  0 |-1 |  2 | 1 |-1 | ...   slot of the id in the same position
 *            ^ home = fmix32(id) & mask; collisions probe linearly to the next position
 *
 * Capacity is a power of two and the load factor stays <= 3/4, so a probe always reaches an
 * empty key and the expected probe length stays short. Nothing is ever deleted (distributors
 * are terminated, not removed), so there are no tombstones.
 *
 * Concurrency: one writer (the instance that `create`d the index, on the engine thread); any
 * number of readers that `attach`ed to its buffer. Plain loads and stores are enough because
 * writer and readers never overlap: `set` runs between batches, and the batch handshake
 * (Atomics in the worker pool) orders the writer's stores before the readers' next loads.
 * Growth is a handover exactly like `growTable`: `grow()` returns a new index over a new
 * buffer with `generation + 1`, and the old writer is retired (its `set` asserts).
 */
import { assert, AssertionError } from '../src/core/assert.js';
import {
  DISTRIBUTOR_ID_MAX,
  ID_INDEX,
  ID_INDEX_CAPACITY_MIN,
  ID_INDEX_EMPTY_KEY,
  idIndexSizeMax,
} from './layouts.js';
import { isPowerOfTwo, SLOT_NONE } from './schema.js';
import type { TableHandle, TableShare } from './table.js';
import { attachShared, attachTable, createTable, shareTable } from './table.js';

/** murmur3's 32-bit finalizer: every input bit reaches every output bit (ids spread out). */
export function hashId(id: number): number {
  let hash = id | 0;
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return hash >>> 0;
}

function assertId(id: number): void {
  // Runs on every lookup: the message is built only on failure, so a lookup allocates nothing.
  if (Number.isInteger(id) && id >= 1 && id <= DISTRIBUTOR_ID_MAX) return;
  throw new AssertionError(`bad distributor id ${id}`);
}

type IdIndexHandle = TableHandle<typeof ID_INDEX.fields>;

export class IdIndex {
  readonly handle: IdIndexHandle;
  /** False for an attached reader, and for a writer retired by `grow()`. */
  #writable: boolean;
  #size: number;
  readonly #keys: Int32Array;
  readonly #values: Int32Array;
  readonly #mask: number;

  private constructor(handle: IdIndexHandle, writable: boolean, size: number) {
    assert(isPowerOfTwo(handle.capacity), `id index capacity ${handle.capacity} not a power of 2`);
    assert(handle.capacity >= ID_INDEX_CAPACITY_MIN, `id index capacity ${handle.capacity} small`);
    this.handle = handle;
    this.#writable = writable;
    this.#size = size;
    this.#keys = handle.views.keys;
    this.#values = handle.views.values;
    this.#mask = handle.capacity - 1;
  }

  /** An empty index of `capacityPow2` positions (holds up to capacityPow2 / 2 ids). */
  static create(capacityPow2: number): IdIndex {
    return new IdIndex(createTable(ID_INDEX, capacityPow2), true, 0);
  }

  /**
   * A read-only view of an index another thread writes. Counts and checks every entry once
   * (O(capacity), only at attach and handover): `size` is the count at attach time.
   */
  static attach(buffer: SharedArrayBuffer, capacity: number, generation = 0): IdIndex {
    return IdIndex.#reader(attachTable(ID_INDEX, buffer, capacity, generation));
  }

  /** `attach` from the message `share()` produced; refuses another layout. */
  static attachShared(share: TableShare): IdIndex {
    return IdIndex.#reader(attachShared(ID_INDEX, share));
  }

  static #reader(handle: IdIndexHandle): IdIndex {
    const { keys, values } = handle.views;
    let size = 0;
    for (let position = 0; position < handle.capacity; position++) {
      const key = keys[position] ?? ID_INDEX_EMPTY_KEY;
      if (key === ID_INDEX_EMPTY_KEY) continue;
      // Checked per entry: build a message only for a corrupt one.
      if (key < 1) throw new AssertionError(`id index key ${key} at ${position} is not an id`);
      if ((values[position] ?? SLOT_NONE) < 0) {
        throw new AssertionError(`id index value at ${position} is no slot`);
      }
      size++;
    }
    assert(size <= idIndexSizeMax(handle.capacity), 'id index above load 3/4');
    return new IdIndex(handle, false, size);
  }

  get capacity(): number {
    return this.handle.capacity;
  }

  get buffer(): SharedArrayBuffer {
    return this.handle.buffer;
  }

  get generation(): number {
    return this.handle.generation;
  }

  get writable(): boolean {
    return this.#writable;
  }

  /** Ids stored (for a reader: at attach time). */
  get size(): number {
    return this.#size;
  }

  /** The most ids this capacity holds at load 3/4; `set` beyond it is a bug: grow first. */
  get sizeMax(): number {
    return idIndexSizeMax(this.handle.capacity);
  }

  /** The slot of `id`, or -1 (SLOT_NONE) if absent. Allocates nothing. */
  get(id: number): number {
    assertId(id);
    const keys = this.#keys;
    const mask = this.#mask;
    let position = hashId(id) & mask;
    // Terminates: load <= 3/4 guarantees an empty key on every probe path.
    for (;;) {
      const key = keys[position];
      if (key === id) return this.#values[position] ?? SLOT_NONE;
      if (key === ID_INDEX_EMPTY_KEY || key === undefined) return SLOT_NONE;
      position = (position + 1) & mask;
    }
  }

  /** Stores `id -> slot`; `id` must be absent and there must be room (grow before). */
  set(id: number, slot: number): void {
    assert(this.#writable, 'id index is read-only here (an attached reader or a retired writer)');
    assertId(id);
    if (!(Number.isInteger(slot) && slot >= 0 && slot <= DISTRIBUTOR_ID_MAX)) {
      throw new AssertionError(`bad slot ${slot}`);
    }
    if (this.#size >= this.sizeMax) {
      throw new AssertionError(`id index full at ${this.#size}: grow at the batch boundary`);
    }
    this.#insert(id, slot);
    this.#size++;
  }

  #insert(id: number, slot: number): void {
    const keys = this.#keys;
    const mask = this.#mask;
    let position = hashId(id) & mask;
    for (;;) {
      const key = keys[position];
      if (key === id) throw new AssertionError(`id ${id} is already in the index`);
      if (key === ID_INDEX_EMPTY_KEY) break;
      position = (position + 1) & mask;
    }
    // Value before key: a (mis)concurrent reader that sees the key never sees SLOT_NONE.
    this.#values[position] = slot;
    keys[position] = id;
  }

  /**
   * Handover growth: a new writer over a new buffer of `newCapacity` positions holding every
   * entry (rehashed), generation + 1. This writer is retired; readers of the old buffer keep
   * working until they attach the new one.
   */
  grow(newCapacity = this.handle.capacity * 2): IdIndex {
    assert(this.#writable, 'only the live writer can grow the id index');
    assert(newCapacity > this.handle.capacity, `id index must grow: ${newCapacity}`);
    const created = createTable(ID_INDEX, newCapacity, this.handle.generation + 1);
    const next = new IdIndex(created, true, 0);
    const keys = this.#keys;
    for (let position = 0; position < this.handle.capacity; position++) {
      const key = keys[position] ?? ID_INDEX_EMPTY_KEY;
      if (key === ID_INDEX_EMPTY_KEY) continue;
      next.set(key, this.#values[position] ?? SLOT_NONE);
    }
    assert(next.size === this.#size, 'id index lost entries while growing');
    this.#writable = false;
    return next;
  }

  /** The message a worker attaches with (`IdIndex.attachShared`). */
  share(): TableShare {
    return shareTable(this.handle);
  }
}
