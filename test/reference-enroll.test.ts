import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { loadPlan } from '../src/plan/plan.js';
import { enroll, order, periodClose, place, terminate } from './support/events.js';
import { allOff, planFile, planWith, referencePlan } from './support/plans.js';
import { run, stateOf, step } from './support/reference.js';

/** SPEC 3.1: placement (given or automatic) and the enrollment incentive. */

describe('reference: placement', () => {
  it('auto-places the k-th unplaced recruit at the outermost free slot of leg L/R', () => {
    const engine = run(referencePlan(), [
      enroll('e1', 1, null),
      enroll('e2', 2, 1), // k=0 -> L: 1.L is free -> under 1, L
      enroll('e3', 3, 1), // k=1 -> R: 1.R is free -> under 1, R
      enroll('e4', 4, 1), // k=2 -> L: 1.L=2, 2.L free -> under 2, L
      enroll('e5', 5, 1), // k=3 -> R: 1.R=3, 3.R free -> under 3, R
      enroll('e6', 6, 1), // k=4 -> L: 1 -> 2 -> 4, 4.L free -> under 4, L
      enroll('e7', 7, 2), // 2's k=0 -> L: 2.L=4, 4.L=6, 6.L free -> under 6, L
      enroll('e8', 8, 2), // 2's k=1 -> R: 2.R free -> under 2, R
    ]);
    const expected: Array<[number, number, 'L' | 'R']> = [
      [2, 1, 'L'],
      [3, 1, 'R'],
      [4, 2, 'L'],
      [5, 3, 'R'],
      [6, 4, 'L'],
      [7, 6, 'L'],
      [8, 2, 'R'],
    ];
    for (const [id, parent, leg] of expected) {
      assert.equal(stateOf(engine, id).placementParent, parent, `parent of ${id}`);
      assert.equal(stateOf(engine, id).placementLeg, leg, `leg of ${id}`);
    }
    assert.equal(stateOf(engine, 1).placementParent, null, 'a root is a placement root');
  });

  it('a given placement takes no auto turn; it may be outside the subtree or terminated', () => {
    const engine = run(referencePlan(), [
      enroll('e1', 1, null),
      enroll('e2', 2, 1), // k=0 -> 1.L
      enroll('e3', 3, 1, { placement: place(2, 'R') }), // given: 2.R, k stays 1
      enroll('e4', 4, 1), // k=1 -> R: 1.R free -> under 1, R
      enroll('e9', 9, null), // another root
      terminate('t9', 9),
      enroll('e5', 5, 1, { placement: place(9, 'L') }), // under terminated 9, not 1's subtree
      enroll('e6', 6, null, { placement: place(4, 'L') }), // a sponsor root placed in a tree
      enroll('e7', 7, 1), // k=2 -> L: 1.L=2, 2.L free -> under 2, L
    ]);
    const expected: Array<[number, number | null, 'L' | 'R' | null]> = [
      [2, 1, 'L'],
      [3, 2, 'R'],
      [4, 1, 'R'],
      [9, null, null],
      [5, 9, 'L'],
      [6, 4, 'L'],
      [7, 2, 'L'],
    ];
    for (const [id, parent, leg] of expected) {
      assert.equal(stateOf(engine, id).placementParent, parent, `parent of ${id}`);
      assert.equal(stateOf(engine, id).placementLeg, leg, `leg of ${id}`);
    }
    assert.equal(stateOf(engine, 6).sponsor, null);
    assert.equal(stateOf(engine, 5).sponsor, 1);
  });
});

describe('reference: placement turns', () => {
  it('a period close does not reset the auto-placement turn', () => {
    const engine = run(referencePlan(), [enroll('e1', 1, null), enroll('e2', 2, 1)]);
    step(engine, periodClose('p'));
    step(engine, enroll('e3', 3, 1)); // k = 1 -> R
    assert.equal(stateOf(engine, 3).placementLeg, 'R');
    assert.equal(stateOf(engine, 3).placementParent, 1);
  });
});

describe('reference: incentive', () => {
  it('pays 5000 when enrollments this period reach exactly 5, once per period', () => {
    const engine = run(referencePlan(), [enroll('e1', 1, null), enroll('e90', 90, null)]);
    for (let id = 2; id <= 5; id += 1) assert.deepEqual(step(engine, enroll(`e${id}`, id, 1)), []);
    // Someone else's recruit does not count for 1.
    assert.deepEqual(step(engine, enroll('e91', 91, 90)), []);
    const fifth = engine.seq + 1;
    assert.deepEqual(step(engine, enroll('e6', 6, 1)), [[1, 'incentive', 0, 5000]]);
    const line = engine.lines.find((candidate) => candidate.seq === fifth);
    assert.deepEqual(line, {
      seq: fifth,
      ordinal: 0,
      beneficiary: 1,
      type: 'incentive',
      level: 0,
      source: 6, // the new recruit
      order: null,
      amountCents: 5000,
    });
    // The 6th and 7th of the period pay nothing.
    assert.deepEqual(step(engine, enroll('e7', 7, 1)), []);
    assert.deepEqual(step(engine, enroll('e8', 8, 1)), []);
    assert.equal(stateOf(engine, 1).enrollmentCount, 7);
    // A new period counts from 0 again: the 5th enrollment of period 1 pays again.
    step(engine, periodClose('p1'));
    assert.equal(stateOf(engine, 1).enrollmentCount, 0);
    for (let id = 10; id <= 13; id += 1) {
      assert.deepEqual(step(engine, enroll(`e${id}`, id, 1)), []);
    }
    assert.deepEqual(step(engine, enroll('e14', 14, 1)), [[1, 'incentive', 0, 5000]]);
    assert.equal(stateOf(engine, 1).balanceCents, 10_000);
  });

  it('given placements and sub-threshold recruits count too; roots count for no one', () => {
    const plan = planWith((p) => {
      allOff(p);
      p.incentive.enabled = true;
      p.incentive.enrollments = 2;
      p.incentive.amountCents = 777;
    });
    const engine = run(plan, [enroll('e1', 1, null), enroll('e2', 2, null)]);
    assert.deepEqual(step(engine, enroll('e3', 3, 1, { placement: place(2, 'L') })), []);
    assert.deepEqual(step(engine, enroll('e4', 4, 1)), [[1, 'incentive', 0, 777]]);
  });

  it('writes nothing when the incentive is disabled (the count is still kept)', () => {
    const engine = run(loadPlan(planFile('unilevel')), [enroll('e1', 1, null)]);
    for (let id = 2; id <= 6; id += 1) assert.deepEqual(step(engine, enroll(`e${id}`, id, 1)), []);
    assert.equal(stateOf(engine, 1).enrollmentCount, 5);
    assert.equal(engine.lines.length, 0);
  });

  it('an order does not count as an enrollment', () => {
    const plan = planWith((p) => {
      allOff(p);
      p.incentive.enabled = true;
      p.incentive.enrollments = 1;
    });
    const engine = run(plan, [enroll('e1', 1, null)]);
    assert.deepEqual(step(engine, order('o1', 'A', 1, 100, 100)), []);
    assert.deepEqual(step(engine, enroll('e2', 2, 1)), [[1, 'incentive', 0, 5000]]);
  });
});
