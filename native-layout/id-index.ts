/**
 * External distributor id -> dense slot, as an open-addressing hash table in one
 * SharedArrayBuffer (the ID_INDEX table: `entries` i32), so workers look ids up without a Map
 * per thread. The index stores slots, not keys: the key of a slot is its DISTRIBUTORS row's
 * `externalId`, so a probe confirms a position by reading that column. Each entry is the slot
 * (29 bits) with a 2-bit tag above it, the top bits of the id's hash, so 3 in 4 positions
 * holding another id are passed without reading its row:
 *
 *   ID_INDEX.entries         | -1 | t|0 | -1 | t|2 | t|1 | -1 | ...   -1 = empty position
 *                                   |          |      |
 *   DISTRIBUTORS.externalId  | 17 |  9 | 42 | ...                      (slot 0, 1, 2)
 *
 *   get(42): h = fmix32(42); home = h & mask; while the position holds an entry, answer its
 *   slot if its tag is h's top 2 bits and externalId[slot] === 42, else go on to the next
 *   position (linear probing).
 *
 * Half the bytes of storing the key beside the slot (4 per position instead of 8: 64 MiB
 * less at 10M distributors), for a read of the row per position probed whose tag matches.
 * At 10M ids (load 0.6, the rows far beyond the CPU caches) that read cost 0.45 s more per
 * 10M absent lookups and inserts and 1.1 s more per 10M random hits than keys in the index;
 * the tag takes part of it back (figures in native-layout/README.md, "The id index").
 *
 * Capacity is a power of two and the load factor stays <= 3/4, so a probe always reaches an
 * empty position and the expected probe length stays short. Nothing is ever deleted
 * (distributors are terminated, not removed), so there are no tombstones.
 *
 * Pairing with DISTRIBUTORS: an index is bound, for its whole life, to the one DISTRIBUTORS
 * handle it reads keys from, and both carry the same generation (asserted on every create,
 * attach and grow), so a thread can never look up in an index with another buffer's ids.
 * Growth hands both over in lockstep: `growTable` first, then `index.grow(grownTable)`, which
 * always builds a new index buffer (even at the same capacity) bound to the new table. The old
 * pair is never written again, so a reader still holding it reads consistent (old) answers.
 * `set(id, slot)` requires the row to hold `id` already (write `externalId[slot]` first), and
 * every row that holds an id is indexed before the next growth, which rebuilds from the rows.
 *
 * Concurrency: one writer (the instance that `create`d the index, on the engine thread); any
 * number of readers that `attach`ed to its buffer, each with its own attached DISTRIBUTORS
 * handle of the same generation. Plain loads and stores are enough because writer and readers
 * never overlap: rows are written and `set` runs between batches, and the batch handshake
 * (Atomics in the worker pool) orders the writer's stores before the readers' next loads.
 * After `grow()` the old writer is retired (its `set` asserts).
 */
import { assert, AssertionError } from '../src/core/assert.js';
import type { DistributorFields } from './layouts.js';
import {
  DISTRIBUTOR_ID_MAX,
  DISTRIBUTORS,
  ID_INDEX,
  ID_INDEX_CAPACITY_MIN,
  ID_INDEX_EMPTY,
  ID_INDEX_ROWS_MAX,
  ID_INDEX_TAG_SHIFT,
  idIndexCapacityFor,
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

/** An entry's slot bits; above them, the tag. */
const SLOT_MASK = ID_INDEX_ROWS_MAX - 1;

/** The tag of a hash: its top 2 bits, in an entry's tag position. */
function tagOf(hash: number): number {
  return (hash >>> 30) << ID_INDEX_TAG_SHIFT;
}

function assertId(id: number): void {
  // Runs on every lookup: the message is built only on failure, so a lookup allocates nothing.
  if (Number.isInteger(id) && id >= 1 && id <= DISTRIBUTOR_ID_MAX) return;
  throw new AssertionError(`bad distributor id ${id}`);
}

type IdIndexHandle = TableHandle<typeof ID_INDEX.fields>;
/** The DISTRIBUTORS table whose `externalId` column holds an index's keys. */
export type IdIndexDistributors = TableHandle<DistributorFields>;

export class IdIndex {
  readonly handle: IdIndexHandle;
  /** Where the keys are: `externalId[slot]` is the id of the slot at a position. */
  readonly distributors: IdIndexDistributors;
  /** False for an attached reader, and for a writer retired by `grow()`. */
  #writable: boolean;
  #size: number;
  readonly #entries: Int32Array;
  readonly #externalId: Int32Array;
  readonly #mask: number;

  private constructor(
    handle: IdIndexHandle,
    distributors: IdIndexDistributors,
    writable: boolean,
    size: number,
  ) {
    assert(isPowerOfTwo(handle.capacity), `id index capacity ${handle.capacity} not a power of 2`);
    assert(handle.capacity >= ID_INDEX_CAPACITY_MIN, `id index capacity ${handle.capacity} small`);
    assert(distributors.table === DISTRIBUTORS, 'an id index reads keys from DISTRIBUTORS only');
    assert(
      distributors.capacity <= ID_INDEX_ROWS_MAX,
      `an id index addresses at most ${ID_INDEX_ROWS_MAX} distributor rows`,
    );
    assert(
      handle.generation === distributors.generation,
      `id index generation ${handle.generation} paired with DISTRIBUTORS generation ` +
        `${distributors.generation}: attach the two buffers of one handover`,
    );
    this.handle = handle;
    this.distributors = distributors;
    this.#writable = writable;
    this.#size = size;
    this.#entries = handle.views.entries;
    this.#externalId = distributors.views.externalId;
    this.#mask = handle.capacity - 1;
  }

  /**
   * An empty index of `capacityPow2` positions (holds 3/4 of that) over the keys of
   * `distributors`, with its generation. The engine sizes it `idIndexCapacityFor(rows)`.
   */
  static create(capacityPow2: number, distributors: IdIndexDistributors): IdIndex {
    const handle = createTable(ID_INDEX, capacityPow2, distributors.generation);
    return new IdIndex(handle, distributors, true, 0);
  }

  /**
   * A read-only view of an index another thread writes, over `distributors` (this thread's
   * handle of the table the writer's index is bound to). A bare buffer carries no generation:
   * it takes the table's, so pairing the two is the caller's job (`attachShared` checks it).
   * Counts and checks every position once (O(capacity), only at attach and handover): `size`
   * is the count at attach time.
   */
  static attach(
    buffer: SharedArrayBuffer,
    capacity: number,
    distributors: IdIndexDistributors,
  ): IdIndex {
    const handle = attachTable(ID_INDEX, buffer, capacity, distributors.generation);
    return IdIndex.#reader(handle, distributors);
  }

  /** `attach` from the message `share()` produced; refuses another layout or generation. */
  static attachShared(share: TableShare, distributors: IdIndexDistributors): IdIndex {
    return IdIndex.#reader(attachShared(ID_INDEX, share), distributors);
  }

  static #reader(handle: IdIndexHandle, distributors: IdIndexDistributors): IdIndex {
    const reader = new IdIndex(handle, distributors, false, 0);
    const entries = reader.#entries;
    const externalId = reader.#externalId;
    const rows = distributors.capacity;
    let size = 0;
    for (let position = 0; position < handle.capacity; position++) {
      const entry = entries[position] ?? ID_INDEX_EMPTY;
      if (entry === ID_INDEX_EMPTY) continue;
      // Checked per entry: build a message only for a corrupt one.
      const slot = entry & SLOT_MASK;
      if (!(entry >= 0 && slot < rows)) {
        throw new AssertionError(`id index position ${position} holds ${entry}: no slot`);
      }
      const id = externalId[slot] ?? 0;
      if (id < 1) {
        throw new AssertionError(`id index position ${position} names slot ${slot}, no id`);
      }
      if ((entry & ~SLOT_MASK) !== tagOf(hashId(id))) {
        throw new AssertionError(`id index position ${position}: the tag is not id ${id}'s`);
      }
      size++;
    }
    assert(size <= idIndexSizeMax(handle.capacity), 'id index above load 3/4');
    reader.#size = size;
    return reader;
  }

  get capacity(): number {
    return this.handle.capacity;
  }

  get buffer(): SharedArrayBuffer {
    return this.handle.buffer;
  }

  /** Always the generation of `distributors`. */
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
    const entries = this.#entries;
    const externalId = this.#externalId;
    const mask = this.#mask;
    const hash = hashId(id);
    const tag = tagOf(hash);
    let position = hash & mask;
    // Terminates: load <= 3/4 guarantees an empty position on every probe path.
    for (;;) {
      const entry = entries[position] ?? ID_INDEX_EMPTY;
      if (entry === ID_INDEX_EMPTY) return SLOT_NONE;
      // The tag spares the row read (a cache miss at scale) for 3 in 4 other ids probed.
      if ((entry & ~SLOT_MASK) === tag && externalId[entry & SLOT_MASK] === id) {
        return entry & SLOT_MASK;
      }
      position = (position + 1) & mask;
    }
  }

  /**
   * Indexes `slot` under `id`: the row must already hold it (`externalId[slot] === id`), the
   * id must be absent and there must be room (grow before).
   */
  set(id: number, slot: number): void {
    assert(this.#writable, 'id index is read-only here (an attached reader or a retired writer)');
    assertId(id);
    if (!(Number.isInteger(slot) && slot >= 0 && slot < this.distributors.capacity)) {
      throw new AssertionError(`bad slot ${slot}`);
    }
    if (this.#externalId[slot] !== id) {
      throw new AssertionError(
        `slot ${slot} holds id ${this.#externalId[slot]}, not ${id}: write the row first`,
      );
    }
    if (this.#size >= this.sizeMax) {
      throw new AssertionError(`id index full at ${this.#size}: grow at the batch boundary`);
    }
    // `get` finds a duplicate the way every lookup would (same tag, same row), reading a row
    // only where the tag matches; `#place` then walks the same, now cached, positions.
    const held = this.get(id);
    if (held !== SLOT_NONE)
      throw new AssertionError(`id ${id} is already in the index (slot ${held})`);
    this.#place(id, slot);
    this.#size++;
  }

  /**
   * Handover growth, in lockstep with DISTRIBUTORS: `distributors` is the table this index's
   * table grew into (`growTable`, a newer generation holding the same rows). Returns a new
   * writer over a new buffer of `newCapacity` positions (by default what goes with the grown
   * table, never less than now), bound to it. This writer is retired; readers of the old pair
   * keep working until they attach the new one.
   *
   * Rebuilt from the rows, not from the old positions: every row holding an id is indexed
   * (`set` follows the row's write, and an id is never rewritten), so the entries are exactly
   * those rows, and reading `externalId` in row order is sequential where walking the old
   * positions would read it at random (measured: 4M entries in 0.45 s instead of 1.5). The
   * count of such rows must equal `size`.
   */
  grow(
    distributors: IdIndexDistributors,
    newCapacity = Math.max(this.capacity, idIndexCapacityFor(distributors.capacity)),
  ): IdIndex {
    assert(this.#writable, 'only the live writer can grow the id index');
    assert(newCapacity >= this.capacity, `id index must not shrink: ${newCapacity}`);
    assert(distributors.generation > this.generation, 'grow into a newer DISTRIBUTORS buffer');
    assert(distributors.capacity >= this.distributors.capacity, 'the grown table lost rows');
    const created = createTable(ID_INDEX, newCapacity, distributors.generation);
    const next = new IdIndex(created, distributors, true, 0);
    const externalId = next.#externalId;
    const sizeMax = next.sizeMax;
    let size = 0;
    for (let slot = 0; slot < this.distributors.capacity; slot++) {
      const id = externalId[slot] ?? 0;
      if (id === 0) continue;
      // Checked per row: build a message only for a bad one.
      if (id < 0) throw new AssertionError(`row ${slot} holds id ${id}`);
      if (size === sizeMax) throw new AssertionError(`more rows with an id than ${sizeMax}`);
      next.#place(id, slot);
      size++;
    }
    if (size !== this.#size) {
      throw new AssertionError(`${size} rows hold an id, the id index held ${this.#size}`);
    }
    next.#size = size;
    this.#writable = false;
    return next;
  }

  /** Stores `slot` at the first empty position from `id`'s home; `id` is known absent. */
  #place(id: number, slot: number): void {
    const entries = this.#entries;
    const mask = this.#mask;
    const hash = hashId(id);
    let position = hash & mask;
    while ((entries[position] ?? ID_INDEX_EMPTY) !== ID_INDEX_EMPTY)
      position = (position + 1) & mask;
    // One store: a (mis)concurrent reader sees either no slot or the slot, whose id is written.
    entries[position] = tagOf(hash) | slot;
  }

  /** The message a worker attaches with (`IdIndex.attachShared`), beside the table's own. */
  share(): TableShare {
    return shareTable(this.handle);
  }
}
