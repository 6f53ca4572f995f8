import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import type { ReferenceEngine } from '../src/reference/engine.js';
import { EARNING_TYPES } from '../src/ledger/line.js';
import { chain, enroll, order, periodClose, refund, withdraw } from './support/events.js';
import { allOff, planWith, pvRanks } from './support/plans.js';
import { run, step } from './support/reference.js';

/**
 * SPEC 3.2 "Promotions" and 7.6: a line of a listed type whose event `at` is in [from, to) is
 * multiplied, floor(amount * multiplierBps / 10000), by each covering promotion in list order;
 * matching is computed on the multiplied amount; binary is capped first; reversals and
 * withdrawals are never multiplied.
 */

const STACKED = planWith((p) => {
  allOff(p);
  pvRanks(p);
  p.unilevel.enabled = true;
  p.matching.enabled = true;
  p.promotions = [
    { from: 1000, to: 2000, types: ['unilevel'], multiplierBps: 5000 },
    { from: 1000, to: 3000, types: ['unilevel', 'matching'], multiplierBps: 30000 },
    { from: 5000, to: 6000, types: ['unilevel'], multiplierBps: 0 },
  ];
});

/** 1 (rank 3) <- 2 (rank 2) <- 3, the buyer. */
function stacked(): ReferenceEngine {
  return run(STACKED, [
    ...chain('e', [1, 2, 3]),
    order('s1', 'S1', 1, 300, 0),
    order('s2', 'S2', 2, 200, 0),
  ]);
}

describe('reference: promotions', () => {
  it('apply in list order, each on the result of the one before; matching on the result', () => {
    const engine = stacked();
    assert.deepEqual(step(engine, order('a', 'A', 3, 0, 10010, { at: 1500 })), [
      [2, 'unilevel', 1, 1500], // 10% of 10010 = 1001; x0.5 = 500 (500.5); x3 = 1500
      //                           (the other order would give 3003 then 1501)
      [1, 'unilevel', 2, 750], // 5% of 10010 = 500 (500.5); x0.5 = 250; x3 = 750
      [1, 'matching', 1, 450], // 10% of 1500 = 150; x3 (the 2nd promotion lists matching)
    ]);
  });

  it('cover [from, to): from is in, to is out', () => {
    const engine = stacked();
    // at 999: none applies.
    assert.deepEqual(step(engine, order('a', 'A', 3, 0, 10010, { at: 999 })), [
      [2, 'unilevel', 1, 1001],
      [1, 'unilevel', 2, 500],
      [1, 'matching', 1, 100], // 10% of 1001 = 100.1 -> 100
    ]);
    // at 1000: both apply.
    assert.deepEqual(step(engine, order('b', 'B', 3, 0, 10010, { at: 1000 })), [
      [2, 'unilevel', 1, 1500],
      [1, 'unilevel', 2, 750],
      [1, 'matching', 1, 450],
    ]);
    // at 2000: the first has ended; only x3.
    assert.deepEqual(step(engine, order('c', 'C', 3, 0, 10010, { at: 2000 })), [
      [2, 'unilevel', 1, 3003], // 1001 x 3
      [1, 'unilevel', 2, 1500], // 500 x 3
      [1, 'matching', 1, 900], // 10% of 3003 = 300 (300.3); x3 = 900
    ]);
    // at 3000: none.
    assert.deepEqual(step(engine, order('d', 'D', 3, 0, 10010, { at: 3000 })), [
      [2, 'unilevel', 1, 1001],
      [1, 'unilevel', 2, 500],
      [1, 'matching', 1, 100],
    ]);
  });

  it('a multiplier that makes a line 0 writes no line, and no matching on it', () => {
    const engine = stacked();
    assert.deepEqual(step(engine, order('a', 'A', 3, 0, 10010, { at: 5000 })), []);
  });

  it('never multiply refund reversals', () => {
    const engine = stacked();
    step(engine, order('a', 'A', 3, 0, 10010, { at: 1500 }));
    step(engine, order('b', 'B', 3, 0, 10010, { at: 999 }));
    // A reversal is the original line negated, whatever promotion covers the refund.
    assert.deepEqual(step(engine, refund('ra', 'A', { at: 2500 })), [
      [2, 'unilevel', 1, -1500],
      [1, 'unilevel', 2, -750],
      [1, 'matching', 1, -450],
    ]);
    assert.deepEqual(step(engine, refund('rb', 'B', { at: 1500 })), [
      [2, 'unilevel', 1, -1001],
      [1, 'unilevel', 2, -500],
      [1, 'matching', 1, -100],
    ]);
  });

  it('multiply fast start, rank bonus and incentive lines when listed', () => {
    const plan = planWith((p) => {
      allOff(p);
      p.fastStart.enabled = true;
      p.rankAdvancement.enabled = true;
      p.incentive.enabled = true;
      const types = ['fast_start', 'rank_bonus', 'incentive'] as const;
      p.promotions = [{ from: 0, to: 10_000, types: [...types], multiplierBps: 20000 }];
    });
    const engine = run(plan, [
      enroll('e1', 1, null),
      enroll('e2', 2, 1),
      enroll('e3', 3, 1),
      enroll('e4', 4, 1),
      enroll('e5', 5, 1),
    ]);
    // The 5th enrollment: 5000 x 2.
    assert.deepEqual(step(engine, enroll('e6', 6, 1)), [[1, 'incentive', 0, 10000]]);
    // 20% of 1000 = 200; x2 = 400.
    assert.deepEqual(step(engine, order('a', 'A', 2, 100, 1000)), [[1, 'fast_start', 0, 400]]);
    assert.deepEqual(step(engine, order('b', 'B', 3, 100, 0)), []); // 20% of 0: no line
    // 1: pv 800, gv 1000, legs 2 -> Bronze; 5000 x 2.
    assert.deepEqual(step(engine, order('c', 'C', 1, 800, 0)), [[1, 'rank_bonus', 1, 10000]]);
    // Outside the window: 20% of 1000 = 200, as is.
    assert.deepEqual(step(engine, order('d', 'D', 4, 0, 1000, { at: 10_000 })), [
      [1, 'fast_start', 0, 200],
    ]);
  });

  it('multiply binary after the cap; matching on binary uses the multiplied line', () => {
    const plan = planWith((p) => {
      allOff(p);
      pvRanks(p);
      p.binary.enabled = true;
      p.matching.enabled = true;
      p.promotions = [{ from: 0, to: 100, types: ['binary'], multiplierBps: 15000 }];
    });
    // 9 <- 1 <- {2 on 1.L, 3 on 1.R}; 9 at rank 2, 1 at rank 1 (cap 200000).
    const engine = run(plan, [
      enroll('e9', 9, null),
      enroll('e1', 1, 9),
      enroll('e2', 2, 1),
      enroll('e3', 3, 1),
      order('s9', 'S9', 9, 200, 0),
      order('s1', 'S1', 1, 100, 0),
      order('a', 'A', 2, 0, 3_000_000),
      order('b', 'B', 3, 0, 3_000_000),
    ]);
    assert.deepEqual(step(engine, periodClose('p', { at: 50 })), [
      // min = 3000000; 10% = 300000; cap 200000 first; then x1.5 = 300000.
      [1, 'binary', 0, 300000],
      // gen 1 = 9 (rank 2): 10% of 300000 = 30000 (matching is not listed: as is).
      [9, 'matching', 1, 30000],
    ]);
  });

  it('multiply pool lines when listed, at the close event time', () => {
    const plan = planWith((p) => {
      allOff(p);
      pvRanks(p);
      p.pool.enabled = true;
      p.promotions = [{ from: 10, to: 20, types: ['pool'], multiplierBps: 20000 }];
    });
    const engine = run(plan, [enroll('e1', 1, null), order('o', 'O', 1, 300, 10000, { at: 0 })]);
    // 2% of 10000 = 200, 1 share of 1; x2 (the close is at 15) = 400.
    assert.deepEqual(step(engine, periodClose('p', { at: 15 })), [[1, 'pool', 0, 400]]);
  });

  it('never multiply withdrawals', () => {
    const plan = planWith((p) => {
      allOff(p);
      p.incentive.enabled = true;
      p.incentive.enrollments = 1;
      p.promotions = [{ from: 0, to: 100, types: [...EARNING_TYPES], multiplierBps: 30000 }];
    });
    const engine = run(plan, [enroll('e1', 1, null)]);
    assert.deepEqual(step(engine, enroll('e2', 2, 1, { at: 5 })), [[1, 'incentive', 0, 15000]]);
    const payout = withdraw('w', 1, 15000, { at: 5 });
    assert.deepEqual(step(engine, payout), [[1, 'withdrawal', 0, -15000]]);
  });
});
