import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { loadPlan } from '../src/plan/plan.js';
import type { ReferenceEngine } from '../src/reference/engine.js';
import { enroll, order, periodClose, terminate } from './support/events.js';
import { allOff, planFile, planWith } from './support/plans.js';
import { run, stateOf, step } from './support/reference.js';

/**
 * SPEC 3.2 step 6 and 3.6 steps 1 and 4: leg volume, pairing at close with the cap of the
 * paid-as rank (volume over the cap is spent), inactive carry, and the carry cap.
 */

const BINARY_ONLY = planWith((p) => {
  allOff(p);
  p.binary.enabled = true;
});

function legs(engine: ReferenceEngine, id: number): [number, number] {
  const state = stateOf(engine, id);
  return [state.legLCents, state.legRCents];
}

describe('reference: binary volume', () => {
  it('adds cv to the leg of every placement ancestor through which the buyer is reached', () => {
    const engine = run(BINARY_ONLY, [
      enroll('e1', 1, null),
      enroll('e2', 2, 1), // 1.L
      enroll('e3', 3, 1), // 1.R
      enroll('e4', 4, 2), // 2.L
      enroll('e5', 5, 1), // 1's k=2 -> L: 1 -> 2 -> 4, 4.L
    ]);
    step(engine, order('a', 'A', 4, 0, 1000)); // 2.L, 1.L
    step(engine, order('b', 'B', 5, 0, 700)); // 4.L, 2.L, 1.L
    step(engine, order('c', 'C', 3, 0, 1500)); // 1.R
    step(engine, order('d', 'D', 1, 100, 999)); // the root has no placement ancestor
    assert.deepEqual(legs(engine, 1), [1700, 1500]);
    assert.deepEqual(legs(engine, 2), [1700, 0]);
    assert.deepEqual(legs(engine, 4), [700, 0]);
    assert.deepEqual(legs(engine, 3), [0, 0]);
    assert.deepEqual(legs(engine, 5), [0, 0]);
    // Close: only 1 is active. min(1700, 1500) = 1500; 10% = 150 (cap 50000).
    assert.deepEqual(step(engine, periodClose('p')), [[1, 'binary', 0, 150]]);
    assert.deepEqual(legs(engine, 1), [200, 0]);
    assert.deepEqual(legs(engine, 2), [1700, 0], 'inactive: carries');
    const line = engine.lines.at(-1);
    assert.equal(line?.source, 1);
    assert.equal(line?.order, null);
  });

  it('follows given placements, across sponsor trees', () => {
    const engine = run(BINARY_ONLY, [
      enroll('e1', 1, null),
      enroll('e2', 2, null, { placement: { parent: 1, leg: 'R' } }),
      enroll('e3', 3, 2, { placement: { parent: 2, leg: 'R' } }),
    ]);
    step(engine, order('a', 'A', 3, 0, 400));
    assert.deepEqual(legs(engine, 2), [0, 400]);
    assert.deepEqual(legs(engine, 1), [0, 400]);
  });
});

describe('reference: binary pairing', () => {
  /** 1 with 2 on L and 3 on R. */
  function pair(): ReferenceEngine {
    return run(BINARY_ONLY, [enroll('e1', 1, null), enroll('e2', 2, 1), enroll('e3', 3, 1)]);
  }

  it('caps at the paid-as rank cap, and spends the volume over the cap', () => {
    const engine = pair();
    step(engine, order('a', 'A', 2, 0, 1_000_000));
    step(engine, order('b', 'B', 3, 0, 600_000));
    step(engine, order('c', 'C', 1, 100, 0));
    // min = 600000; 10% = 60000 > cap 50000 (rank 0): 50000; both legs lose 600000.
    assert.deepEqual(step(engine, periodClose('p')), [[1, 'binary', 0, 50000]]);
    assert.deepEqual(legs(engine, 1), [400_000, 0]);
  });

  it("uses the cap of this period's paid-as rank", () => {
    const engine = pair();
    step(engine, order('a', 'A', 2, 100, 3_000_000)); // 1.legs = 1
    step(engine, order('b', 'B', 3, 900, 2_500_000)); // 1.legs = 2
    step(engine, order('c', 'C', 1, 100, 0)); // gv(1) = 100 + 900 + 100 = 1100 -> Bronze
    assert.equal(stateOf(engine, 1).paidRank, 1);
    // min = 2500000; 10% = 250000 > Bronze cap 200000: 200000.
    assert.deepEqual(step(engine, periodClose('p1')), [[1, 'binary', 0, 200000]]);
    assert.deepEqual(legs(engine, 1), [500_000, 0]);
    // Next period: rank 0 again, cap 50000. min(500000 + 0, 700000) = 500000 -> 50000.
    step(engine, order('d', 'D', 3, 0, 700_000));
    step(engine, order('e', 'E', 1, 100, 0));
    assert.deepEqual(step(engine, periodClose('p2')), [[1, 'binary', 0, 50000]]);
    assert.deepEqual(legs(engine, 1), [0, 200_000]);
  });

  it('writes no line when the pairing rounds to 0, but still spends the volume', () => {
    const engine = pair();
    step(engine, order('a', 'A', 2, 0, 9));
    step(engine, order('b', 'B', 3, 0, 15));
    step(engine, order('c', 'C', 1, 100, 0));
    assert.deepEqual(step(engine, periodClose('p')), []); // 10% of 9 = 0.9 -> 0
    assert.deepEqual(legs(engine, 1), [0, 6]);
  });

  it('does not pair inactive or terminated distributors; they carry up to the carry cap', () => {
    const engine = pair();
    step(engine, order('a', 'A', 2, 0, 7_000_000));
    step(engine, order('b', 'B', 3, 0, 6_000_000));
    // 1 is not active: no pairing; at reset both legs are capped at 5000000.
    assert.deepEqual(step(engine, periodClose('p1')), []);
    assert.deepEqual(legs(engine, 1), [5_000_000, 5_000_000]);
    // Next period 1 is active: min = 5000000, 10% = 500000 > cap 50000: 50000.
    step(engine, order('c', 'C', 1, 100, 0));
    assert.deepEqual(step(engine, periodClose('p2')), [[1, 'binary', 0, 50000]]);
    assert.deepEqual(legs(engine, 1), [0, 0]);
    // A terminated distributor (even with pv) never pairs.
    step(engine, order('d', 'D', 2, 0, 8_000_000));
    step(engine, order('e', 'E', 3, 0, 1_000_000));
    step(engine, order('f', 'F', 1, 100, 0));
    step(engine, terminate('t', 1));
    assert.deepEqual(step(engine, periodClose('p3')), []);
    assert.deepEqual(legs(engine, 1), [5_000_000, 1_000_000]);
  });

  it('caps the carry after pairing an active distributor', () => {
    const engine = pair();
    step(engine, order('a', 'A', 2, 0, 9_000_000));
    step(engine, order('b', 'B', 3, 0, 1_000_000));
    step(engine, order('c', 'C', 1, 100, 0));
    // min = 1000000; 10% = 100000 > cap 50000: 50000; L = 8000000 -> capped 5000000.
    assert.deepEqual(step(engine, periodClose('p')), [[1, 'binary', 0, 50000]]);
    assert.deepEqual(legs(engine, 1), [5_000_000, 0]);
  });

  it('with binary disabled, keeps legs at 0 and writes no binary line', () => {
    const engine = run(loadPlan(planFile('unilevel')), [
      enroll('e1', 1, null),
      enroll('e2', 2, 1),
      enroll('e3', 3, 1),
      order('a', 'A', 2, 0, 1000),
      order('b', 'B', 3, 0, 1000),
    ]);
    assert.deepEqual(legs(engine, 1), [0, 0]);
    step(engine, order('c', 'C', 1, 100, 0));
    assert.deepEqual(step(engine, periodClose('p')), []);
  });

  it('runs on plans/binary.json (binary and matching, no unilevel)', () => {
    const engine = run(loadPlan(planFile('binary')), [
      enroll('e1', 1, null),
      enroll('e2', 2, 1),
      enroll('e3', 3, 1),
    ]);
    // No fast start, unilevel or rank bonus lines on orders.
    assert.deepEqual(step(engine, order('a', 'A', 2, 100, 12345)), []);
    assert.deepEqual(step(engine, order('b', 'B', 3, 100, 23456)), []);
    assert.deepEqual(step(engine, order('c', 'C', 1, 100, 0)), []);
    // 1 pairs min(12345, 23456) = 12345 -> 10% = 1234 (1234.5); no sponsor to match.
    assert.deepEqual(step(engine, periodClose('p')), [[1, 'binary', 0, 1234]]);
  });
});
