import { IdIndex } from '../../native-layout/id-index.js';
import {
  CONFIGURED_CAPACITY_MAX,
  DISTRIBUTORS,
  idIndexCapacityFor,
} from '../../native-layout/layouts.js';
import { createTable, growTable } from '../../native-layout/table.js';
import { assert } from '../core/assert.js';
import { UplineError } from '../core/errors.js';
import type { CompiledPlan } from './compiled-plan.js';
import {
  FLAG_TERMINATED,
  isActiveSlot,
  type DistributorHandle,
  type DistributorViews,
} from './distributor-views.js';
import { OrderBook } from './order-book.js';
import type { SnapshotImage } from './snapshot.js';
import { StringIdTable, type ConfirmEntry } from './string-id-table.js';

/**
 * What to allocate up front (STYLE 3: buffers sized from config at start). Past it the
 * tables grow by handover, which briefly holds the old and the new buffer: an operator who
 * knows the network's size avoids both the copies and that peak.
 */
export interface EngineCapacity {
  readonly distributors?: number;
  readonly orders?: number;
  readonly events?: number;
}

const CAPACITY_MIN = 1024;

/** Finds the ids an event with a given seq carried: the string tables keep only fingerprints. */
export interface SeqIds {
  eventIdAt(seq: number): string | undefined;
  orderIdAt(seq: number): string | undefined;
}

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
  readonly orders: OrderBook;
  /**
   * Taken event ids: id's fingerprint → seq * OUTCOME_SPAN + outcome code. Duplicates answer
   * with the first event's seq and outcome from here.
   */
  eventIds: StringIdTable;
  private readonly confirmEventId: ConfirmEntry;
  lastSeq = 0;
  period = 0;
  periodNetCvCents = 0;
  /** Order-book row of the first order of the current period. */
  periodFirstOrderRow = 0;

  constructor(
    readonly plan: CompiledPlan,
    ids: SeqIds,
    capacity: EngineCapacity = {},
  ) {
    const distributors = capacity.distributors ?? CAPACITY_MIN;
    const orders = capacity.orders ?? CAPACITY_MIN;
    const events = capacity.events ?? CAPACITY_MIN;
    for (const rows of [distributors, orders, events]) {
      assert(Number.isInteger(rows) && rows >= 1, 'a capacity is a positive integer');
      assert(rows <= CONFIGURED_CAPACITY_MAX, 'a capacity is within CONFIGURED_CAPACITY_MAX');
    }
    try {
      this.distributors = createTable(DISTRIBUTORS, distributors);
      this.idIndex = IdIndex.create(idIndexCapacityFor(distributors), this.distributors);
      this.orders = new OrderBook((seq) => ids.orderIdAt(seq), orders);
      this.eventIds = StringIdTable.createFor(events);
    } catch (error) {
      // A capacity this machine cannot back is the operator's setting, not a bug.
      if (!(error instanceof RangeError)) throw error;
      throw new UplineError(
        'UPLINE_CAPACITY',
        `cannot allocate tables for ${distributors} distributors, ${orders} orders and ` +
          `${events} events (${error.message}): configure smaller capacities`,
        { cause: error },
      );
    }
    this.d = this.distributors.views;
    this.confirmEventId = (taken, id) => ids.eventIdAt(takenSeq(taken)) === id;
  }

  /** The packed seq and outcome an event id took, or -1 when it is not taken. */
  taken(eventId: string): number {
    return this.eventIds.get(eventId, this.confirmEventId);
  }

  take(eventId: string, seq: number, outcome: number): void {
    this.eventIds.set(eventId, packTaken(seq, outcome));
  }

  /** Records a taken id's final outcome (a withdrawal is settled after it is sequenced). */
  settleTaken(eventId: string, seq: number, outcome: number): void {
    this.eventIds.update(eventId, packTaken(seq, outcome), this.confirmEventId);
  }

  /** Everything a snapshot holds, as of `lastSeq` (call only at a batch boundary). */
  image(): SnapshotImage {
    return {
      distributors: this.distributors,
      idIndex: this.idIndex,
      eventIds: this.eventIds,
      orderIds: this.orders.ids,
      orderBook: this.orders.table,
      scalars: {
        lastSeq: this.lastSeq,
        count: this.count,
        period: this.period,
        periodNetCvCents: this.periodNetCvCents,
        periodFirstOrderRow: this.periodFirstOrderRow,
        orderCount: this.orders.count,
      },
    };
  }

  /** Takes over a snapshot image read at start, before any batch runs. */
  adopt(image: SnapshotImage): void {
    assert(this.lastSeq === 0 && this.count === 0, 'adopt a snapshot only into a fresh state');
    this.distributors = image.distributors;
    this.d = image.distributors.views;
    this.idIndex = image.idIndex;
    this.eventIds = image.eventIds;
    this.orders.adopt(image.orderBook, image.orderIds, image.scalars.orderCount);
    const scalars = image.scalars;
    this.count = scalars.count;
    this.lastSeq = scalars.lastSeq;
    this.period = scalars.period;
    this.periodNetCvCents = scalars.periodNetCvCents;
    this.periodFirstOrderRow = scalars.periodFirstOrderRow;
  }

  slotOf(distributorId: number): number {
    return this.idIndex.get(distributorId);
  }

  isTerminated(slot: number): boolean {
    return (this.d.flags[slot]! & FLAG_TERMINATED) !== 0;
  }

  /** SPEC 3: active when period pv >= ACTIVE_PV and not terminated. */
  isActive(slot: number): boolean {
    return isActiveSlot(this.d, this.plan.activePv, slot);
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
    // After the row: the index keeps no keys, it reads (and `set` checks) externalId[slot].
    this.idIndex.set(externalId, slot);
    return slot;
  }

  /**
   * Both tables, in lockstep: the index reads its keys from the distributor table it was
   * built over, so it is handed over to the grown table every time (see IdIndex.grow).
   */
  grow(capacity: number): void {
    this.distributors = growTable(this.distributors, capacity);
    this.d = this.distributors.views;
    this.idIndex = this.idIndex.grow(this.distributors);
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
