import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { UplineError } from '../src/core/errors.js';
import type { UplineEvent } from '../src/events/types.js';
import { DISTRIBUTOR_ID_MAX, parseEventLine } from '../src/events/validate.js';
import type { GenerateOptions, GenerateStats } from '../src/generate/generate.js';
import { generateEvents, generateToFile } from '../src/generate/generate.js';
import { Random } from '../src/generate/random.js';
import { DUPLICATE_DELAY_MAX } from '../src/generate/sink.js';

/**
 * `upline generate` (SPEC 5): reproducible bytes, valid events, and the shape that makes the
 * file a fair benchmark (skewed recruiting, deep legs, rare bad data the engine must reject).
 * The property checks run on one 20k-distributor file, parsed once.
 */

const DAY_MS = 86_400_000;

function generateText(options: GenerateOptions): { text: string; stats: GenerateStats } {
  const chunks: string[] = [];
  const stats = generateEvents(options, (chunk) => chunks.push(chunk));
  return { text: chunks.join(''), stats };
}

interface Parsed {
  readonly lines: readonly string[];
  /** Every line's event, duplicates included, in file order. */
  readonly events: readonly UplineEvent[];
  /** Events without their verbatim retries. */
  readonly firsts: readonly UplineEvent[];
  readonly stats: GenerateStats;
}

function parse(options: GenerateOptions): Parsed {
  const { text, stats } = generateText(options);
  assert.ok(text.endsWith('\n'), 'the file ends with a newline');
  const lines = text.slice(0, -1).split('\n');
  const events: UplineEvent[] = [];
  const firsts: UplineEvent[] = [];
  const seen = new Set<string>();
  for (const [index, line] of lines.entries()) {
    const result = parseEventLine(line);
    if (!result.ok) assert.fail(`line ${index + 1} is invalid: ${result.error.message}`);
    events.push(result.event);
    if (!seen.has(result.event.id)) firsts.push(result.event);
    seen.add(result.event.id);
  }
  return { lines, events, firsts, stats };
}

const NETWORK_OPTIONS: GenerateOptions = { distributors: 20_000, orders: 60_000, seed: 7 };
let networkCache: Parsed | undefined;
/** The 20k-distributor file, generated once for all the property tests. */
function network(): Parsed {
  networkCache ??= parse(NETWORK_OPTIONS);
  return networkCache;
}

function enrollments(parsed: Parsed): Array<UplineEvent & { type: 'enroll' }> {
  return parsed.firsts.filter((event) => event.type === 'enroll');
}

function recruitCounts(parsed: Parsed): Map<number, number> {
  const counts = new Map<number, number>();
  for (const event of enrollments(parsed)) {
    if (event.sponsor !== null) counts.set(event.sponsor, (counts.get(event.sponsor) ?? 0) + 1);
  }
  return counts;
}

describe('generate: reproducibility', () => {
  const options: GenerateOptions = { distributors: 2000, orders: 8000, seed: 11 };

  it('gives the same bytes for the same seed and different bytes for another', () => {
    const first = generateText(options);
    const second = generateText(options);
    assert.equal(first.text, second.text);
    assert.deepEqual(first.stats, second.stats);
    assert.notEqual(generateText({ ...options, seed: 12 }).text, first.text);
  });

  it('writes the same bytes to a file as through the callback', () => {
    const directory = mkdtempSync(join(tmpdir(), 'upline-generate-'));
    try {
      const file = join(directory, 'events.ndjson');
      const stats = generateToFile(options, file);
      const bytes = readFileSync(file);
      assert.equal(bytes.length, stats.bytes);
      assert.equal(bytes.toString('latin1'), generateText(options).text);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it('keeps the PRNG sequence fixed: files must not change across Node versions', () => {
    // Golden values: if these change, every generated benchmark file changes with them.
    const random = new Random(1);
    const outputs = [0, 1, 2, 3, 4].map(() => random.nextUint32());
    assert.deepEqual(outputs, [2442144158, 3238099751, 3819917871, 2104621829, 2021136066]);
    const wide = new Random(2 ** 40 + 5, 7);
    assert.deepEqual([wide.nextUint32(), wide.nextUint32()], [3463989176, 4166004343]);
  });

  it('rejects bad options with a usage error naming the option', () => {
    const bad: GenerateOptions[] = [
      { distributors: 0, orders: 1, seed: 1 },
      { distributors: 1.5, orders: 1, seed: 1 },
      { distributors: 10, orders: -1, seed: 1 },
      { distributors: 10, orders: 1, seed: -1 },
      { distributors: 10, orders: 1, seed: 1, periodOrders: 0 },
    ];
    for (const options of bad) {
      assert.throws(
        () => generateEvents(options, () => undefined),
        (error: unknown) => error instanceof UplineError && error.code === 'UPLINE_USAGE',
        JSON.stringify(options),
      );
    }
  });
});

describe('generate: shape and counts', () => {
  it('writes only events that pass validateEvent, with unique ids but for retries', () => {
    const parsed = network();
    assert.equal(parsed.lines.length, parsed.stats.events);
    assert.equal(parsed.events.length - parsed.firsts.length, parsed.stats.duplicates);
  });

  it('repeats a retried event verbatim, shortly after the original', () => {
    const { lines, events, stats } = network();
    const firstLine = new Map<string, number>();
    let retries = 0;
    for (const [index, event] of events.entries()) {
      const first = firstLine.get(event.id);
      if (first === undefined) {
        firstLine.set(event.id, index);
        continue;
      }
      retries += 1;
      assert.equal(lines[index], lines[first], 'a retry is the same bytes');
      assert.ok(index - first <= DUPLICATE_DELAY_MAX + 1, 'a retry comes shortly after');
      assert.notEqual(event.type, 'period.close');
    }
    assert.equal(retries, stats.duplicates);
    assert.ok(retries > 0 && retries < events.length * 0.003, `retries ${retries}`);
  });

  it('matches the options and its own statistics', () => {
    const { firsts, stats, lines } = network();
    const byType = new Map<string, number>();
    for (const event of firsts) byType.set(event.type, (byType.get(event.type) ?? 0) + 1);
    assert.equal(byType.get('enroll'), NETWORK_OPTIONS.distributors);
    assert.equal(byType.get('order'), NETWORK_OPTIONS.orders);
    assert.equal(stats.enrollments, NETWORK_OPTIONS.distributors);
    assert.equal(stats.orders, NETWORK_OPTIONS.orders);
    assert.equal(byType.get('refund'), stats.refunds);
    assert.equal(byType.get('withdraw'), stats.withdrawals);
    assert.equal(byType.get('terminate'), stats.terminations);
    assert.equal(byType.get('period.close'), stats.periodCloses);
    assert.equal(
      stats.bytes,
      lines.reduce((sum, line) => sum + line.length + 1, 0),
    );
    const orders = NETWORK_OPTIONS.orders;
    assertNear(stats.refunds / orders, 0.02, 0.005, 'refund rate');
    assertNear(stats.withdrawals / orders, 0.01, 0.003, 'withdrawal rate');
    assert.ok(stats.terminations > 0 && stats.terminations / orders < 0.001, 'terminations');
  });

  it('writes every enrollment first, the first root first', () => {
    const { events } = network();
    const first = events[0];
    assert.ok(first?.type === 'enroll' && first.sponsor === null, 'the first event is a root');
    const firstOther = events.findIndex((event) => event.type !== 'enroll');
    assert.ok(firstOther > 0, 'there are other events');
    const late = events.slice(firstOther).filter((event) => event.type === 'enroll');
    assert.deepEqual(late, [], 'no enrollment after the first other event');
  });

  it('keeps business time non-decreasing, retries aside', () => {
    const { firsts } = network();
    let previous = 0;
    for (const event of firsts) {
      assert.ok(event.at >= previous, `${event.id} goes back in time`);
      previous = event.at;
    }
  });

  it('closes a period after every periodOrders orders and once at the end', () => {
    const periodOrders = 7000;
    const parsed = parse({ ...NETWORK_OPTIONS, distributors: 3000, periodOrders });
    let ordersInPeriod = 0;
    let closes = 0;
    for (const event of parsed.firsts) {
      if (event.type === 'order') ordersInPeriod += 1;
      if (event.type !== 'period.close') continue;
      closes += 1;
      const last = closes === Math.ceil(NETWORK_OPTIONS.orders / periodOrders);
      const expected = last ? NETWORK_OPTIONS.orders % periodOrders : periodOrders;
      assert.equal(ordersInPeriod, expected, `orders before close ${closes}`);
      ordersInPeriod = 0;
    }
    assert.equal(closes, Math.ceil(NETWORK_OPTIONS.orders / periodOrders));
    assert.equal(parsed.stats.periodCloses, closes);
    assert.equal(parsed.firsts.at(-1)?.type, 'period.close', 'the file ends with a close');
  });

  it('closes exactly one period when there are no orders', () => {
    const { stats, firsts } = parse({ distributors: 50, orders: 0, seed: 3 });
    assert.equal(stats.periodCloses, 1);
    assert.equal(firsts.at(-1)?.type, 'period.close');
  });
});

function assertNear(actual: number, expected: number, tolerance: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what}: ${actual} vs ${expected}`);
}

type Enroll = UplineEvent & { type: 'enroll' };

/**
 * SPEC 3.1 placement, written plainly and independently of the generator: returns the ids
 * of the enrollments the engine rejects (`placement_slot_taken` or a missing parent).
 */
function rejectedEnrollments(events: readonly Enroll[]): Set<number> {
  const children = new Map<number, { L?: number; R?: number }>();
  const autoTurns = new Map<number, number>();
  const rejected = new Set<number>();
  for (const event of events) {
    if (event.placement !== null) {
      const slots = children.get(event.placement.parent);
      if (slots === undefined || slots[event.placement.leg] !== undefined) {
        rejected.add(event.distributor);
        continue;
      }
      slots[event.placement.leg] = event.distributor;
    } else if (event.sponsor !== null) {
      const turn = autoTurns.get(event.sponsor) ?? 0;
      autoTurns.set(event.sponsor, turn + 1);
      const leg = turn % 2 === 0 ? 'L' : 'R';
      let node = event.sponsor;
      for (let child = children.get(node)?.[leg]; child !== undefined;) {
        node = child;
        child = children.get(node)?.[leg];
      }
      const slots = children.get(node);
      assert.ok(slots !== undefined, 'the sponsor exists');
      slots[leg] = event.distributor;
    }
    children.set(event.distributor, {});
  }
  return rejected;
}

describe('generate: the network', () => {
  it('enrolls each distributor once, sponsors before recruits, ids sparse in 1..2^31-1', () => {
    const parsed = network();
    const enrolled = new Set<number>();
    let roots = 0;
    let idMin = DISTRIBUTOR_ID_MAX;
    let idMax = 1;
    for (const event of enrollments(parsed)) {
      assert.ok(!enrolled.has(event.distributor), `id ${event.distributor} enrolled twice`);
      if (event.sponsor === null) roots += 1;
      else assert.ok(enrolled.has(event.sponsor), `sponsor of ${event.distributor} is later`);
      enrolled.add(event.distributor);
      idMin = Math.min(idMin, event.distributor);
      idMax = Math.max(idMax, event.distributor);
    }
    assert.ok(roots >= 1 && roots <= 8, `a handful of roots, got ${roots}`);
    // Dense ids would span about 20k; these are scattered over most of the 31-bit range.
    assert.ok(idMax - idMin > 1000 * NETWORK_OPTIONS.distributors, 'ids are not dense');
  });

  it('is built by a few: most sponsor nobody, the top 1% bring a large share', () => {
    const parsed = network();
    const counts = [...recruitCounts(parsed).values()].sort((a, b) => b - a);
    const recruits = counts.reduce((sum, count) => sum + count, 0);
    const topCount = Math.ceil(NETWORK_OPTIONS.distributors / 100);
    const topShare = counts.slice(0, topCount).reduce((sum, count) => sum + count, 0) / recruits;
    const noneShare = 1 - counts.length / NETWORK_OPTIONS.distributors;
    assert.ok(topShare >= 0.25, `top 1% of sponsors bring ${topShare} of recruits`);
    assert.ok(noneShare >= 0.55 && noneShare <= 0.8, `${noneShare} sponsor nobody`);
    assert.ok((counts[0] ?? 0) >= 50, `the best builder has ${counts[0]} recruits`);
  });

  it('has deep legs and reports its depth', () => {
    const parsed = network();
    const depth = new Map<number, number>();
    let depthMax = 0;
    const rejected = rejectedEnrollments(enrollments(parsed));
    for (const event of enrollments(parsed)) {
      if (rejected.has(event.distributor)) continue;
      const own = event.sponsor === null ? 0 : (depth.get(event.sponsor) ?? NaN) + 1;
      depth.set(event.distributor, own);
      depthMax = Math.max(depthMax, own);
    }
    assert.equal(parsed.stats.maxSponsorDepth, depthMax);
    assert.ok(depthMax >= 25, `sponsor depth ${depthMax} on 20k distributors`);
  });

  it('gives a few explicit placements; rare collisions match the stats and are never used', () => {
    const parsed = network();
    const all = enrollments(parsed);
    const rejected = rejectedEnrollments(all);
    const placed = all.filter((event) => event.placement !== null).length;
    assert.equal(rejected.size, parsed.stats.collidingPlacements);
    assert.equal(placed, parsed.stats.collidingPlacements + parsed.stats.explicitPlacements);
    assert.ok(rejected.size > 0, 'some bad placements');
    assert.ok(rejected.size < all.length * 0.005, `${rejected.size} rejected enrollments`);
    assert.ok(placed < all.length * 0.03, `${placed} explicit placements`);
    for (const event of parsed.firsts) {
      const uses: number[] = [];
      if (event.type === 'enroll' && event.sponsor !== null) uses.push(event.sponsor);
      if (event.type === 'enroll' && event.placement !== null) uses.push(event.placement.parent);
      if ('distributor' in event && event.type !== 'enroll') uses.push(event.distributor);
      for (const id of uses) assert.ok(!rejected.has(id), `${event.id} uses unenrolled ${id}`);
    }
  });
});

describe('generate: activity', () => {
  it('skews buyers, never lets a terminated distributor buy, varies pv and cv', () => {
    const parsed = network();
    const terminated = new Set<number>();
    const ordersBy = new Map<number, number>();
    const pvValues = new Set<number>();
    for (const event of parsed.firsts) {
      if (event.type === 'terminate') terminated.add(event.distributor);
      if (event.type !== 'order') continue;
      assert.ok(!terminated.has(event.distributor), `${event.id}: terminated buyer`);
      ordersBy.set(event.distributor, (ordersBy.get(event.distributor) ?? 0) + 1);
      pvValues.add(event.pv);
      if (event.pv > 0) assert.ok(event.cv >= event.pv * 80, `${event.id}: cv ${event.cv}`);
    }
    const counts = [...ordersBy.values()].sort((a, b) => b - a);
    const topCount = Math.ceil(NETWORK_OPTIONS.distributors / 10);
    const topShare = counts.slice(0, topCount).reduce((sum, count) => sum + count, 0);
    assert.ok(topShare / NETWORK_OPTIONS.orders >= 0.3, `top 10% of buyers: ${topShare}`);
    assert.ok(pvValues.has(0) && pvValues.has(100) && pvValues.size >= 8, 'pv varies');
  });

  it('refunds mostly recent known orders, a few bad ones, some from older periods', () => {
    const parsed = network();
    const orderPeriod = new Map<string, number>();
    const refunded = new Set<string>();
    let period = 0;
    let bad = 0;
    let olderPeriod = 0;
    for (const event of parsed.firsts) {
      if (event.type === 'period.close') period += 1;
      if (event.type === 'order') orderPeriod.set(event.order, period);
      if (event.type !== 'refund') continue;
      const placedIn = orderPeriod.get(event.order);
      if (placedIn === undefined || refunded.has(event.order)) bad += 1;
      else if (placedIn < period) olderPeriod += 1;
      refunded.add(event.order);
    }
    assert.equal(bad, parsed.stats.badRefunds);
    assert.ok(bad > 0 && bad < parsed.stats.refunds * 0.05, `${bad} bad refunds`);
    const share = olderPeriod / parsed.stats.refunds;
    assert.ok(share > 0.02 && share < 0.5, `${share} of refunds are of older periods`);
  });

  it('times some first orders inside the 30-day fast-start window and some outside', () => {
    const parsed = network();
    const enrolledAt = new Map<number, number>();
    let inside = 0;
    let outside = 0;
    for (const event of parsed.firsts) {
      if (event.type === 'enroll') enrolledAt.set(event.distributor, event.at);
      if (event.type !== 'order') continue;
      const at = enrolledAt.get(event.distributor);
      if (at === undefined) continue; // not its first order
      enrolledAt.delete(event.distributor);
      if (event.at - at <= 30 * DAY_MS) inside += 1;
      else outside += 1;
    }
    const share = inside / (inside + outside);
    assert.ok(share > 0.05 && share < 0.6, `${share} of first orders earn fast start`);
  });

  it('withdraws amounts of varying size, mostly by sponsors', () => {
    const parsed = network();
    const sponsors = recruitCounts(parsed);
    const withdrawals = parsed.firsts.filter((event) => event.type === 'withdraw');
    const bySponsor = withdrawals.filter((event) => sponsors.has(event.distributor)).length;
    assert.ok(bySponsor / withdrawals.length > 0.8, `${bySponsor} of ${withdrawals.length}`);
    const amounts = withdrawals.map((event) => event.amount);
    assert.ok(Math.min(...amounts) < 2000 && Math.max(...amounts) > 50_000, 'amounts vary');
  });
});
