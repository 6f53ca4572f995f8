import { shareTable } from '../../native-layout/table.js';
import { assert } from '../core/assert.js';
import { sortInt32InPlace } from '../core/sort-in-place.js';
import { applyBps } from '../core/money.js';
import { lineTypeCode } from '../ledger/line.js';
import {
  closeRange,
  matchBinaryLine,
  poolLine,
  poolShares,
  type CloseContext,
  type CloseFigures,
} from './close-kernel.js';
import { runInRanges, type CloseTask } from './walk-task.js';
import { FLAG_PLACED, FLAG_PLACED_RIGHT } from './distributor-views.js';
import type { LineBuffer } from '../ledger/line-buffer.js';
import type { EngineState } from './state.js';

const BINARY = lineTypeCode('binary');
const POOL = lineTypeCode('pool');

/** Fewest distributors worth a task of their own: below it the task's overhead dominates. */
export const SLOTS_PER_TASK_MIN = 16_384;

/** Runs close tasks on the walk pool; null runs them on the sequencer thread. */
export type CloseRunner = ((task: CloseTask) => Promise<number>) | null;

/**
 * SPEC 3.6, always alone in its batch (the sequencer cuts batches at a close, so no walk phase
 * sees a reset mid-batch, and no read of the shared columns sees one half done).
 *
 * The distributors' `gv` column is the close's scratch: nothing in a close reads a group
 * volume (ranks are already paid-as ranks), and the reset zeroes it at the end. It holds, by
 * slot, first the period's cv summed over each placement subtree, then each distributor's
 * binary amount. A scratch column of its own would cost 8 bytes per distributor (80 MB at
 * 10M), resident from the first close on. Likewise `enrollments` (also zeroed by the reset,
 * read by nothing in a close) holds the earners' slots in external id order; an array of their
 * own would add up to 40 MB at 10M to the moment the engine's memory peaks.
 *
 * Serial steps on the sequencer thread: the period's leg volume summed bottom-up, the pool and
 * its shares, and the earners in id order. Binary pairing runs over the walk pool in slot
 * ranges (close-kernel.ts), and the amounts are laid out as lines in SPEC order: binary in id
 * order, matching on each binary line, pool in id order. Then the reset.
 */
export class PeriodClose {
  constructor(
    private readonly state: EngineState,
    private readonly runner: CloseRunner,
    private readonly threads: number,
  ) {}

  async run(seq: number, atMs: number, lines: LineBuffer): Promise<void> {
    const state = this.state;
    const plan = state.plan;
    if (plan.binary) this.addPeriodLegVolume();
    const figures = this.figures(atMs);
    await this.closeSlots(figures);
    this.layOutLines(seq, figures, this.earnersInIdOrder(figures), lines);
    this.reset();
  }

  /**
   * The slots a close pays (a binary amount, or a pool line), sorted by external id, in the
   * close's scratch `enrollments`: their ids copied there, sorted in place (not by
   * `TypedArray.prototype.sort`, which copies a shared array), then each id replaced by its
   * slot. Only earners, since the lines are theirs alone: sorting every distributor made a
   * close of 1M distributors compute for 260-298 ms, against 150-154 ms now.
   */
  private earnersInIdOrder(figures: CloseFigures): Int32Array {
    const state = this.state;
    const { plan, d } = state;
    const count = state.count;
    const binaryCents = d.gv; // the close's scratch: binary amounts by slot, from closeRange
    const ids = d.enrollments;
    let earners = 0;
    for (let slot = 0; slot < count; slot++) {
      if (binaryCents[slot]! > 0 || poolLine(plan, d, figures, slot) > 0) {
        ids[earners++] = d.externalId[slot]!;
      }
    }
    const slots = ids.subarray(0, earners);
    sortInt32InPlace(slots);
    for (let index = 0; index < earners; index++) slots[index] = state.slotOf(slots[index]!);
    return slots;
  }

  private figures(atMs: number): CloseFigures {
    const state = this.state;
    const plan = state.plan;
    if (!plan.pool) return { atMs, poolCents: 0, totalShares: 0 };
    let totalShares = 0;
    for (let slot = 0; slot < state.count; slot++) totalShares += poolShares(plan, state.d, slot);
    return { atMs, poolCents: applyBps(state.periodNetCvCents, plan.poolBps), totalShares };
  }

  /** The per-distributor part, in slot ranges over the pool (or here when there is none). */
  private async closeSlots(figures: CloseFigures): Promise<void> {
    const count = this.state.count;
    const taskCount = Math.min(this.threads, Math.floor(count / SLOTS_PER_TASK_MIN));
    if (this.runner === null || taskCount < 2) {
      closeRange(this.inlineContext(), figures, 0, count);
      return;
    }
    const distributors = shareTable(this.state.distributors);
    const runner = this.runner;
    await runInRanges(count, taskCount, (fromSlot, toSlot) =>
      runner({ kind: 'close', distributors, figures, fromSlot, toSlot }),
    );
  }

  private inlineContext(): CloseContext {
    const state = this.state;
    return { plan: state.plan, distributors: state.d };
  }

  /**
   * Amounts to lines, in SPEC 3.6 order: binary by id, matching per binary line, pool by id;
   * `slot` holds the close's earners in id order.
   */
  private layOutLines(
    seq: number,
    figures: CloseFigures,
    slot: Int32Array,
    lines: LineBuffer,
  ): void {
    const { plan, d } = this.state;
    const count = slot.length;
    assert(count <= this.state.count, 'at most one earner per distributor');
    const binaryCents = d.gv; // the close's scratch: binary amounts by slot, from closeRange
    for (let row = 0; row < count; row++) {
      const amount = binaryCents[slot[row]!]!;
      if (amount > 0) lines.push(seq, 0, slot[row]!, BINARY, 0, slot[row]!, amount);
    }
    const at = { seq, atMs: figures.atMs };
    for (let row = 0; row < count; row++) {
      const amount = binaryCents[slot[row]!]!;
      if (amount > 0) matchBinaryLine(plan, d, at, slot[row]!, amount, lines);
    }
    for (let row = 0; row < count; row++) {
      const amount = poolLine(plan, d, figures, slot[row]!);
      if (amount > 0) lines.push(seq, 0, slot[row]!, POOL, 0, slot[row]!, amount);
    }
  }

  /**
   * SPEC 3.2 step 6, for the whole period at once: every placement ancestor's leg gains the
   * cv of each non-refunded order of the period below it. Parents have smaller slots than
   * their children, so one pass from the last slot down sums every subtree.
   */
  private addPeriodLegVolume(): void {
    const state = this.state;
    const d = state.d;
    const orders = state.orders.rows;
    const orderCount = state.orders.count;
    // The close's scratch (see the class comment) until closeRange writes binary over it.
    const legCv = d.gv;
    legCv.fill(0, 0, state.count);
    for (let row = state.periodFirstOrderRow; row < orderCount; row++) {
      assert(orders.period[row] === state.period, 'order of another period in the period tail');
      if (orders.refunded[row] === 1) continue;
      legCv[orders.buyer[row]!] = legCv[orders.buyer[row]!]! + orders.cvCents[row]!;
    }
    for (let slot = state.count - 1; slot >= 0; slot--) {
      const flags = d.flags[slot]!;
      if ((flags & FLAG_PLACED) === 0) continue;
      const parent = d.parent[slot]!;
      assert(parent >= 0 && parent < slot, 'placement parent must precede its child');
      const subtree = legCv[slot]!;
      legCv[parent] = legCv[parent]! + subtree;
      const legs = (flags & FLAG_PLACED_RIGHT) !== 0 ? d.legVolumeR : d.legVolumeL;
      legs[parent] = legs[parent]! + subtree;
    }
  }

  /** SPEC 3.6 step 4. */
  private reset(): void {
    const state = this.state;
    const { d, plan } = state;
    const count = state.count;
    d.pv.fill(0, 0, count);
    d.gv.fill(0, 0, count);
    d.legs.fill(0, 0, count);
    d.paidRank.fill(0, 0, count);
    d.enrollments.fill(0, 0, count);
    const cap = plan.binaryCarryCapCents;
    for (let slot = 0; slot < count; slot++) {
      if (d.legVolumeL[slot]! > cap) d.legVolumeL[slot] = cap;
      if (d.legVolumeR[slot]! > cap) d.legVolumeR[slot] = cap;
    }
    state.periodNetCvCents = 0;
    state.period++;
    state.periodFirstOrderRow = state.orders.count;
  }
}
