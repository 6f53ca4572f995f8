import { AssertionError, assert, assertSafeInteger } from '../core/assert.js';
import { applyBps } from '../core/money.js';
import { ruleReasonCode, OUTCOME_ACCEPTED, type RuleReason } from '../events/reasons.js';
import type {
  EnrollEvent,
  OrderEvent,
  RefundEvent,
  TerminateEvent,
  UplineEvent,
  WithdrawEvent,
} from '../events/types.js';
import { lineTypeCode } from '../ledger/line.js';
import { promote, qualifiedRank } from './compiled-plan.js';
import {
  FLAG_AUTO_NEXT_RIGHT,
  FLAG_FIRST_ORDER_DONE,
  FLAG_PLACED,
  FLAG_PLACED_RIGHT,
  FLAG_TERMINATED,
} from './distributor-views.js';
import { OuterLegEnds } from './outer-leg-ends.js';
import type { EngineState } from './state.js';
import type { Batch } from './batch.js';

const RANK_BONUS = lineTypeCode('rank_bonus');
const FAST_START = lineTypeCode('fast_start');
const INCENTIVE = lineTypeCode('incentive');

const code = (reason: RuleReason) => ruleReasonCode(reason);
const UNKNOWN_DISTRIBUTOR = code('unknown_distributor');
const TERMINATED_DISTRIBUTOR = code('terminated_distributor');

/**
 * The serial phase of a batch (SPEC 3 in seq order, one thread): rule checks, tree mutations,
 * personal and group volumes, `legs`, rank evaluation with advancement bonuses, fast start and
 * incentives. It records, in the batch's change log, the exact seq at which any distributor's
 * activity or paid-as rank changed, so the parallel walk phase can pay unilevel and matching
 * with the state each order saw. Returns the outcome code (0 = accepted); a withdrawal is
 * provisionally accepted and settled by the merge, which knows balances.
 */
export class Sequencer {
  private readonly outerLegEnds = new OuterLegEnds();

  constructor(
    private readonly state: EngineState,
    private readonly batch: Batch,
  ) {}

  apply(event: UplineEvent, seq: number): number {
    switch (event.type) {
      case 'enroll':
        return this.enroll(event, seq);
      case 'order':
        return this.order(event, seq);
      case 'refund':
        return this.refund(event, seq);
      case 'withdraw':
        return this.withdraw(event);
      case 'terminate':
        return this.terminate(event, seq);
      case 'period.close':
        throw new AssertionError('period.close is applied by PeriodClose, at a batch boundary');
    }
  }

  private enroll(event: EnrollEvent, seq: number): number {
    const state = this.state;
    if (state.slotOf(event.distributor) !== -1) return code('distributor_taken');
    let sponsor = -1;
    if (event.sponsor !== null) {
      sponsor = state.slotOf(event.sponsor);
      if (sponsor === -1) return code('sponsor_missing');
      if (state.isTerminated(sponsor)) return code('sponsor_terminated');
    }
    let parent = -1;
    let right = false;
    if (event.placement !== null) {
      parent = state.slotOf(event.placement.parent);
      if (parent === -1) return code('placement_parent_missing');
      right = event.placement.leg === 'R';
      const children = right ? state.d.childR : state.d.childL;
      if (children[parent] !== -1) return code('placement_slot_taken');
    } else if (sponsor !== -1) {
      // Only the parity of k matters: a flag bit toggled per auto-placed recruit.
      right = (state.d.flags[sponsor]! & FLAG_AUTO_NEXT_RIGHT) !== 0;
      state.d.flags[sponsor] = state.d.flags[sponsor]! ^ FLAG_AUTO_NEXT_RIGHT;
      parent = this.outerLegEnds.find(right ? state.d.childR : state.d.childL, sponsor, right);
    }
    const slot = state.addDistributor(event.distributor, sponsor, event.at);
    const d = state.d;
    d.parent[slot] = parent;
    d.flags[slot] = parent === -1 ? 0 : FLAG_PLACED | (right ? FLAG_PLACED_RIGHT : 0);
    if (parent !== -1) (right ? d.childR : d.childL)[parent] = slot;
    if (sponsor !== -1) this.countEnrollment(sponsor, slot, seq, event.at);
    return OUTCOME_ACCEPTED;
  }

  /** SPEC 3.1: the sponsor's enrollments this period; reaching exactly N pays once. */
  private countEnrollment(sponsor: number, recruit: number, seq: number, atMs: number): void {
    const d = this.state.d;
    const plan = this.state.plan;
    const count = ++d.enrollments[sponsor]!;
    if (!plan.incentive || count !== plan.incentiveEnrollments) return;
    const amount = promote(plan, INCENTIVE, atMs, plan.incentiveCents);
    if (amount > 0) this.batch.serialLines.push(seq, 0, sponsor, INCENTIVE, 0, recruit, amount);
  }

  private order(event: OrderEvent, seq: number): number {
    const state = this.state;
    const buyer = state.slotOf(event.distributor);
    if (buyer === -1) return UNKNOWN_DISTRIBUTOR;
    if (state.isTerminated(buyer)) return TERMINATED_DISTRIBUTOR;
    if (state.orders.find(event.order) !== -1) return code('order_taken');
    state.orders.add(event.order, buyer, event.pv, event.cv, state.period, seq);
    this.changePersonalVolume(buyer, event.pv, seq);
    this.addGroupVolumeAndRank(buyer, event.pv, seq, event.at);
    this.fastStart(buyer, event.cv, seq, event.at);
    state.periodNetCvCents += event.cv;
    assertSafeInteger(state.periodNetCvCents, 'period net cv');
    this.batch.addOrder(seq, buyer, event.cv, event.at);
    return OUTCOME_ACCEPTED;
  }

  /** SPEC 3.2 step 1 (and its refund mirror): pv, activity, the sponsor's legs. */
  private changePersonalVolume(slot: number, pvDelta: number, seq: number): void {
    const state = this.state;
    const d = state.d;
    const wasActive = state.isActive(slot);
    d.pv[slot] = d.pv[slot]! + pvDelta;
    assert(d.pv[slot]! >= 0, 'pv must not go negative');
    const isActive = state.isActive(slot);
    if (wasActive === isActive) return;
    const sponsor = d.sponsor[slot]!;
    if (sponsor !== -1) {
      d.legs[sponsor] = d.legs[sponsor]! + (isActive ? 1 : -1);
      assert(d.legs[sponsor]! >= 0, 'legs must not go negative');
    }
    const rank = d.paidRank[slot]!;
    this.batch.changes.record(slot, seq, wasActive ? 1 : 0, rank, isActive ? 1 : 0, rank);
  }

  /** SPEC 3.2 steps 2 and 3: gv up the sponsor line, then ranks buyer first, upward. */
  private addGroupVolumeAndRank(buyer: number, pv: number, seq: number, atMs: number): void {
    const state = this.state;
    const d = state.d;
    const plan = state.plan;
    const gvToRise = plan.rankGvToRise;
    for (let slot = buyer; slot !== -1; slot = d.sponsor[slot]!) {
      const gv = d.gv[slot]! + pv;
      d.gv[slot] = gv;
      const before = d.paidRank[slot]!;
      // Most ancestors are far from their next rank: two columns read instead of five.
      if (gv < gvToRise[before]!) continue;
      if ((d.flags[slot]! & FLAG_TERMINATED) !== 0) continue;
      const reached = qualifiedRank(plan, d.pv[slot]!, d.gv[slot]!, d.legs[slot]!);
      if (reached <= before) continue;
      const active = state.isActive(slot) ? 1 : 0;
      this.batch.changes.record(slot, seq, active, before, active, reached);
      d.paidRank[slot] = reached;
      const title = d.title[slot]!;
      if (reached <= title) continue;
      if (plan.rankAdvancement) {
        for (let rank = title + 1; rank <= reached; rank++) {
          const amount = promote(plan, RANK_BONUS, atMs, plan.rankBonusCents[rank]!);
          if (amount > 0)
            this.batch.serialLines.push(seq, 0, slot, RANK_BONUS, rank, buyer, amount);
        }
      }
      d.title[slot] = reached;
    }
  }

  /** SPEC 3.2 step 4 and clarification 4. */
  private fastStart(buyer: number, cvCents: number, seq: number, atMs: number): void {
    const state = this.state;
    const d = state.d;
    const plan = state.plan;
    if ((d.flags[buyer]! & FLAG_FIRST_ORDER_DONE) !== 0) return;
    d.flags[buyer] = d.flags[buyer]! | FLAG_FIRST_ORDER_DONE;
    if (!plan.fastStart || atMs - d.enrolledAt[buyer]! > plan.fastStartWindowMs) return;
    const sponsor = d.sponsor[buyer]!;
    if (sponsor === -1 || state.isTerminated(sponsor)) return;
    const amount = promote(plan, FAST_START, atMs, applyBps(cvCents, plan.fastStartBps));
    if (amount > 0) this.batch.serialLines.push(seq, 0, sponsor, FAST_START, 0, buyer, amount);
  }

  /** SPEC 3.3; the reversal lines are written by the merge, which has the order's lines. */
  private refund(event: RefundEvent, seq: number): number {
    const state = this.state;
    const row = state.orders.find(event.order);
    const orders = state.orders.rows;
    if (row === -1) return code('unknown_order');
    if (orders.refunded[row] === 1) return code('order_already_refunded');
    orders.refunded[row] = 1;
    if (orders.period[row] === state.period) {
      const buyer = orders.buyer[row]!;
      const pv = orders.pv[row]!;
      const cvCents = orders.cvCents[row]!;
      this.changePersonalVolume(buyer, -pv, seq);
      const d = state.d;
      for (let slot = buyer; slot !== -1; slot = d.sponsor[slot]!) {
        d.gv[slot] = d.gv[slot]! - pv;
        assert(d.gv[slot]! >= 0, 'gv must not go negative');
      }
      // Leg volume of the period is summed from the order book at close, where a refunded
      // order no longer counts: within a period a leg only grows, so no clamp is needed.
      state.periodNetCvCents -= cvCents;
      assert(state.periodNetCvCents >= 0, 'period net cv must not go negative');
    }
    this.batch.addRefund(orders.seq[row]!);
    return OUTCOME_ACCEPTED;
  }

  private withdraw(event: WithdrawEvent): number {
    const slot = this.state.slotOf(event.distributor);
    if (slot === -1) return UNKNOWN_DISTRIBUTOR;
    this.batch.addWithdrawal(slot, event.amount);
    return OUTCOME_ACCEPTED;
  }

  /** SPEC 3.5. */
  private terminate(event: TerminateEvent, seq: number): number {
    const state = this.state;
    const slot = state.slotOf(event.distributor);
    if (slot === -1) return UNKNOWN_DISTRIBUTOR;
    if (state.isTerminated(slot)) return TERMINATED_DISTRIBUTOR;
    const d = state.d;
    const wasActive = state.isActive(slot);
    d.flags[slot] = d.flags[slot]! | FLAG_TERMINATED;
    if (wasActive) {
      const sponsor = d.sponsor[slot]!;
      if (sponsor !== -1) d.legs[sponsor] = d.legs[sponsor]! - 1;
      const rank = d.paidRank[slot]!;
      this.batch.changes.record(slot, seq, 1, rank, 0, rank);
    }
    return OUTCOME_ACCEPTED;
  }
}
