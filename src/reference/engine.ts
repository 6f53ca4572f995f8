import { assert, assertSafeInteger } from '../core/assert.js';
import { addExact, applyBps, shareOf } from '../core/money.js';
import { ACCEPTED, type ProcessOutcome, type RuleReason } from '../events/reasons.js';
import type { EventResult } from '../events/result.js';
import type {
  EnrollEvent,
  Leg,
  OrderEvent,
  RefundEvent,
  TerminateEvent,
  UplineEvent,
  WithdrawEvent,
} from '../events/types.js';
import { parseEventLineWithJson } from '../events/validate.js';
import { emptyEarnings, formatSummaryLine, type DistributorSummary } from '../export/summary.js';
import type { EarningType, Line, LineType } from '../ledger/line.js';
import type { Plan, Rank } from '../plan/plan.js';
import {
  createDistributor,
  type DistributorState,
  type DistributorView,
  type EventRecord,
  type OrderRecord,
} from './state.js';

/**
 * The serial reference implementation of SPEC 3 (the oracle). One event at a time, plain Maps,
 * every rule spelled out in SPEC order; `docs/plan-semantics.md` settles what SPEC leaves open.
 * The fast pipeline must produce exactly these lines and this export. Slow on purpose: clarity
 * over speed, and an assertion wherever an invariant could break.
 */
export class ReferenceEngine {
  readonly #plan: Plan;
  readonly #distributors = new Map<number, DistributorState>();
  readonly #orders = new Map<string, OrderRecord>();
  readonly #events = new Map<string, EventRecord>();
  readonly #lines: Line[] = [];
  #seq = 0;
  #period = 0;
  /** Net cv of the current period: its orders minus its refunds of its orders (pool base). */
  #periodNetCvCents = 0;
  /** The event being processed: its seq, `at` (for promotions) and next line ordinal. */
  #eventSeq = 0;
  #eventAtMs = 0;
  #eventOrdinal = 0;

  constructor(plan: Plan) {
    assert(plan.ranks.length >= 1, 'plan needs rank 0');
    this.#plan = plan;
  }

  /** Every ledger line in write order. */
  get lines(): readonly Line[] {
    return this.#lines;
  }

  /** The number of period closes so far. */
  get period(): number {
    return this.#period;
  }

  /** The last seq assigned (0 before the first valid event). */
  get seq(): number {
    return this.#seq;
  }

  get periodNetCvCents(): number {
    return this.#periodNetCvCents;
  }

  /** A snapshot of one distributor's state, or undefined if it was never enrolled. */
  distributor(id: number): DistributorView | undefined {
    const state = this.#distributors.get(id);
    if (state === undefined) return undefined;
    return Object.freeze({
      id: state.id,
      sponsor: state.sponsor,
      enrolledAtMs: state.enrolledAtMs,
      placementParent: state.placementParent,
      placementLeg: state.placementLeg,
      pv: state.pv,
      gv: state.gv,
      legs: state.legs,
      paidRank: state.paidRank,
      title: state.title,
      legLCents: state.legLCents,
      legRCents: state.legRCents,
      hasOrdered: state.hasOrdered,
      enrollmentCount: state.enrollmentCount,
      terminated: state.terminated,
      balanceCents: state.balanceCents,
    });
  }

  /** One NDJSON line: parse and validate (a validation reject takes no seq), then process. */
  processLine(line: string): EventResult {
    const validated = parseEventLineWithJson(line);
    if (!validated.ok) return { seq: null, status: 'rejected', reason: validated.error.reason };
    return this.process(validated.event);
  }

  /** A validated event: dedupe by id, take the next seq, apply SPEC 3. */
  process(event: UplineEvent): EventResult {
    const first = this.#events.get(event.id);
    if (first !== undefined) {
      const outcome = first.outcome;
      return {
        seq: first.seq,
        status: 'duplicate',
        first: outcome.status === 'accepted' ? { status: 'accepted' } : outcome,
      };
    }
    this.#seq += 1;
    this.#eventSeq = this.#seq;
    this.#eventAtMs = event.at;
    this.#eventOrdinal = 0;
    const linesBefore = this.#lines.length;
    const outcome = this.#apply(event);
    // A rejection is decided before any state moves, so it can have written nothing.
    assert(outcome.status === 'accepted' || this.#lines.length === linesBefore, 'reject wrote');
    this.#events.set(event.id, { seq: this.#seq, outcome });
    if (outcome.status === 'accepted') return { seq: this.#seq, status: 'accepted' };
    return { seq: this.#seq, status: 'rejected', reason: outcome.reason };
  }

  /** SPEC 4: one summary per enrolled distributor, in id order, folded from the ledger. */
  summaries(): DistributorSummary[] {
    const ids = this.#sortedIds();
    const balances = new Map<number, number>();
    const withdrawn = new Map<number, number>();
    const earned = new Map<number, Record<EarningType, number>>();
    for (const id of ids) {
      balances.set(id, 0);
      withdrawn.set(id, 0);
      earned.set(id, emptyEarnings());
    }
    for (const line of this.#lines) {
      const id = line.beneficiary;
      balances.set(id, addExact(balances.get(id) ?? 0, line.amountCents));
      if (line.type === 'withdrawal') {
        assert(line.amountCents < 0, 'withdrawal lines are negative');
        withdrawn.set(id, addExact(withdrawn.get(id) ?? 0, -line.amountCents));
      } else {
        const record = earned.get(id);
        assert(record !== undefined, 'line to an unknown distributor');
        record[line.type] = addExact(record[line.type], line.amountCents);
      }
    }
    return ids.map((id) => {
      const state = this.#get(id);
      const balanceCents = balances.get(id) ?? 0;
      assert(balanceCents === state.balanceCents, `balance of ${id} disagrees with its lines`);
      return {
        distributor: id,
        balanceCents,
        title: state.title,
        paidRank: state.paidRank,
        earnedCents: earned.get(id) ?? emptyEarnings(),
        withdrawnCents: withdrawn.get(id) ?? 0,
      };
    });
  }

  /** The export text: one NDJSON line per distributor, with a trailing newline if non-empty. */
  exportText(): string {
    const lines = this.summaries().map(formatSummaryLine);
    return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
  }

  #apply(event: UplineEvent): ProcessOutcome {
    switch (event.type) {
      case 'enroll':
        return this.#enroll(event);
      case 'order':
        return this.#order(event);
      case 'refund':
        return this.#refund(event);
      case 'withdraw':
        return this.#withdraw(event);
      case 'terminate':
        return this.#terminate(event);
      case 'period.close':
        return this.#periodClose();
    }
  }

  // ---------------------------------------------------------------- 3.1 enroll

  #enroll(event: EnrollEvent): ProcessOutcome {
    if (this.#distributors.has(event.distributor)) return reject('distributor_taken');
    const sponsor = event.sponsor === null ? null : this.#distributors.get(event.sponsor);
    if (sponsor === undefined) return reject('sponsor_missing');
    if (sponsor !== null && sponsor.terminated) return reject('sponsor_terminated');
    let parent: DistributorState | null = null;
    let leg: Leg | null = null;
    if (event.placement !== null) {
      const given = this.#distributors.get(event.placement.parent);
      if (given === undefined) return reject('placement_parent_missing');
      if (childOf(given, event.placement.leg) !== null) return reject('placement_slot_taken');
      parent = given;
      leg = event.placement.leg;
    } else if (sponsor !== null) {
      // The k-th unplaced recruit goes to L when k is even, R when odd, at the outermost
      // free slot of that leg under the sponsor.
      leg = sponsor.unplacedRecruitCount % 2 === 0 ? 'L' : 'R';
      sponsor.unplacedRecruitCount += 1;
      parent = this.#outermost(sponsor, leg);
    }
    const recruit = createDistributor(
      event.distributor,
      event.sponsor,
      event.at,
      parent === null ? null : parent.id,
      leg,
    );
    if (parent !== null && leg !== null) {
      assert(childOf(parent, leg) === null, 'placement slot must be free');
      if (leg === 'L') parent.childL = recruit.id;
      else parent.childR = recruit.id;
    }
    this.#distributors.set(recruit.id, recruit);
    if (sponsor !== null) {
      sponsor.enrollmentCount += 1;
      const incentive = this.#plan.incentive;
      if (incentive.enabled && sponsor.enrollmentCount === incentive.enrollments) {
        this.#earn(sponsor.id, 'incentive', 0, recruit.id, null, incentive.amountCents);
      }
    }
    return ACCEPTED;
  }

  #outermost(start: DistributorState, leg: Leg): DistributorState {
    let node = start;
    for (;;) {
      const child = childOf(node, leg);
      if (child === null) return node;
      node = this.#get(child);
    }
  }

  // ---------------------------------------------------------------- 3.2 order

  #order(event: OrderEvent): ProcessOutcome {
    const buyer = this.#distributors.get(event.distributor);
    if (buyer === undefined) return reject('unknown_distributor');
    if (buyer.terminated) return reject('terminated_distributor');
    if (this.#orders.has(event.order)) return reject('order_taken');
    const record: OrderRecord = {
      order: event.order,
      buyer: buyer.id,
      pv: event.pv,
      cvCents: event.cv,
      period: this.#period,
      seq: this.#eventSeq,
      reversible: [],
      refunded: false,
    };
    this.#orders.set(event.order, record);
    this.#periodNetCvCents = addExact(this.#periodNetCvCents, event.cv);

    this.#addPersonalVolume(buyer, event.pv); // step 1
    for (const node of this.#sponsorChain(buyer)) node.gv = addExact(node.gv, event.pv); // step 2
    this.#evaluateRanks(buyer, event.order); // step 3
    const fastStart = this.#fastStart(buyer, event); // step 4
    if (fastStart !== null) record.reversible.push(fastStart);
    const unilevel = this.#unilevel(buyer, event); // step 5
    record.reversible.push(...unilevel);
    this.#addBinaryVolume(buyer, event.cv); // step 6
    for (const line of unilevel) record.reversible.push(...this.#match(line, event.order)); // 7
    return ACCEPTED;
  }

  /** Step 1: `pv += pv`; a buyer that just became active counts in its sponsor's legs. */
  #addPersonalVolume(buyer: DistributorState, pv: number): void {
    const wasActive = this.#isActive(buyer);
    buyer.pv = addExact(buyer.pv, pv);
    if (wasActive || !this.#isActive(buyer)) return;
    assert(!buyer.countedInLegs, 'an inactive distributor is not counted in legs');
    buyer.countedInLegs = true;
    if (buyer.sponsor !== null) this.#get(buyer.sponsor).legs += 1;
  }

  /** Step 3: buyer first, then each sponsor ancestor upward, terminated ones skipped. */
  #evaluateRanks(buyer: DistributorState, order: string): void {
    for (const node of this.#sponsorChain(buyer)) {
      if (node.terminated) continue;
      node.paidRank = Math.max(node.paidRank, this.#highestRankHeld(node));
      if (node.paidRank <= node.title) continue;
      if (this.#plan.rankAdvancement.enabled) {
        for (let rank = node.title + 1; rank <= node.paidRank; rank += 1) {
          const bonus = this.#rank(rank).advancementBonusCents;
          this.#earn(node.id, 'rank_bonus', rank, buyer.id, order, bonus);
        }
      }
      node.title = node.paidRank;
    }
  }

  #highestRankHeld(node: DistributorState): number {
    for (let rank = this.#plan.ranks.length - 1; rank > 0; rank -= 1) {
      const rule = this.#rank(rank);
      if (node.pv >= rule.pv && node.gv >= rule.gv && node.legs >= rule.legs) return rank;
    }
    return 0;
  }

  /** Step 4: the buyer's first order ever, within the window of its enrollment. */
  #fastStart(buyer: DistributorState, event: OrderEvent): Line | null {
    const first = !buyer.hasOrdered;
    buyer.hasOrdered = true;
    const fastStart = this.#plan.fastStart;
    if (!first || !fastStart.enabled || buyer.sponsor === null) return null;
    if (event.at - buyer.enrolledAtMs > fastStart.windowMs) return null;
    const amount = applyBps(event.cv, fastStart.bps);
    return this.#earn(buyer.sponsor, 'fast_start', 0, buyer.id, event.order, amount);
  }

  /** Step 5: dynamic compression; levels unlocked by paid-as rank; a level is used either way. */
  #unilevel(buyer: DistributorState, event: OrderEvent): Line[] {
    const written: Line[] = [];
    if (!this.#plan.unilevel.enabled) return written;
    const levelsBps = this.#plan.unilevel.levelsBps;
    let level = 1;
    let id = buyer.sponsor;
    while (id !== null && level <= levelsBps.length) {
      const node = this.#get(id);
      if (this.#isActive(node)) {
        if (level <= this.#rank(node.paidRank).unilevelLevels) {
          const bps = levelsBps[level - 1];
          assert(bps !== undefined, 'unilevel level out of range');
          const amount = applyBps(event.cv, bps);
          const line = this.#earn(node.id, 'unilevel', level, buyer.id, event.order, amount);
          if (line !== null) written.push(line);
        }
        level += 1;
      }
      id = node.sponsor;
    }
    return written;
  }

  /** Step 6: every placement ancestor adds `cv` to the leg the buyer is reached through. */
  #addBinaryVolume(buyer: DistributorState, cvCents: number): void {
    if (!this.#plan.binary.enabled) return;
    let child = buyer;
    while (child.placementParent !== null) {
      const parent = this.#get(child.placementParent);
      if (child.placementLeg === 'L') parent.legLCents = addExact(parent.legLCents, cvCents);
      else parent.legRCents = addExact(parent.legRCents, cvCents);
      child = parent;
    }
  }

  /** Step 7 (and 3.6 step 2): generations are literal sponsors, never compressed. */
  #match(line: Line, order: string | null): Line[] {
    const written: Line[] = [];
    if (!this.#plan.matching.enabled) return written;
    assert(line.amountCents > 0, 'matching is paid on written earnings only');
    const generations = this.#plan.matching.generations;
    let id = this.#get(line.beneficiary).sponsor;
    for (let generation = 1; generation <= generations.length && id !== null; generation += 1) {
      const node = this.#get(id);
      const rule = generations[generation - 1];
      assert(rule !== undefined, 'matching generation out of range');
      if (this.#isActive(node) && node.paidRank >= rule.minPaidRank) {
        const amount = applyBps(line.amountCents, rule.bps);
        const match = this.#earn(node.id, 'matching', generation, line.beneficiary, order, amount);
        if (match !== null) written.push(match);
      }
      id = node.sponsor;
    }
    return written;
  }

  // ---------------------------------------------------------------- 3.3 refund

  #refund(event: RefundEvent): ProcessOutcome {
    const record = this.#orders.get(event.order);
    if (record === undefined) return reject('unknown_order');
    if (record.refunded) return reject('order_already_refunded');
    record.refunded = true;
    for (const line of record.reversible) {
      // Not an earning: written whether or not the beneficiary was terminated since, and
      // never multiplied by a promotion.
      const amountCents = -line.amountCents;
      this.#write(line.beneficiary, line.type, line.level, line.source, line.order, amountCents);
    }
    if (record.period === this.#period) this.#removeVolumes(record);
    return ACCEPTED;
  }

  /** A current-period refund takes the order's pv, gv and leg volume back off. */
  #removeVolumes(record: OrderRecord): void {
    const buyer = this.#get(record.buyer);
    buyer.pv -= record.pv;
    assert(buyer.pv >= 0, 'pv never negative');
    if (buyer.countedInLegs && !this.#isActive(buyer)) {
      // A buyer terminated since is no longer counted: termination already lowered legs.
      buyer.countedInLegs = false;
      if (buyer.sponsor !== null) this.#lowerLegs(this.#get(buyer.sponsor));
    }
    for (const node of this.#sponsorChain(buyer)) {
      node.gv -= record.pv;
      assert(node.gv >= 0, 'gv never negative');
    }
    if (this.#plan.binary.enabled) {
      let child = buyer;
      while (child.placementParent !== null) {
        const parent = this.#get(child.placementParent);
        // Within a period a leg only grows, so the clamp at 0 is never needed.
        if (child.placementLeg === 'L') {
          assert(parent.legLCents >= record.cvCents, 'leg L holds the order cv');
          parent.legLCents = Math.max(0, parent.legLCents - record.cvCents);
        } else {
          assert(parent.legRCents >= record.cvCents, 'leg R holds the order cv');
          parent.legRCents = Math.max(0, parent.legRCents - record.cvCents);
        }
        child = parent;
      }
    }
    this.#periodNetCvCents -= record.cvCents;
    assert(this.#periodNetCvCents >= 0, 'period net cv never negative');
  }

  // ---------------------------------------------------------------- 3.4 withdraw, 3.5 terminate

  #withdraw(event: WithdrawEvent): ProcessOutcome {
    const node = this.#distributors.get(event.distributor);
    if (node === undefined) return reject('unknown_distributor');
    if (event.amount > node.balanceCents) return reject('insufficient_funds');
    this.#write(node.id, 'withdrawal', 0, node.id, null, -event.amount);
    return ACCEPTED;
  }

  #terminate(event: TerminateEvent): ProcessOutcome {
    const node = this.#distributors.get(event.distributor);
    if (node === undefined) return reject('unknown_distributor');
    if (node.terminated) return reject('terminated_distributor');
    if (node.countedInLegs) {
      node.countedInLegs = false;
      if (node.sponsor !== null) this.#lowerLegs(this.#get(node.sponsor));
    }
    node.terminated = true;
    return ACCEPTED;
  }

  #lowerLegs(sponsor: DistributorState): void {
    sponsor.legs -= 1;
    assert(sponsor.legs >= 0, 'legs never negative');
  }

  // ---------------------------------------------------------------- 3.6 period.close

  #periodClose(): ProcessOutcome {
    const ids = this.#sortedIds();
    const binaryLines = this.#pairBinary(ids); // step 1
    for (const line of binaryLines) this.#match(line, null); // step 2
    this.#payPool(ids); // step 3
    const carryCapCents = this.#plan.binary.carryCapCents; // step 4
    for (const id of ids) {
      const node = this.#get(id);
      node.pv = 0;
      node.gv = 0;
      node.legs = 0;
      node.paidRank = 0;
      node.enrollmentCount = 0;
      node.countedInLegs = false;
      node.legLCents = Math.min(node.legLCents, carryCapCents);
      node.legRCents = Math.min(node.legRCents, carryCapCents);
    }
    this.#periodNetCvCents = 0;
    this.#period += 1;
    return ACCEPTED;
  }

  /** Active distributors pair `min(L, R)`; the cap applies first, promotions after. */
  #pairBinary(ids: readonly number[]): Line[] {
    const written: Line[] = [];
    const binary = this.#plan.binary;
    if (!binary.enabled) return written;
    for (const id of ids) {
      const node = this.#get(id);
      if (!this.#isActive(node)) continue;
      const matched = Math.min(node.legLCents, node.legRCents);
      const capCents = this.#rank(node.paidRank).binaryCapCents;
      const amount = Math.min(applyBps(matched, binary.bps), capCents);
      const line = this.#earn(node.id, 'binary', 0, node.id, null, amount);
      if (line !== null) written.push(line);
      node.legLCents -= matched;
      node.legRCents -= matched;
      assert(node.legLCents >= 0 && node.legRCents >= 0, 'legs never negative after pairing');
    }
    return written;
  }

  #payPool(ids: readonly number[]): void {
    const pool = this.#plan.pool;
    if (!pool.enabled) return;
    assert(this.#periodNetCvCents >= 0, 'pool base never negative');
    const poolCents = applyBps(this.#periodNetCvCents, pool.bps);
    const holders: DistributorState[] = [];
    let totalShares = 0;
    for (const id of ids) {
      const node = this.#get(id);
      if (node.terminated || node.paidRank < pool.minPaidRank) continue;
      holders.push(node);
      totalShares = addExact(totalShares, node.paidRank - pool.shareOffset);
    }
    if (totalShares === 0) return;
    for (const holder of holders) {
      const shares = holder.paidRank - pool.shareOffset;
      assert(shares >= 1, 'every pool holder has a share');
      this.#earn(holder.id, 'pool', 0, holder.id, null, shareOf(poolCents, shares, totalShares));
    }
  }

  // ---------------------------------------------------------------- lines

  /**
   * An earning: never to a terminated distributor; promotions covering the event's `at`
   * multiply it in list order; a zero amount is not written. Returns the line or null.
   */
  #earn(
    beneficiary: number,
    type: EarningType,
    level: number,
    source: number,
    order: string | null,
    baseCents: number,
  ): Line | null {
    assertSafeInteger(baseCents, 'earning');
    assert(baseCents >= 0, 'an earning is never negative');
    if (this.#get(beneficiary).terminated) return null;
    let amountCents = baseCents;
    for (const promotion of this.#plan.promotions) {
      if (this.#eventAtMs < promotion.from || this.#eventAtMs >= promotion.to) continue;
      if (!promotion.types.includes(type)) continue;
      amountCents = applyBps(amountCents, promotion.multiplierBps);
    }
    if (amountCents === 0) return null;
    return this.#write(beneficiary, type, level, source, order, amountCents);
  }

  #write(
    beneficiary: number,
    type: LineType,
    level: number,
    source: number,
    order: string | null,
    amountCents: number,
  ): Line {
    assertSafeInteger(amountCents, 'line amount');
    assert(amountCents !== 0, 'a zero line is never written');
    assert(Number.isInteger(level) && level >= 0, 'line level');
    const node = this.#get(beneficiary);
    node.balanceCents = addExact(node.balanceCents, amountCents);
    const line: Line = Object.freeze({
      seq: this.#eventSeq,
      ordinal: this.#eventOrdinal,
      beneficiary,
      type,
      level,
      source,
      order,
      amountCents,
    });
    this.#eventOrdinal += 1;
    this.#lines.push(line);
    return line;
  }

  // ---------------------------------------------------------------- helpers

  #get(id: number): DistributorState {
    const node = this.#distributors.get(id);
    assert(node !== undefined, `distributor ${id} must exist`);
    return node;
  }

  #rank(rank: number): Rank {
    const rule = this.#plan.ranks[rank];
    assert(rule !== undefined, `rank ${rank} out of range`);
    return rule;
  }

  /** Active: period pv at least ACTIVE_PV, and not terminated. */
  #isActive(node: DistributorState): boolean {
    return !node.terminated && node.pv >= this.#plan.activePv;
  }

  /** The distributor itself, then each sponsor ancestor up to its root. */
  #sponsorChain(start: DistributorState): DistributorState[] {
    const chain: DistributorState[] = [];
    let node: DistributorState | null = start;
    while (node !== null) {
      chain.push(node);
      assert(chain.length <= this.#distributors.size, 'sponsor tree has no cycle');
      node = node.sponsor === null ? null : this.#get(node.sponsor);
    }
    return chain;
  }

  #sortedIds(): number[] {
    return [...this.#distributors.keys()].sort((a, b) => a - b);
  }
}

function reject(reason: RuleReason): ProcessOutcome {
  return { status: 'rejected', reason };
}

function childOf(node: DistributorState, leg: Leg): number | null {
  return leg === 'L' ? node.childL : node.childR;
}
