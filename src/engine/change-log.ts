import { CHANGE_ENTRIES, CHANGE_TABLE } from '../../native-layout/batch-layouts.js';
import { createTable, type TableHandle } from '../../native-layout/table.js';
import { assert } from '../core/assert.js';

/**
 * The per-batch change log: for every distributor whose activity or paid-as rank changed
 * during a batch's serial phase, the seq of each change and the values after it, plus the
 * values before the batch. Walk workers read it to see an ancestor's state *as of* an order's
 * seq, although the shared columns already hold the state at the end of the batch.
 *
 * Written only by the sequencer thread before the walk phase starts; read-only for workers
 * during the walk phase (the phase boundary is the task hand-off, which orders memory).
 *
 *   slot ──hash──▶ position p ──head[p]──▶ entry e0 ──next──▶ e1 ──next──▶ -1
 *                  before{Active,PaidRank}[p]     (seq, active, paidRank) in seq order
 */
export interface ChangeLogViews {
  /** Open-addressing table, capacity a power of two: key = slot + 1, 0 = empty. */
  readonly key: Int32Array;
  readonly head: Int32Array;
  readonly tail: Int32Array;
  readonly beforeActive: Uint8Array;
  readonly beforePaidRank: Uint8Array;
  /** Entries, appended in seq order. */
  readonly entrySeq: Float64Array;
  readonly entryActive: Uint8Array;
  readonly entryPaidRank: Uint8Array;
  readonly entryNext: Int32Array;
}

export function hashSlot(slot: number, mask: number): number {
  return (Math.imul(slot + 1, 0x9e3779b1) >>> 0) & mask;
}

/** Position of `slot` in the table, or -1. Allocation-free: runs per ancestor in workers. */
export function findChange(views: ChangeLogViews, slot: number): number {
  const mask = views.key.length - 1;
  const key = slot + 1;
  let position = hashSlot(slot, mask);
  for (;;) {
    const found = views.key[position]!;
    if (found === key) return position;
    if (found === 0) return -1;
    position = (position + 1) & mask;
  }
}

export type ChangeTableHandle = TableHandle<(typeof CHANGE_TABLE)['fields']>;
export type ChangeEntriesHandle = TableHandle<(typeof CHANGE_ENTRIES)['fields']>;

/** One object over both tables' columns, which is what the walk reads. */
export function changeLogViews(
  table: ChangeTableHandle,
  entries: ChangeEntriesHandle,
): ChangeLogViews {
  return { ...table.views, ...entries.views };
}

/** The sequencer's writer over the shared views; grows by handing over to new buffers. */
export class ChangeLog {
  table: ChangeTableHandle;
  entries: ChangeEntriesHandle;
  views: ChangeLogViews;
  entryCount = 0;
  slotCount = 0;

  constructor(tableCapacity = 1024, entryCapacity = 1024) {
    assert((tableCapacity & (tableCapacity - 1)) === 0, 'change table capacity power of two');
    this.table = createTable(CHANGE_TABLE, tableCapacity);
    this.entries = createTable(CHANGE_ENTRIES, entryCapacity);
    this.views = changeLogViews(this.table, this.entries);
  }

  /** Empties the log for the next batch, keeping the buffers. */
  reset(): void {
    this.views.key.fill(0);
    this.entryCount = 0;
    this.slotCount = 0;
  }

  /** Records that `slot` changed at `seq`; the before values matter only for its first change. */
  record(
    slot: number,
    seq: number,
    beforeActive: number,
    beforePaidRank: number,
    afterActive: number,
    afterPaidRank: number,
  ): void {
    this.ensureRoom();
    const views = this.views;
    let position = findChange(views, slot);
    const entry = this.entryCount++;
    views.entrySeq[entry] = seq;
    views.entryActive[entry] = afterActive;
    views.entryPaidRank[entry] = afterPaidRank;
    views.entryNext[entry] = -1;
    if (position === -1) {
      position = this.insertSlot(slot);
      views.beforeActive[position] = beforeActive;
      views.beforePaidRank[position] = beforePaidRank;
      views.head[position] = entry;
    } else {
      const tail = views.tail[position]!;
      assert(views.entrySeq[tail]! <= seq, 'change log entries must be appended in seq order');
      views.entryNext[tail] = entry;
    }
    views.tail[position] = entry;
  }

  private insertSlot(slot: number): number {
    const views = this.views;
    const mask = views.key.length - 1;
    let position = hashSlot(slot, mask);
    while (views.key[position] !== 0) position = (position + 1) & mask;
    views.key[position] = slot + 1;
    this.slotCount++;
    return position;
  }

  /** Keeps the table at most half full and one free entry, growing by rehash into new views. */
  private ensureRoom(): void {
    const old = this.views;
    const tableFull = (this.slotCount + 1) * 2 > old.key.length;
    const entriesFull = this.entryCount + 1 > old.entrySeq.length;
    if (!tableFull && !entriesFull) return;
    const tableCapacity = tableFull ? old.key.length * 2 : old.key.length;
    const entryCapacity = entriesFull ? old.entrySeq.length * 2 : old.entrySeq.length;
    this.table = createTable(CHANGE_TABLE, tableCapacity);
    this.entries = createTable(CHANGE_ENTRIES, entryCapacity);
    const next = changeLogViews(this.table, this.entries);
    next.entrySeq.set(old.entrySeq.subarray(0, this.entryCount));
    next.entryActive.set(old.entryActive.subarray(0, this.entryCount));
    next.entryPaidRank.set(old.entryPaidRank.subarray(0, this.entryCount));
    next.entryNext.set(old.entryNext.subarray(0, this.entryCount));
    const mask = tableCapacity - 1;
    for (let position = 0; position < old.key.length; position++) {
      const key = old.key[position]!;
      if (key === 0) continue;
      let target = hashSlot(key - 1, mask);
      while (next.key[target] !== 0) target = (target + 1) & mask;
      next.key[target] = key;
      next.head[target] = old.head[position]!;
      next.tail[target] = old.tail[position]!;
      next.beforeActive[target] = old.beforeActive[position]!;
      next.beforePaidRank[target] = old.beforePaidRank[position]!;
    }
    this.views = next;
  }
}
