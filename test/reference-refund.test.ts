import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import {
  chain,
  enroll,
  order,
  periodClose,
  refund,
  terminate,
  withdraw,
} from './support/events.js';
import { allOff, planWith, pvRanks, referencePlan } from './support/plans.js';
import { feed, run, stateOf, step } from './support/reference.js';

/**
 * SPEC 3.3 and 7.8: a refund reverses the order's fast start, unilevel and matching lines
 * (never rank bonuses, incentives or binary); a current-period refund also takes back pv, gv,
 * legs and leg volume; an older period's refund reverses lines only.
 */

describe('reference: refund in the current period', () => {
  it('reverses the lines and takes back pv, gv, legs and leg volume', () => {
    const engine = run(referencePlan(), [
      ...chain('e', [1, 2, 3]), // 2 on 1.L, 3 on 2.L
      order('a1', 'A1', 1, 100, 0),
      order('a2', 'A2', 2, 100, 0),
    ]);
    assert.deepEqual(step(engine, order('o3', 'O3', 3, 100, 20000)), [
      [2, 'fast_start', 0, 4000], // 20% of 20000
      [2, 'unilevel', 1, 2000], // 10% of 20000; 1 (rank 0) at level 2: not paid
    ]);
    assert.equal(stateOf(engine, 2).legs, 1);
    assert.equal(stateOf(engine, 1).gv, 300);
    assert.equal(stateOf(engine, 1).legLCents, 20000);
    assert.equal(engine.periodNetCvCents, 20000);
    const seq = engine.seq + 1;
    assert.deepEqual(step(engine, refund('r3', 'O3')), [
      [2, 'fast_start', 0, -4000],
      [2, 'unilevel', 1, -2000],
    ]);
    const reversals = engine.lines.filter((line) => line.seq === seq);
    assert.deepEqual(
      reversals.map((line) => [line.ordinal, line.source, line.order]),
      [
        [0, 3, 'O3'],
        [1, 3, 'O3'],
      ],
    );
    assert.equal(stateOf(engine, 3).pv, 0);
    assert.equal(stateOf(engine, 3).gv, 0);
    assert.equal(stateOf(engine, 2).legs, 0, '3 fell below active');
    assert.equal(stateOf(engine, 2).gv, 100);
    assert.equal(stateOf(engine, 1).gv, 200);
    assert.equal(stateOf(engine, 2).legLCents, 0);
    assert.equal(stateOf(engine, 1).legLCents, 0);
    assert.equal(engine.periodNetCvCents, 0);
    assert.equal(stateOf(engine, 2).balanceCents, 0);
    // The first-order flag stays set: no new fast start.
    assert.equal(stateOf(engine, 3).hasOrdered, true);
    assert.deepEqual(step(engine, order('o4', 'O4', 3, 0, 1000)), [[2, 'unilevel', 1, 100]]);
    assert.deepEqual(feed(engine, [refund('r3b', 'O3')]), [
      { seq: engine.seq, status: 'rejected', reason: 'order_already_refunded' },
    ]);
  });

  it('keeps rank bonuses, ranks and titles; reverses matching with its source', () => {
    const plan = planWith((p) => pvRanks(p)); // all on; rank r needs r * 100 pv
    const engine = run(plan, [
      ...chain('e', [1, 2, 3]),
      order('a', 'A', 1, 300, 0), // 1: rank 3
      order('b', 'B', 2, 200, 0), // 2: rank 2
    ]);
    assert.deepEqual(step(engine, order('big', 'BIG', 3, 400, 10000)), [
      [3, 'rank_bonus', 1, 5000], // 3 reaches rank 4: ranks 1..4
      [3, 'rank_bonus', 2, 20000],
      [3, 'rank_bonus', 3, 50000],
      [3, 'rank_bonus', 4, 250000],
      [2, 'fast_start', 0, 2000], // 20% of 10000
      [2, 'unilevel', 1, 1000], // 10%
      [1, 'unilevel', 2, 500], // 5%
      [1, 'matching', 1, 100], // 10% of 2's 1000
    ]);
    const seq = engine.seq + 1;
    assert.deepEqual(step(engine, refund('r', 'BIG')), [
      [2, 'fast_start', 0, -2000],
      [2, 'unilevel', 1, -1000],
      [1, 'unilevel', 2, -500],
      [1, 'matching', 1, -100],
    ]);
    const matching = engine.lines.find((line) => line.seq === seq && line.type === 'matching');
    assert.equal(matching?.source, 2);
    assert.equal(matching?.order, 'BIG');
    assert.equal(stateOf(engine, 3).pv, 0);
    assert.equal(stateOf(engine, 3).paidRank, 4, 'never lowered');
    assert.equal(stateOf(engine, 3).title, 4);
    assert.equal(stateOf(engine, 3).balanceCents, 325000, '5000 + 20000 + 50000 + 250000 kept');
  });

  it('takes only the order cv off a leg that holds carry', () => {
    const plan = planWith((p) => {
      allOff(p);
      p.binary.enabled = true;
    });
    const engine = run(plan, [
      ...chain('e', [1, 2]), // 2 on 1.L
      order('a', 'A', 2, 0, 7_000_000),
      periodClose('p1'), // 1 inactive: no pairing; L capped at 5000000
    ]);
    assert.equal(stateOf(engine, 1).legLCents, 5_000_000);
    step(engine, order('x', 'X', 2, 0, 100));
    assert.equal(stateOf(engine, 1).legLCents, 5_000_100);
    step(engine, refund('rx', 'X'));
    assert.equal(stateOf(engine, 1).legLCents, 5_000_000);
  });
});

describe('reference: refund of an older period', () => {
  it('reverses lines only: no volume, leg or pool base change; binary stays', () => {
    const plan = planWith((p) => {
      allOff(p);
      p.unilevel.enabled = true;
      p.binary.enabled = true;
    });
    const engine = run(plan, [
      enroll('e1', 1, null),
      enroll('e2', 2, 1), // 1.L
      enroll('e3', 3, 1), // 1.R
      order('s1', 'S1', 1, 100, 0),
    ]);
    assert.deepEqual(step(engine, order('a', 'A', 2, 100, 30000)), [[1, 'unilevel', 1, 3000]]);
    assert.deepEqual(step(engine, order('b', 'B', 3, 0, 10000)), [[1, 'unilevel', 1, 1000]]);
    // min(30000, 10000) = 10000 -> 1000.
    assert.deepEqual(step(engine, periodClose('p1')), [[1, 'binary', 0, 1000]]);
    assert.equal(stateOf(engine, 1).legLCents, 20000);
    // Period 1.
    step(engine, order('c', 'C', 2, 50, 0));
    assert.deepEqual(step(engine, refund('ra', 'A')), [[1, 'unilevel', 1, -3000]]);
    assert.equal(stateOf(engine, 2).pv, 50, "this period's pv is untouched");
    assert.equal(stateOf(engine, 1).gv, 50);
    assert.equal(stateOf(engine, 1).legLCents, 20000, 'the carry is untouched');
    assert.equal(engine.periodNetCvCents, 0);
    step(engine, order('d', 'D', 3, 0, 5000)); // 1 not active this period: no unilevel
    step(engine, order('e', 'E', 1, 100, 0));
    // min(20000, 5000) = 5000 -> 500.
    assert.deepEqual(step(engine, periodClose('p2')), [[1, 'binary', 0, 500]]);
    // 3000 + 1000 + 1000 - 3000 + 500
    assert.equal(stateOf(engine, 1).balanceCents, 2500);
  });
});

describe('reference: refunds and terminated beneficiaries', () => {
  it('reverses to a terminated beneficiary; the wallet may go negative', () => {
    const plan = planWith((p) => {
      allOff(p);
      p.unilevel.enabled = true;
    });
    const engine = run(plan, [...chain('e', [1, 2, 3]), order('s2', 'S2', 2, 100, 0)]);
    assert.deepEqual(step(engine, order('o', 'O', 3, 0, 20000)), [[2, 'unilevel', 1, 2000]]);
    step(engine, terminate('t2', 2));
    // A terminated distributor may still withdraw.
    assert.deepEqual(step(engine, withdraw('w', 2, 1500)), [[2, 'withdrawal', 0, -1500]]);
    assert.deepEqual(step(engine, refund('r', 'O')), [[2, 'unilevel', 1, -2000]]);
    assert.equal(stateOf(engine, 2).balanceCents, -1500); // 2000 - 1500 - 2000
    assert.deepEqual(feed(engine, [withdraw('w2', 2, 1)]), [
      { seq: engine.seq, status: 'rejected', reason: 'insufficient_funds' },
    ]);
    assert.equal(
      engine.exportText().split('\n')[1],
      '{"distributor":2,"balance":-1500,"title":0,"paidRank":0,"earned":{"unilevel":0,' +
        '"fast_start":0,"binary":0,"matching":0,"rank_bonus":0,"pool":0,"incentive":0},' +
        '"withdrawn":1500}',
    );
  });
});
