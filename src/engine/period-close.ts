import { assert } from '../core/assert.js';
import { applyBps, shareOf } from '../core/money.js';
import { lineTypeCode } from '../ledger/line.js';
import { promote } from './compiled-plan.js';
import { FLAG_PLACED, FLAG_PLACED_RIGHT } from './distributor-views.js';
import type { LineBuffer } from './line-buffer.js';
import type { EngineState } from './state.js';

const BINARY = lineTypeCode('binary');
const MATCHING = lineTypeCode('matching');
const POOL = lineTypeCode('pool');

/**
 * SPEC 3.6, always alone in its batch (the sequencer cuts batches at a close, so no walk phase
 * sees a reset mid-batch). Writes its lines (slots) into `lines` at `seq`, in SPEC order:
 * binary in distributor id order, matching on each binary line, pool in id order; then
 * resets the period.
 */
export class PeriodClose {
  private legCv = new Float64Array(0);
  private binaryLineSlots = new Int32Array(0);

  constructor(private readonly state: EngineState) {}

  run(seq: number, atMs: number, lines: LineBuffer): void {
    const state = this.state;
    const byId = this.slotsInIdOrder();
    if (state.plan.binary) {
      this.addPeriodLegVolume();
      const binaryCount = this.pairBinary(byId, seq, atMs, lines);
      this.matchBinaryLines(binaryCount, seq, atMs, lines);
    }
    if (state.plan.pool) this.payPool(byId, seq, atMs, lines);
    this.reset();
  }

  /** Slots sorted by external id: a native numeric sort of the ids, then index lookups. */
  private slotsInIdOrder(): Int32Array {
    const state = this.state;
    const ids = state.d.externalId.slice(0, state.count).sort();
    for (let index = 0; index < ids.length; index++) ids[index] = state.slotOf(ids[index]!);
    return ids;
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
    if (this.legCv.length < state.count) this.legCv = new Float64Array(state.count * 2);
    const legCv = this.legCv;
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

  private pairBinary(byId: Int32Array, seq: number, atMs: number, lines: LineBuffer): number {
    const state = this.state;
    const { d, plan } = state;
    if (this.binaryLineSlots.length < state.count) {
      this.binaryLineSlots = new Int32Array(state.count);
    }
    let binaryCount = 0;
    for (let index = 0; index < byId.length; index++) {
      const slot = byId[index]!;
      if (!state.isActive(slot)) continue;
      const matched = Math.min(d.legVolumeL[slot]!, d.legVolumeR[slot]!);
      if (matched === 0) continue;
      const cap = plan.rankBinaryCapCents[d.paidRank[slot]!]!;
      const capped = Math.min(applyBps(matched, plan.binaryBps), cap);
      d.legVolumeL[slot] = d.legVolumeL[slot]! - matched;
      d.legVolumeR[slot] = d.legVolumeR[slot]! - matched;
      const amount = promote(plan, BINARY, atMs, capped);
      if (amount === 0) continue;
      lines.push(seq, 0, slot, BINARY, 0, slot, amount);
      this.binaryLineSlots[binaryCount++] = lines.count - 1;
    }
    return binaryCount;
  }

  /** SPEC 3.6 step 2: matching (3.2 step 7 rules) on each binary line, in their order. */
  private matchBinaryLines(binaryCount: number, seq: number, atMs: number, lines: LineBuffer) {
    const state = this.state;
    const { d, plan } = state;
    for (let index = 0; index < binaryCount; index++) {
      const row = this.binaryLineSlots[index]!;
      const earner = lines.beneficiary[row]!;
      const earned = lines.amountCents[row]!;
      let generationSlot = d.sponsor[earner]!;
      for (let generation = 0; generation < plan.matchingGenerationCount; generation++) {
        if (generationSlot === -1) break;
        const qualified =
          state.isActive(generationSlot) &&
          d.paidRank[generationSlot]! >= plan.matchingMinPaidRank[generation]!;
        if (qualified) {
          const base = applyBps(earned, plan.matchingBps[generation]!);
          const amount = promote(plan, MATCHING, atMs, base);
          if (amount > 0) {
            lines.push(seq, 0, generationSlot, MATCHING, generation + 1, earner, amount);
          }
        }
        generationSlot = d.sponsor[generationSlot]!;
      }
    }
  }

  /** SPEC 3.6 step 3 and clarification 7. */
  private payPool(byId: Int32Array, seq: number, atMs: number, lines: LineBuffer): void {
    const state = this.state;
    const plan = state.plan;
    const pool = applyBps(state.periodNetCvCents, plan.poolBps);
    let totalShares = 0;
    for (let slot = 0; slot < state.count; slot++) {
      if (this.poolShares(slot) > 0) totalShares += this.poolShares(slot);
    }
    if (totalShares === 0 || pool === 0) return;
    for (let index = 0; index < byId.length; index++) {
      const slot = byId[index]!;
      const shares = this.poolShares(slot);
      if (shares === 0) continue;
      const amount = promote(plan, POOL, atMs, shareOf(pool, shares, totalShares));
      if (amount > 0) lines.push(seq, 0, slot, POOL, 0, slot, amount);
    }
  }

  private poolShares(slot: number): number {
    const state = this.state;
    const rank = state.d.paidRank[slot]!;
    if (rank < state.plan.poolMinPaidRank || state.isTerminated(slot)) return 0;
    return rank - state.plan.poolShareOffset;
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
