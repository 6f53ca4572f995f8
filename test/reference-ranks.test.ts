import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { enroll, order, periodClose, refund, terminate } from './support/events.js';
import { allOff, planWith } from './support/plans.js';
import { run, stateOf, step } from './support/reference.js';

/**
 * SPEC 3.2 steps 1 to 3: legs, gv and rank evaluation with the reference rank table, and
 * rank advancement bonuses for every rank in (title, paidRank].
 */

const RANKS_ONLY = planWith((p) => {
  allOff(p);
  p.rankAdvancement.enabled = true;
});

describe('reference: ranks and advancement bonuses', () => {
  it('skipping ranks pays each bonus in (title, paidRank]; a title is never paid twice', () => {
    const engine = run(RANKS_ONLY, [
      enroll('e1', 1, null),
      enroll('e2', 2, 1),
      enroll('e3', 3, 1),
      enroll('e4', 4, 1),
      enroll('e5', 5, 1),
    ]);
    step(engine, order('o2', 'O2', 2, 100, 0)); // 1.legs = 1, gv(1) = 100
    step(engine, order('o3', 'O3', 3, 100, 0)); // legs 2, gv 200
    step(engine, order('o4', 'O4', 4, 100, 0)); // legs 3, gv 300
    assert.deepEqual(step(engine, order('o5', 'O5', 5, 19500, 0)), [], '5 has no legs; 1 no pv');
    assert.equal(stateOf(engine, 1).legs, 4);
    assert.equal(stateOf(engine, 1).gv, 19800);
    // 1: pv 200, gv 19800 + 200 = 20000, legs 4 -> Gold (3); Diamond needs gv 100000.
    assert.deepEqual(step(engine, order('o1', 'O1', 1, 200, 0)), [
      [1, 'rank_bonus', 1, 5000],
      [1, 'rank_bonus', 2, 20000],
      [1, 'rank_bonus', 3, 50000],
    ]);
    assert.equal(stateOf(engine, 1).paidRank, 3);
    assert.equal(stateOf(engine, 1).title, 3);
    const bonus = engine.lines.at(-1);
    assert.equal(bonus?.source, 1);
    assert.equal(bonus?.order, 'O1');

    step(engine, periodClose('p1'));
    assert.equal(stateOf(engine, 1).paidRank, 0, 'paid-as rank starts each period at 0');
    assert.equal(stateOf(engine, 1).title, 3, 'the title stays');
    assert.equal(stateOf(engine, 1).legs, 0);
    assert.equal(stateOf(engine, 1).gv, 0);

    // Period 1: Diamond (4) needs pv 200, gv 100000, legs 6; only rank 4's bonus is paid.
    step(engine, enroll('e6', 6, 1));
    step(engine, enroll('e7', 7, 1));
    for (const id of [2, 3, 4, 6, 7]) step(engine, order(`q${id}`, `Q${id}`, id, 100, 0));
    step(engine, order('q5', 'Q5', 5, 99300, 0)); // gv(1) = 500 + 99300 = 99800
    assert.deepEqual(step(engine, order('q1', 'Q1', 1, 200, 0)), [[1, 'rank_bonus', 4, 250000]]);
    assert.equal(stateOf(engine, 1).title, 4);
    // Requalifying for a rank at or below the title pays nothing.
    step(engine, periodClose('p2'));
    for (const id of [2, 3, 4, 5]) step(engine, order(`r${id}`, `R${id}`, id, 100, 0));
    assert.deepEqual(step(engine, order('r1', 'R1', 1, 19600, 0)), [], 'Gold again: no bonus');
    assert.equal(stateOf(engine, 1).paidRank, 3);
    // 5000 + 20000 + 50000 + 250000
    assert.equal(stateOf(engine, 1).balanceCents, 325000);
  });

  it('evaluates the buyer first, then each sponsor ancestor upward', () => {
    // 1 <- 2 <- {3, 4}; 1 <- 5.
    const engine = run(RANKS_ONLY, [
      enroll('e1', 1, null),
      enroll('e2', 2, 1),
      enroll('e3', 3, 2),
      enroll('e4', 4, 2),
      enroll('e5', 5, 1),
    ]);
    step(engine, order('a', 'A', 1, 100, 0));
    step(engine, order('b', 'B', 5, 100, 0)); // 1.legs = 1
    step(engine, order('c', 'C', 3, 100, 0));
    step(engine, order('d', 'D', 4, 100, 0)); // 2.legs = 2
    // 2 becomes active: 1.legs = 2; gv(2) = 200 + 800 = 1000 -> Bronze;
    // gv(1) = 100 + 100 + 1000 = 1200, pv 100, legs 2 -> Bronze.
    assert.deepEqual(step(engine, order('e', 'E', 2, 800, 0)), [
      [2, 'rank_bonus', 1, 5000],
      [1, 'rank_bonus', 1, 5000],
    ]);
  });

  it('never lowers a paid-as rank or a title within the period, and skips terminated ones', () => {
    const engine = run(RANKS_ONLY, [enroll('e1', 1, null), enroll('e2', 2, 1), enroll('e3', 3, 1)]);
    step(engine, order('a', 'A', 2, 100, 0));
    step(engine, order('b', 'B', 3, 100, 0));
    assert.deepEqual(step(engine, order('c', 'C', 1, 800, 0)), [[1, 'rank_bonus', 1, 5000]]);
    step(engine, refund('r', 'B')); // 3 falls below 100 pv: 1.legs = 1, gv(1) = 900
    assert.equal(stateOf(engine, 1).legs, 1);
    assert.equal(stateOf(engine, 1).gv, 900);
    assert.equal(stateOf(engine, 1).paidRank, 1, 'a refund never lowers a rank');
    step(engine, terminate('t', 2)); // 1.legs = 0
    assert.equal(stateOf(engine, 1).legs, 0);
    assert.deepEqual(step(engine, order('d', 'D', 1, 1, 0)), []);
    assert.equal(stateOf(engine, 1).paidRank, 1, 'an order never lowers a rank');
    // A terminated ancestor is not evaluated: 3 would hold Bronze but stays at 0.
    step(engine, enroll('e8', 8, 3));
    step(engine, enroll('e9', 9, 3));
    step(engine, order('g', 'G', 3, 100, 0));
    step(engine, order('h', 'H', 8, 100, 0)); // 3.legs = 1
    step(engine, terminate('t3', 3));
    step(engine, order('i', 'I', 9, 800, 0)); // 3.legs = 2, gv(3) = 100 + 100 + 800 = 1000
    assert.equal(stateOf(engine, 3).legs, 2);
    assert.equal(stateOf(engine, 3).gv, 1000, 'gv still flows to a terminated ancestor');
    assert.equal(stateOf(engine, 3).paidRank, 0);
    assert.equal(stateOf(engine, 3).title, 0);
  });

  it('with rank advancement disabled, titles advance and no bonus is written', () => {
    const plan = planWith((p) => allOff(p));
    const engine = run(plan, [enroll('e1', 1, null), enroll('e2', 2, 1), enroll('e3', 3, 1)]);
    step(engine, order('a', 'A', 2, 100, 0));
    step(engine, order('b', 'B', 3, 100, 0));
    assert.deepEqual(step(engine, order('c', 'C', 1, 800, 0)), []);
    assert.equal(stateOf(engine, 1).title, 1);
    assert.equal(stateOf(engine, 1).paidRank, 1);
    assert.equal(engine.lines.length, 0);
  });
});

describe('reference: legs', () => {
  it('moves on becoming active, on refund below active, on termination, and at close', () => {
    const engine = run(RANKS_ONLY, [
      enroll('e1', 1, null),
      enroll('e2', 2, 1),
      enroll('e3', 3, 1),
      enroll('e4', 4, 1),
    ]);
    step(engine, order('a', 'A', 2, 60, 0));
    assert.equal(stateOf(engine, 1).legs, 0, '60 pv is not active');
    step(engine, order('b', 'B', 2, 40, 0));
    assert.equal(stateOf(engine, 1).legs, 1, '60 + 40 = 100: active');
    step(engine, order('c', 'C', 2, 50, 0));
    assert.equal(stateOf(engine, 1).legs, 1, 'already active: counted once');
    step(engine, refund('rc', 'C'));
    assert.equal(stateOf(engine, 1).legs, 1, '150 - 50 = 100: still active');
    step(engine, refund('ra', 'A'));
    assert.equal(stateOf(engine, 1).legs, 0, '100 - 60 = 40: below active');
    step(engine, order('d', 'D', 3, 100, 0));
    step(engine, order('e', 'E', 4, 100, 0));
    assert.equal(stateOf(engine, 1).legs, 2);
    step(engine, terminate('t3', 3));
    assert.equal(stateOf(engine, 1).legs, 1, 'termination of an active recruit');
    step(engine, refund('rd', 'D'));
    assert.equal(stateOf(engine, 1).legs, 1, 'SPEC 7.8: not lowered again');
    assert.equal(stateOf(engine, 3).pv, 0, "the terminated buyer's pv is removed");
    step(engine, periodClose('p'));
    assert.equal(stateOf(engine, 1).legs, 0);
    step(engine, order('f', 'F', 4, 100, 0));
    assert.equal(stateOf(engine, 1).legs, 1, 'counted again in the new period');
  });

  it("counts in a terminated sponsor's legs as well", () => {
    const engine = run(RANKS_ONLY, [enroll('e1', 1, null), enroll('e2', 2, 1), terminate('t', 1)]);
    step(engine, order('a', 'A', 2, 100, 0));
    assert.equal(stateOf(engine, 1).legs, 1);
  });

  it('with activePv 0, no order crosses the threshold: legs stay 0', () => {
    const plan = planWith((p) => {
      allOff(p);
      p.activePv = 0;
      p.unilevel.enabled = true;
    });
    const engine = run(plan, [enroll('e1', 1, null), enroll('e2', 2, 1), enroll('e3', 3, 2)]);
    step(engine, order('a', 'A', 2, 100, 0));
    assert.equal(stateOf(engine, 1).legs, 0);
    step(engine, terminate('t', 2));
    assert.equal(stateOf(engine, 1).legs, 0);
    // Everyone not terminated is active: 1 is paid at level 1 (2 is skipped).
    assert.deepEqual(step(engine, order('b', 'B', 3, 0, 1000)), [[1, 'unilevel', 1, 100]]);
  });
});
