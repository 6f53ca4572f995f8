import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { enroll, order, periodClose, refund, terminate } from './support/events.js';
import { allOff, planWith, pvRanks } from './support/plans.js';
import { run, stateOf, step } from './support/reference.js';

/**
 * SPEC 3.6 step 3 and 7.7, 7.8: 200 bps of the period's net cv, shared by paid-as rank >= 3
 * with rank - 2 shares; terminated distributors are out of the shares and of the payment.
 */

const POOL_ONLY = planWith((p) => {
  allOff(p);
  pvRanks(p); // rank r needs r * 100 pv
  p.pool.enabled = true;
});

describe('reference: leadership pool', () => {
  it('pays floor(pool * shares / total); terminated left out; holders need not be active', () => {
    const engine = run(POOL_ONLY, [
      enroll('e1', 1, null),
      enroll('e2', 2, null),
      enroll('e3', 3, null),
      enroll('e4', 4, null),
      enroll('e5', 5, null),
      order('o1', 'O1', 1, 300, 100000), // rank 3: 1 share
      order('o2', 'O2', 2, 400, 50001), // rank 4: 2 shares
      order('o3', 'O3', 3, 400, 0), // rank 4, then terminated: out
      order('o4', 'O4', 4, 200, 12345), // rank 2: not a holder
      order('o5', 'O5', 5, 300, 1000), // rank 3, then refunded: pv 0, rank stays 3
      refund('r5', 'O5'),
      terminate('t3', 3),
    ]);
    assert.equal(stateOf(engine, 5).pv, 0);
    assert.equal(stateOf(engine, 5).paidRank, 3);
    // Net cv = 100000 + 50001 + 0 + 12345 + 1000 - 1000 = 162346.
    assert.equal(engine.periodNetCvCents, 162346);
    // Pool = 2% of 162346 = 3246.92 -> 3246; shares 1 + 2 + 1 = 4 (3's 2 shares left out).
    assert.deepEqual(step(engine, periodClose('p1')), [
      [1, 'pool', 0, 811], // 3246 * 1 / 4 = 811.5 -> 811
      [2, 'pool', 0, 1623], // 3246 * 2 / 4 = 1623
      [5, 'pool', 0, 811], // 811; 1 cent of the pool is not paid
    ]);
    const line = engine.lines.at(-1);
    assert.equal(line?.source, 5);
    assert.equal(line?.order, null);
    // A period with no orders: pool 0 and no holders.
    assert.equal(engine.periodNetCvCents, 0);
    assert.deepEqual(step(engine, periodClose('p2')), []);
  });

  it("an older period's refund changes neither this period's volume nor its pool base", () => {
    const engine = run(POOL_ONLY, [
      enroll('e1', 1, null),
      enroll('e2', 2, null),
      order('o2', 'O2', 2, 400, 50000),
      periodClose('p1'), // 2 (rank 4, 2 shares) alone: 2% of 50000 = 1000
    ]);
    assert.equal(stateOf(engine, 2).balanceCents, 1000);
    step(engine, order('o1', 'O1', 1, 300, 10000));
    step(engine, order('o2b', 'O2b', 2, 100, 0));
    assert.deepEqual(step(engine, refund('r2', 'O2')), [], 'only pool lines: nothing to reverse');
    assert.equal(stateOf(engine, 2).pv, 100, "the old order's pv is not taken off this period");
    assert.equal(engine.periodNetCvCents, 10000);
    // Pool = 2% of 10000 = 200, all to 1 (2 is rank 1 this period).
    assert.deepEqual(step(engine, periodClose('p2')), [[1, 'pool', 0, 200]]);
    assert.equal(stateOf(engine, 2).balanceCents, 1000, 'the pool line is never clawed back');
  });

  it('pays nobody when every holder is terminated, and nothing when disabled', () => {
    const engine = run(POOL_ONLY, [
      enroll('e1', 1, null),
      order('o1', 'O1', 1, 300, 100000),
      terminate('t1', 1),
    ]);
    assert.deepEqual(step(engine, periodClose('p')), []);
    const off = run(
      planWith((p) => {
        allOff(p);
        pvRanks(p);
      }),
      [enroll('e1', 1, null), order('o1', 'O1', 1, 300, 100000)],
    );
    assert.deepEqual(step(off, periodClose('p')), []);
  });
});
