import { IdIndex } from '../../native-layout/id-index.js';
import { DISTRIBUTORS, idIndexCapacityFor } from '../../native-layout/layouts.js';
import { createTable, growTable } from '../../native-layout/table.js';
import { assert } from '../core/assert.js';
import type { CompiledPlan } from './compiled-plan.js';
import {
  FLAG_TERMINATED,
  type DistributorHandle,
  type DistributorViews,
} from './distributor-views.js';
import { OrderBook } from './order-book.js';

/**
 * Everything the engine knows between events: the shared distributor columns and id index,
 * the order book, the event-id dedupe map and the period. Owned by the sequencer thread;
 * workers see the shared parts read-only during a walk phase.
 */
export class EngineState {
  distributors: DistributorHandle;
  idIndex: IdIndex;
  /** Views of `distributors`; replaced when the table grows (at a batch boundary). */
  d: DistributorViews;
  count = 0;
  readonly orders = new OrderBook();
  /**
   * Taken event ids: id → seq * OUTCOME_SPAN + outcome code. Duplicates answer with the
   * first event's seq and outcome from here.
   */
  readonly eventIds = new Map<string, number>();
  lastSeq = 0;
  period = 0;
  periodNetCvCents = 0;
  /** Order-book row of the first order of the current period. */
  periodFirstOrderRow = 0;

  constructor(
    readonly plan: CompiledPlan,
    initialCapacity = 1024,
  ) {
    this.distributors = createTable(DISTRIBUTORS, initialCapacity);
    this.d = this.distributors.views;
    this.idIndex = IdIndex.create(idIndexCapacityFor(initialCapacity));
  }

  slotOf(distributorId: number): number {
    return this.idIndex.get(distributorId);
  }

  isTerminated(slot: number): boolean {
    return (this.d.flags[slot]! & FLAG_TERMINATED) !== 0;
  }

  /** SPEC 3: active when period pv >= ACTIVE_PV and not terminated. */
  isActive(slot: number): boolean {
    return (this.d.flags[slot]! & FLAG_TERMINATED) === 0 && this.d.pv[slot]! >= this.plan.activePv;
  }

  /**
   * Appends a distributor in the next slot. The table and the index grow together, by
   * handover to bigger buffers, which is safe here because the sequencer runs only while no
   * walk phase does (workers get the new buffers with the next walk task).
   */
  addDistributor(externalId: number, sponsorSlot: number, enrolledAtMs: number): number {
    if (this.count === this.distributors.capacity) this.grow(this.distributors.capacity * 2);
    const slot = this.count++;
    const d = this.d;
    assert(d.externalId[slot] === 0, 'a fresh slot must be empty');
    d.externalId[slot] = externalId;
    d.sponsor[slot] = sponsorSlot;
    d.enrolledAt[slot] = enrolledAtMs;
    this.idIndex.set(externalId, slot);
    return slot;
  }

  grow(capacity: number): void {
    this.distributors = growTable(this.distributors, capacity);
    this.d = this.distributors.views;
    const indexCapacity = idIndexCapacityFor(capacity);
    if (indexCapacity > this.idIndex.capacity) this.idIndex = this.idIndex.grow(indexCapacity);
  }
}

/** Packs a taken id's seq and outcome code into one number (seq stays far below 2^48). */
export const OUTCOME_SPAN = 32;
export function packTaken(seq: number, outcome: number): number {
  return seq * OUTCOME_SPAN + outcome;
}
export function takenSeq(packed: number): number {
  return Math.floor(packed / OUTCOME_SPAN);
}
export function takenOutcome(packed: number): number {
  return packed % OUTCOME_SPAN;
}
