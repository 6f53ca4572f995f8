import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { chain, enroll, order, withdraw, terminate } from './support/events.js';
import { allOff, planWith } from './support/plans.js';
import { feed, run, stateOf, step } from './support/reference.js';

/** SPEC 3.4 withdraw and 3.5 terminate. */

const UNILEVEL_ONLY = planWith((p) => {
  allOff(p);
  p.unilevel.enabled = true;
  for (const rank of p.ranks) rank.unilevelLevels = 7;
});

describe('reference: terminate', () => {
  it('earns nothing from then on; its downline stays where it is', () => {
    const engine = run(UNILEVEL_ONLY, [
      ...chain('e', [1, 2, 3]),
      order('a1', 'A1', 1, 100, 0),
      order('a2', 'A2', 2, 100, 0),
    ]);
    assert.deepEqual(step(engine, order('b', 'B', 3, 0, 10000)), [
      [2, 'unilevel', 1, 1000],
      [1, 'unilevel', 2, 500],
    ]);
    assert.deepEqual(step(engine, terminate('t2', 2)), []);
    assert.equal(stateOf(engine, 1).legs, 0, '2 was active: its sponsor loses a leg');
    assert.equal(stateOf(engine, 3).sponsor, 2, 'the downline stays');
    assert.equal(stateOf(engine, 3).placementParent, 2);
    // 2 is skipped (not active): 1 moves up to level 1.
    assert.deepEqual(step(engine, order('c', 'C', 3, 0, 10000)), [[1, 'unilevel', 1, 1000]]);
    assert.equal(stateOf(engine, 2).gv, 100, 'volume still flows through');
    assert.equal(stateOf(engine, 2).balanceCents, 1000, 'what it earned before stays');
  });

  it('an inactive distributor leaves its sponsor legs alone', () => {
    const engine = run(UNILEVEL_ONLY, [
      ...chain('e', [1, 2]),
      enroll('e3', 3, 1),
      order('a3', 'A3', 3, 100, 0),
      order('a2', 'A2', 2, 99, 0),
    ]);
    assert.equal(stateOf(engine, 1).legs, 1);
    step(engine, terminate('t2', 2));
    assert.equal(stateOf(engine, 1).legs, 1);
    assert.equal(stateOf(engine, 2).terminated, true);
  });

  it('cannot order, cannot sponsor, but can be a placement parent and withdraw', () => {
    const plan = planWith((p) => {
      allOff(p);
      p.incentive.enabled = true;
      p.incentive.enrollments = 1;
    });
    const engine = run(plan, [enroll('e1', 1, null), enroll('e2', 2, 1), terminate('t1', 1)]);
    assert.equal(stateOf(engine, 1).balanceCents, 5000);
    assert.deepEqual(feed(engine, [order('o', 'O', 1, 1, 1), enroll('e3', 3, 1)]), [
      { seq: 4, status: 'rejected', reason: 'terminated_distributor' },
      { seq: 5, status: 'rejected', reason: 'sponsor_terminated' },
    ]);
    assert.deepEqual(step(engine, enroll('e4', 4, 2, { placement: { parent: 1, leg: 'R' } })), [
      [2, 'incentive', 0, 5000],
    ]);
    assert.deepEqual(step(engine, withdraw('w', 1, 5000)), [[1, 'withdrawal', 0, -5000]]);
  });
});

describe('reference: withdraw', () => {
  it('writes -amount as a withdrawal line with no order, up to the balance', () => {
    const plan = planWith((p) => {
      allOff(p);
      p.incentive.enabled = true;
      p.incentive.enrollments = 1;
      p.incentive.amountCents = 1234;
    });
    const engine = run(plan, [enroll('e1', 1, null), enroll('e2', 2, 1)]);
    const seq = engine.seq + 1;
    assert.deepEqual(step(engine, withdraw('w', 1, 1234)), [[1, 'withdrawal', 0, -1234]]);
    assert.deepEqual(engine.lines.at(-1), {
      seq,
      ordinal: 0,
      beneficiary: 1,
      type: 'withdrawal',
      level: 0,
      source: 1,
      order: null,
      amountCents: -1234,
    });
    assert.equal(stateOf(engine, 1).balanceCents, 0);
    const summary = engine.summaries()[0];
    assert.equal(summary?.withdrawnCents, 1234);
    assert.equal(summary?.earnedCents.incentive, 1234);
  });
});
