import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import * as fc from 'fast-check';
import type { UplineEvent } from '../src/events/types.js';
import type { LineType } from '../src/ledger/line.js';
import type { Plan } from '../src/plan/plan.js';
import { ReferenceEngine } from '../src/reference/engine.js';
import {
  DAY_MS,
  enroll,
  order,
  periodClose,
  refund,
  terminate,
  withdraw,
} from './support/events.js';
import { allOff, planWith, referencePlan } from './support/plans.js';
import { feed } from './support/reference.js';

/**
 * Plan switches (a disabled component writes no line of its kind, ranks and volumes are kept
 * all the same), and seeded random streams through the reference: its own assertions never
 * fire, and the ledger keeps its shape.
 */

/** A deterministic script that exercises every component of the reference plan. */
function script(): UplineEvent[] {
  const events: UplineEvent[] = [enroll('e1', 1, null)];
  for (let id = 2; id <= 40; id += 1) {
    events.push(enroll(`e${id}`, id, Math.max(1, Math.floor(id / 5)), { at: id * 1000 }));
  }
  for (let round = 0; round < 3; round += 1) {
    for (let id = 1; id <= 40; id += 1) {
      const pv = ((id * 37 + round * 11) % 7) * 60 + (id <= 5 ? 5000 : 0);
      const cv = ((id * 7919 + round * 104729) % 50000) + 100;
      const at = round * 31 * DAY_MS + id;
      events.push(order(`o${round}-${id}`, `O${round}-${id}`, id, pv, cv, { at }));
    }
    events.push(refund(`r${round}`, `O${round}-${7 + round}`));
    if (round === 1) events.push(refund('old', 'O0-8'), terminate('t13', 13));
    events.push(withdraw(`w${round}`, 4, 1000));
    events.push(periodClose(`p${round}`, { at: (round + 1) * 31 * DAY_MS }));
  }
  return events;
}

function lineTypes(plan: Plan): Set<LineType> {
  const engine = new ReferenceEngine(plan);
  feed(engine, script());
  return new Set(engine.lines.map((line) => line.type));
}

describe('reference: plan switches', () => {
  it('the script writes every line type on the reference plan', () => {
    assert.deepEqual([...lineTypes(referencePlan())].sort(), [
      'binary',
      'fast_start',
      'incentive',
      'matching',
      'pool',
      'rank_bonus',
      'unilevel',
      'withdrawal',
    ]);
  });

  // Withdrawals are accepted whenever something was earned; they are not a component.
  const single: Array<[string, (plan: Plan) => void, LineType[]]> = [
    ['unilevel', (p) => (p.unilevel.enabled = true), ['unilevel']],
    ['fastStart', (p) => (p.fastStart.enabled = true), ['fast_start']],
    ['binary', (p) => (p.binary.enabled = true), ['binary']],
    ['matching', (p) => (p.matching.enabled = true), []],
    ['rankAdvancement', (p) => (p.rankAdvancement.enabled = true), ['rank_bonus']],
    ['pool', (p) => (p.pool.enabled = true), ['pool']],
    ['incentive', (p) => (p.incentive.enabled = true), ['incentive']],
    ['nothing', () => undefined, []],
  ];
  for (const [name, enable, expected] of single) {
    it(`with only ${name} enabled, writes only its lines`, () => {
      const plan = planWith((p) => {
        allOff(p);
        enable(p);
      });
      const types = [...lineTypes(plan)].filter((type) => type !== 'withdrawal');
      assert.deepEqual(types.sort(), expected);
    });
  }

  it('keeps ranks and volumes whatever is enabled', () => {
    const full = new ReferenceEngine(referencePlan());
    const none = new ReferenceEngine(planWith((p) => allOff(p)));
    const events = script();
    // Stop before the last close so this period's volumes are still there.
    const upTo = events.length - 1;
    feed(full, events.slice(0, upTo));
    feed(none, events.slice(0, upTo));
    for (let id = 1; id <= 40; id += 1) {
      const a = full.distributor(id);
      const b = none.distributor(id);
      assert.ok(a !== undefined && b !== undefined);
      assert.deepEqual(
        [a.pv, a.gv, a.legs, a.paidRank, a.title, a.hasOrdered, a.terminated],
        [b.pv, b.gv, b.legs, b.paidRank, b.title, b.hasOrdered, b.terminated],
        `distributor ${id}`,
      );
      assert.deepEqual([b.legLCents, b.legRCents], [0, 0]);
    }
    assert.ok((full.distributor(1)?.title ?? 0) >= 3, 'the script reaches high ranks');
  });
});

// ------------------------------------------------------------------ random streams

const id = fc.integer({ min: 1, max: 14 });
const orderId = fc.integer({ min: 1, max: 150 }).map((n) => `O${n}`);
/** Refunds aim at the low order ids so that many hit an order. */
const refundId = fc.integer({ min: 1, max: 40 }).map((n) => `O${n}`);
const at = fc.oneof(fc.integer({ min: 0, max: 40 * DAY_MS }), fc.constant(30 * DAY_MS));
const body = fc.oneof(
  {
    weight: 2,
    arbitrary: fc.record({
      type: fc.constant('enroll'),
      distributor: id,
      sponsor: fc.option(id, { freq: 4 }),
      placement: fc.option(fc.record({ parent: id, leg: fc.constantFrom('L', 'R') }), {
        freq: 1,
        nil: null,
      }),
    }),
  },
  {
    weight: 40,
    arbitrary: fc.record({
      type: fc.constant('order'),
      order: orderId,
      distributor: id,
      pv: fc.constantFrom(0, 50, 100, 150, 200, 1000, 5000, 20000),
      cv: fc.oneof(fc.integer({ min: 0, max: 100_000 }), fc.constantFrom(0, 9, 6_000_000)),
    }),
  },
  { weight: 4, arbitrary: fc.record({ type: fc.constant('refund'), order: refundId }) },
  {
    weight: 3,
    arbitrary: fc.record({
      type: fc.constant('withdraw'),
      distributor: id,
      amount: fc.integer({ min: 1, max: 20_000 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('terminate'), distributor: id }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('period.close') }) },
);
/** Enrollments first (sponsors among earlier ids, so most are accepted), then anything. */
const network = fc.array(fc.tuple(fc.nat(), fc.boolean()), {
  minLength: 8,
  maxLength: 14,
  size: 'max',
});
const stream = fc.record({
  network,
  steps: fc.array(fc.record({ body, at, idIndex: fc.integer({ min: 0, max: 200 }) }), {
    minLength: 20,
    maxLength: 150,
    size: 'max',
  }),
});

/** Event ids collide now and then (an idIndex below the position reuses an earlier id). */
function toLines(input: {
  network: ReadonlyArray<readonly [number, boolean]>;
  steps: ReadonlyArray<{ body: object; at: number; idIndex: number }>;
}): string[] {
  const lines = input.network.map(([pick, root], index) => {
    // Sponsors among the first three, so some sponsor reaches the incentive and Gold.
    const rootHere = index === 0 || (root && pick % 4 === 0);
    const sponsor = rootHere ? null : (pick % Math.min(index, 3)) + 1;
    return JSON.stringify(enroll(`n${index}`, index + 1, sponsor, { at: pick % (40 * DAY_MS) }));
  });
  input.steps.forEach((entry, index) => {
    const reuse = entry.idIndex < index && entry.idIndex % 9 === 0;
    const eventId = reuse ? `ev${entry.idIndex}` : `ev${index}`;
    lines.push(JSON.stringify({ id: eventId, at: entry.at, ...entry.body }));
  });
  return lines;
}

const PROMOTED = planWith((p) => {
  p.promotions = [
    { from: 0, to: 10 * DAY_MS, types: ['unilevel', 'binary', 'pool'], multiplierBps: 15000 },
    { from: 5 * DAY_MS, to: 20 * DAY_MS, types: ['matching', 'fast_start'], multiplierBps: 7500 },
  ];
});

describe('reference: random streams', () => {
  for (const [name, plan] of [
    ['reference', referencePlan()],
    ['promotions', PROMOTED],
  ] as const) {
    it(`keeps its invariants (${name} plan)`, () => {
      const seenTypes = new Set<string>();
      const seenOutcomes = new Set<string>();
      fc.assert(
        fc.property(stream, (input) => {
          const lines = toLines(input);
          const engine = new ReferenceEngine(plan);
          for (const line of lines) {
            const result = engine.processLine(line);
            seenOutcomes.add(result.status === 'rejected' ? result.reason : result.status);
          }
          checkLedger(engine);
          for (const line of engine.lines) seenTypes.add(line.type);
          const text = engine.exportText();
          // Replaying the same log again changes nothing: every event is a duplicate.
          for (const line of lines) {
            const result = engine.processLine(line);
            assert.ok(result.status === 'duplicate' || result.seq === null);
          }
          assert.equal(engine.exportText(), text);
        }),
        { seed: 20261124, numRuns: 300 },
      );
      // The streams are rich enough to matter: every line type and most outcomes occur.
      assert.equal(seenTypes.size, 8, [...seenTypes].join());
      for (const outcome of ['accepted', 'duplicate', 'unknown_order', 'order_already_refunded']) {
        assert.ok(seenOutcomes.has(outcome), outcome);
      }
    });
  }
});

function checkLedger(engine: ReferenceEngine): void {
  let previous: { seq: number; ordinal: number } | null = null;
  const bySeqOrdinal = new Map<string, (typeof engine.lines)[number]>();
  for (const line of engine.lines) {
    assert.notEqual(line.amountCents, 0);
    assert.ok(Number.isSafeInteger(line.amountCents));
    if (previous !== null && previous.seq === line.seq) {
      assert.equal(line.ordinal, previous.ordinal + 1);
    } else {
      assert.equal(line.ordinal, 0);
      assert.ok(previous === null || line.seq > previous.seq);
    }
    previous = line;
    bySeqOrdinal.set(`${line.seq}:${line.ordinal}`, line);
    const earning = line.amountCents > 0;
    if (line.type === 'withdrawal') assert.ok(!earning);
    if (['binary', 'pool', 'incentive', 'rank_bonus'].includes(line.type)) assert.ok(earning);
  }
  // Net earnings per order of fast start, unilevel and matching are never negative.
  const net = new Map<string, number>();
  for (const line of engine.lines) {
    if (line.order === null || line.type === 'rank_bonus') continue;
    const key = `${line.order}:${line.beneficiary}:${line.type}:${line.level}:${line.source}`;
    net.set(key, (net.get(key) ?? 0) + line.amountCents);
  }
  for (const [key, amount] of net) assert.ok(amount >= 0, `over-reversed ${key}`);
  engine.summaries(); // asserts every balance equals the sum of its lines
}
