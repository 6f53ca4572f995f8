import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import type { UplineEvent } from '../src/events/types.js';
import type { Plan } from '../src/plan/plan.js';
import type { ReferenceEngine } from '../src/reference/engine.js';
import { enroll, order, periodClose, refund, terminate } from './support/events.js';
import { allOff, planWith } from './support/plans.js';
import { run, stateOf, step } from './support/reference.js';

/**
 * SPEC 3.2 step 7, 3.6 step 2 and 7.5: matching on unilevel and binary lines, generations are
 * literal sponsors (an inactive or unqualified generation's match is lost, not compressed).
 */

/**
 * 1 <- 2 <- 3 <- {4, 5}; 2 <- {20, 21}; 1 <- {10, 11, 12}. With the reference ranks:
 * 2 is Silver (pv 4700, gv 100 * 3 + 4700 = 5000, legs 3: 3, 20, 21);
 * 1 is Gold with `rootPv` 14700 (gv 5000 + 300 + 14700 = 20000, legs 4: 2, 10, 11, 12),
 * Silver with `rootPv` 100 (gv 5400, but Gold needs pv 200).
 * 3 is active at rank 0; 4 and 5 are enrolled, not active. Every setup order has cv 0.
 */
function network(rootPv: number): UplineEvent[] {
  return [
    enroll('e1', 1, null),
    enroll('e2', 2, 1), // 1.L
    enroll('e3', 3, 2), // 2.L
    enroll('e4', 4, 3), // 3.L
    enroll('e5', 5, 3), // 3.R
    enroll('e20', 20, 2), // 2.R
    enroll('e21', 21, 2), // 4.L
    enroll('e10', 10, 1), // 1.R
    enroll('e11', 11, 1),
    enroll('e12', 12, 1),
    order('s3', 'S3', 3, 100, 0),
    order('s20', 'S20', 20, 100, 0),
    order('s21', 'S21', 21, 100, 0),
    order('s2', 'S2', 2, 4700, 0),
    order('s10', 'S10', 10, 100, 0),
    order('s11', 'S11', 11, 100, 0),
    order('s12', 'S12', 12, 100, 0),
    order('s1', 'S1', 1, rootPv, 0),
  ];
}

const UNILEVEL_MATCHING = planWith((p) => {
  allOff(p);
  p.unilevel.enabled = true;
  p.matching.enabled = true;
});

function start(plan: Plan, rootPv: number): ReferenceEngine {
  return run(plan, network(rootPv));
}

describe('reference: matching on unilevel lines', () => {
  it('pays gen 1 (rank >= 2) and gen 2 (rank >= 3) on each unilevel line, in order', () => {
    const engine = start(UNILEVEL_MATCHING, 14700);
    assert.equal(stateOf(engine, 2).paidRank, 2);
    assert.equal(stateOf(engine, 1).paidRank, 3);
    assert.equal(stateOf(engine, 3).paidRank, 0);
    const seq = engine.seq + 1;
    assert.deepEqual(step(engine, order('b', 'B', 4, 0, 100000)), [
      [3, 'unilevel', 1, 10000], // 10% of 100000 (3: rank 0, level 1)
      [2, 'unilevel', 2, 5000], // 5% (2: rank 2 pays 5 levels)
      [1, 'unilevel', 3, 5000], // 5% (1: rank 3 pays 7 levels)
      [2, 'matching', 1, 1000], // on 3's line: gen 1 = 2, 10% of 10000
      [1, 'matching', 2, 500], // on 3's line: gen 2 = 1, 5% of 10000
      [1, 'matching', 1, 500], // on 2's line: gen 1 = 1, 10% of 5000; no gen 2 (1 is a root)
    ]);
    const matches = engine.lines.filter((line) => line.seq === seq && line.type === 'matching');
    assert.deepEqual(
      matches.map((line) => [line.source, line.order]),
      [
        [3, 'B'],
        [3, 'B'],
        [2, 'B'],
      ],
    );
  });

  it('loses a generation whose paid-as rank is too low', () => {
    const engine = start(UNILEVEL_MATCHING, 100);
    assert.equal(stateOf(engine, 1).paidRank, 2);
    assert.deepEqual(step(engine, order('b', 'B', 4, 0, 100000)), [
      [3, 'unilevel', 1, 10000],
      [2, 'unilevel', 2, 5000],
      [1, 'unilevel', 3, 5000], // rank 2 pays level 3
      [2, 'matching', 1, 1000],
      // on 3's line gen 2 = 1 has rank 2 < 3: lost
      [1, 'matching', 1, 500],
    ]);
  });

  it('never compresses: a terminated gen 1 is lost and gen 2 stays gen 2', () => {
    const engine = start(UNILEVEL_MATCHING, 14700);
    step(engine, terminate('t2', 2));
    assert.equal(stateOf(engine, 1).paidRank, 3, 'legs fell to 3; the rank stays');
    assert.deepEqual(step(engine, order('b', 'B', 4, 0, 100000)), [
      [3, 'unilevel', 1, 10000],
      [1, 'unilevel', 2, 5000], // unilevel compresses past 2
      [1, 'matching', 2, 500], // gen 1 (2) is terminated: lost; gen 2 = 1: 5% of 10000
    ]);
  });

  it('an inactive gen 1 with a high paid-as rank is lost too', () => {
    const engine = start(UNILEVEL_MATCHING, 14700);
    step(engine, refund('r2', 'S2')); // 2: pv 0, not active; its paid-as rank stays 2
    assert.equal(stateOf(engine, 2).paidRank, 2);
    assert.deepEqual(step(engine, order('b', 'B', 4, 0, 100000)), [
      [3, 'unilevel', 1, 10000],
      [1, 'unilevel', 2, 5000],
      [1, 'matching', 2, 500],
    ]);
  });

  it('writes no matching line when matching is disabled', () => {
    const plan = planWith((p) => {
      allOff(p);
      p.unilevel.enabled = true;
    });
    const engine = start(plan, 14700);
    assert.deepEqual(step(engine, order('b', 'B', 4, 0, 100000)), [
      [3, 'unilevel', 1, 10000],
      [2, 'unilevel', 2, 5000],
      [1, 'unilevel', 3, 5000],
    ]);
  });

  it('is never paid on fast start lines', () => {
    const plan = planWith((p) => {
      allOff(p);
      p.fastStart.enabled = true;
      p.matching.enabled = true;
    });
    const engine = start(plan, 14700);
    // 4's first order: 20% of 100000 = 20000 to 3; 3's sponsors earn no match on it.
    assert.deepEqual(step(engine, order('b', 'B', 4, 0, 100000)), [[3, 'fast_start', 0, 20000]]);
  });
});

describe('reference: matching on binary lines', () => {
  it('pays binary lines in id order at close, then matching on each of them', () => {
    const plan = planWith((p) => {
      allOff(p);
      p.binary.enabled = true;
      p.matching.enabled = true;
    });
    const engine = start(plan, 14700);
    step(engine, order('b4', 'B4', 4, 0, 30000)); // 3.L, 2.L, 1.L += 30000
    step(engine, order('b5', 'B5', 5, 0, 20000)); // 3.R, 2.L, 1.L += 20000
    step(engine, order('b20', 'B20', 20, 0, 50000)); // 2.R, 1.L += 50000
    assert.deepEqual([stateOf(engine, 3).legLCents, stateOf(engine, 3).legRCents], [30000, 20000]);
    assert.deepEqual([stateOf(engine, 2).legLCents, stateOf(engine, 2).legRCents], [50000, 50000]);
    assert.deepEqual([stateOf(engine, 1).legLCents, stateOf(engine, 1).legRCents], [100000, 0]);
    const seq = engine.seq + 1;
    assert.deepEqual(step(engine, periodClose('p')), [
      [2, 'binary', 0, 5000], // min(50000, 50000) = 50000; 10% = 5000 <= cap 500000 (Silver)
      [3, 'binary', 0, 2000], // min(30000, 20000) = 20000; 10% = 2000 <= cap 50000
      [1, 'matching', 1, 500], // on 2's line: gen 1 = 1 (Gold), 10% of 5000
      [2, 'matching', 1, 200], // on 3's line: gen 1 = 2 (Silver), 10% of 2000
      [1, 'matching', 2, 100], // on 3's line: gen 2 = 1 (Gold), 5% of 2000
    ]);
    const written = engine.lines.filter((line) => line.seq === seq);
    assert.deepEqual(
      written.map((line) => [line.source, line.order]),
      [
        [2, null],
        [3, null],
        [2, null],
        [3, null],
        [3, null],
      ],
    );
    // 1 pairs nothing (R = 0); 3 carries 10000 on L.
    assert.deepEqual([stateOf(engine, 3).legLCents, stateOf(engine, 3).legRCents], [10000, 0]);
    assert.deepEqual([stateOf(engine, 1).legLCents, stateOf(engine, 1).legRCents], [100000, 0]);
  });
});
