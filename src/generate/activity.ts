import { assert } from '../core/assert.js';
import type { Network } from './network.js';
import { STATUS_ACTIVE, STATUS_TERMINATED } from './network.js';
import type { Random } from './random.js';
import type { EventSink } from './sink.js';

/**
 * The activity phase, after every enrollment: orders mixed with refunds, withdrawals, a few
 * terminations, and a period close every `periodOrders` orders. State: about 6 bytes per
 * distributor (buyers grouped by class, the list of sponsors, the status from the network
 * phase) and one byte per order (refunded or not). No event is kept.
 */

const DAY_MS = 86_400_000;
/** A period is about a month of business time, so refunds and fast start cross periods. */
export const PERIOD_SPAN_MS = 30 * DAY_MS;
/** Orders start a little after the last enrollment. */
const ACTIVITY_GAP_MS = 3_600_000;

export const REFUND_RATE = 0.02;
export const WITHDRAW_RATE = 0.01;
export const TERMINATE_RATE = 0.0005;
/** Terminations never take more than this share of the network (small networks, many orders). */
const TERMINATED_SHARE_MAX = 0.02;
/** Share of refunds that are bad data: half an unknown order, half one already refunded. */
const BAD_REFUND_RATE = 0.02;
/** Most refunds are of one of the last this many orders; the rest of any earlier order. */
const RECENT_REFUND_WINDOW = 2000;
const RECENT_REFUND_RATE = 0.8;
const PICK_TRIES = 4;

/**
 * Buyers: a distributor's class says how often it buys. Shares of distributors per class and
 * the relative order rate of one member; recruiters move up a class (builders buy too).
 */
const BUYER_CLASS_SHARES = [0.35, 0.25, 0.25, 0.12, 0.03] as const;
const BUYER_CLASS_WEIGHTS = [1, 3, 8, 20, 60] as const;

/** Order PV and its probability: mostly 50..200, some 0 (retail), rare big bundles. */
const PV_VALUES = [0, 25, 50, 100, 150, 200, 300, 500, 1000, 2500] as const;
const PV_WEIGHTS = [0.03, 0.1, 0.18, 0.35, 0.12, 0.11, 0.06, 0.035, 0.012, 0.003] as const;
/** CV is about PV * 100 cents with +-20% jitter; a few orders carry far more CV than PV. */
const CV_CENTS_PER_PV = 100;
const CV_BONUS_RATE = 0.005;
const CV_BONUS_FACTOR = 3;
const RETAIL_CV_CENTS_MAX = 5000;

/**
 * Withdrawals: mostly $5..$200, log-uniform; a few large ones up to $10,000. Many still
 * exceed the balance (early in the file nobody has earned much yet): the engine rejects them.
 */
const WITHDRAW_CENTS_MIN = 500;
const WITHDRAW_CENTS_MAX = 20_000;
const WITHDRAW_LARGE_RATE = 0.05;
const WITHDRAW_LARGE_CENTS_MAX = 1_000_000;
/** Share of withdrawals by a sponsor (who earns); the rest by anyone. */
const WITHDRAW_BY_SPONSOR_RATE = 0.9;
/** Draws in the tournament that picks an earner. */
const EARNER_TOURNAMENT_SIZE = 5;

export interface ActivityCounts {
  orders: number;
  refunds: number;
  badRefunds: number;
  withdrawals: number;
  terminations: number;
  periodCloses: number;
}

export function generateActivity(
  network: Network,
  orders: number,
  periodOrders: number,
  random: Random,
  sink: EventSink,
): ActivityCounts {
  assert(Number.isSafeInteger(periodOrders) && periodOrders >= 1, 'periodOrders >= 1');
  const activity = new Activity(network, orders, random, sink);
  const startAtMs = network.lastAtMs + ACTIVITY_GAP_MS;
  for (let index = 0; index < orders; index += 1) {
    const atMs = startAtMs + Math.floor((index * PERIOD_SPAN_MS) / periodOrders);
    activity.step(index, atMs);
    if ((index + 1) % periodOrders === 0) activity.closePeriod(atMs);
  }
  if (orders === 0 || orders % periodOrders !== 0) activity.closePeriod(activity.lastAtMs);
  sink.flushRetry();
  return activity.counts;
}

class Activity {
  readonly counts: ActivityCounts = {
    orders: 0,
    refunds: 0,
    badRefunds: 0,
    withdrawals: 0,
    terminations: 0,
    periodCloses: 0,
  };
  lastAtMs: number;
  private readonly buyers: BuyerSampler;
  /** Enrollment indexes of distributors with at least one recruit: the earners. */
  private readonly sponsors: Int32Array;
  private readonly refunded: Uint8Array;
  private readonly terminationsMax: number;
  private lastRefunded = -1;

  constructor(
    private readonly network: Network,
    private readonly orders: number,
    private readonly random: Random,
    private readonly sink: EventSink,
  ) {
    this.buyers = new BuyerSampler(network, random);
    this.sponsors = sponsorIndexes(network);
    this.refunded = new Uint8Array(orders);
    this.terminationsMax = Math.floor(network.count * TERMINATED_SHARE_MAX);
    this.lastAtMs = network.lastAtMs;
  }

  /** Order `index`, then perhaps a refund, a withdrawal, a termination, all at `atMs`. */
  step(index: number, atMs: number): void {
    this.lastAtMs = atMs;
    this.order(index, atMs);
    if (this.random.chance(REFUND_RATE)) this.refund(index, atMs);
    if (this.random.chance(WITHDRAW_RATE)) this.withdraw(atMs);
    const canTerminate = this.counts.terminations < this.terminationsMax;
    if (canTerminate && this.random.chance(TERMINATE_RATE)) this.terminate(atMs);
  }

  closePeriod(atMs: number): void {
    this.sink.emit(`"type":"period.close","at":${atMs}`, false);
    this.counts.periodCloses += 1;
  }

  private order(index: number, atMs: number): void {
    const buyer = this.network.ids.idOf(this.buyers.pickBuyer());
    const pv = orderPv(this.random);
    const cv = orderCvCents(this.random, pv);
    const body = `"type":"order","at":${atMs},"order":"${orderId(index)}","distributor":${buyer}`;
    this.sink.emit(`${body},"pv":${pv},"cv":${cv}`, true);
    this.counts.orders += 1;
  }

  /** Refunds an earlier order (`index` is the newest); rarely an unknown or refunded one. */
  private refund(index: number, atMs: number): void {
    const target = this.refundTarget(index);
    if (target === null) return;
    this.sink.emit(`"type":"refund","at":${atMs},"order":"${target}"`, true);
    this.counts.refunds += 1;
  }

  private refundTarget(index: number): string | null {
    const draw = this.random.float();
    if (draw < BAD_REFUND_RATE / 2) {
      this.counts.badRefunds += 1;
      return orderId(this.orders + this.counts.badRefunds); // never an order of this file
    }
    if (draw < BAD_REFUND_RATE && this.lastRefunded >= 0) {
      this.counts.badRefunds += 1;
      return orderId(this.lastRefunded);
    }
    for (let attempt = 0; attempt < PICK_TRIES; attempt += 1) {
      const recent = this.random.chance(RECENT_REFUND_RATE);
      const span = recent ? Math.min(index + 1, RECENT_REFUND_WINDOW) : index + 1;
      const target = index - this.random.below(span);
      if (this.refunded[target] === 0) {
        this.refunded[target] = 1;
        this.lastRefunded = target;
        return orderId(target);
      }
    }
    return null;
  }

  /** Earners withdraw more often than others; amounts vary, some exceed the balance. */
  private withdraw(atMs: number): void {
    const bySponsor = this.sponsors.length > 0 && this.random.chance(WITHDRAW_BY_SPONSOR_RATE);
    const index = bySponsor ? this.pickEarner() : this.buyers.pickAnyStatus();
    const distributor = this.network.ids.idOf(index);
    const large = this.random.chance(WITHDRAW_LARGE_RATE);
    const amountMax = large ? WITHDRAW_LARGE_CENTS_MAX : WITHDRAW_CENTS_MAX;
    const amount = Math.floor(this.random.logUniform(WITHDRAW_CENTS_MIN, amountMax));
    const body = `"type":"withdraw","at":${atMs},"distributor":${distributor}`;
    this.sink.emit(`${body},"amount":${amount}`, true);
    this.counts.withdrawals += 1;
  }

  /**
   * A sponsor, biased towards those with many recruits (who earn the most) by a tournament:
   * the one with the most recruits among a few uniform draws.
   */
  private pickEarner(): number {
    const recruitCounts = this.network.recruitCounts;
    let best = this.sponsors[this.random.below(this.sponsors.length)] ?? 0;
    for (let round = 1; round < EARNER_TOURNAMENT_SIZE; round += 1) {
      const candidate = this.sponsors[this.random.below(this.sponsors.length)] ?? 0;
      if ((recruitCounts[candidate] ?? 0) > (recruitCounts[best] ?? 0)) best = candidate;
    }
    return best;
  }

  private terminate(atMs: number): void {
    const status = this.network.status;
    for (let attempt = 0; attempt < PICK_TRIES; attempt += 1) {
      const index = this.random.below(this.network.count);
      if (status[index] !== STATUS_ACTIVE) continue;
      status[index] = STATUS_TERMINATED;
      const distributor = this.network.ids.idOf(index);
      this.sink.emit(`"type":"terminate","at":${atMs},"distributor":${distributor}`, true);
      this.counts.terminations += 1;
      return;
    }
  }
}

function sponsorIndexes(network: Network): Int32Array {
  let count = 0;
  for (const recruits of network.recruitCounts) if (recruits > 0) count += 1;
  const sponsors = new Int32Array(count);
  let filled = 0;
  network.recruitCounts.forEach((recruits, index) => {
    if (recruits > 0) sponsors[filled++] = index;
  });
  return sponsors;
}

/** Order ids are 1-based: `o-1` is the first order of the file. */
function orderId(index: number): string {
  return `o-${index + 1}`;
}

function orderPv(random: Random): number {
  let draw = random.float();
  for (let position = 0; position < PV_VALUES.length - 1; position += 1) {
    const weight = PV_WEIGHTS[position] ?? 0;
    if (draw < weight) return PV_VALUES[position] ?? 0;
    draw -= weight;
  }
  return PV_VALUES[PV_VALUES.length - 1] ?? 0;
}

function orderCvCents(random: Random, pv: number): number {
  if (pv === 0) return random.chance(0.5) ? 0 : random.below(RETAIL_CV_CENTS_MAX);
  const jittered = Math.floor(pv * CV_CENTS_PER_PV * (0.8 + 0.4 * random.float()));
  return random.chance(CV_BONUS_RATE) ? jittered * CV_BONUS_FACTOR : jittered;
}

/**
 * Draws buyers in proportion to their class weight in O(1): first a class (by its total
 * weight), then a uniform member of it. Members are grouped by class in one Int32Array, so
 * the memory is 4 bytes per distributor whatever the skew.
 */
class BuyerSampler {
  private readonly members: Int32Array;
  private readonly classStarts: number[] = [];
  private readonly classEnds: number[] = [];
  private readonly cumulativeWeights: number[] = [];

  constructor(
    private readonly network: Network,
    private readonly random: Random,
  ) {
    const classes = this.assignClasses();
    this.members = new Int32Array(network.count);
    let filled = 0;
    let totalWeight = 0;
    for (let buyerClass = 0; buyerClass < BUYER_CLASS_WEIGHTS.length; buyerClass += 1) {
      this.classStarts.push(filled);
      for (let index = 0; index < network.count; index += 1) {
        if (classes[index] === buyerClass) this.members[filled++] = index;
      }
      this.classEnds.push(filled);
      const classSize = filled - (this.classStarts[buyerClass] ?? 0);
      totalWeight += classSize * (BUYER_CLASS_WEIGHTS[buyerClass] ?? 0);
      this.cumulativeWeights.push(totalWeight);
    }
    assert(filled > 0, 'at least one distributor can buy');
  }

  /** A buyer who is not terminated, when a few tries find one (else a rejected order). */
  pickBuyer(): number {
    let index = this.pickAnyStatus();
    for (let attempt = 1; attempt < PICK_TRIES; attempt += 1) {
      if (this.network.status[index] === STATUS_ACTIVE) return index;
      index = this.pickAnyStatus();
    }
    return index;
  }

  /** Any enrolled distributor, terminated ones included. */
  pickAnyStatus(): number {
    const total = this.cumulativeWeights[this.cumulativeWeights.length - 1] ?? 0;
    const target = this.random.float() * total;
    let buyerClass = 0;
    while ((this.cumulativeWeights[buyerClass] ?? total) <= target) buyerClass += 1;
    const start = this.classStarts[buyerClass] ?? 0;
    const end = this.classEnds[buyerClass] ?? 0;
    assert(end > start, 'a drawn class has members');
    return this.members[start + this.random.below(end - start)] ?? 0;
  }

  /** Class per enrollment index; 255 for distributors the engine never enrolled. */
  private assignClasses(): Uint8Array {
    const classes = new Uint8Array(this.network.count);
    const top = BUYER_CLASS_SHARES.length - 1;
    for (let index = 0; index < this.network.count; index += 1) {
      if (this.network.status[index] !== STATUS_ACTIVE) {
        classes[index] = 255;
        continue;
      }
      let buyerClass = shareClass(this.random.float());
      if ((this.network.recruitCounts[index] ?? 0) > 0) buyerClass = Math.min(top, buyerClass + 1);
      classes[index] = buyerClass;
    }
    return classes;
  }
}

function shareClass(draw: number): number {
  let rest = draw;
  for (let buyerClass = 0; buyerClass < BUYER_CLASS_SHARES.length - 1; buyerClass += 1) {
    const share = BUYER_CLASS_SHARES[buyerClass] ?? 0;
    if (rest < share) return buyerClass;
    rest -= share;
  }
  return BUYER_CLASS_SHARES.length - 1;
}
