import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { chain, enroll, order, periodClose, terminate, THIRTY_DAYS_MS } from './support/events.js';
import { allOff, planWith, pvRanks } from './support/plans.js';
import { run, stateOf, step } from './support/reference.js';

/** SPEC 3.2 steps 4 and 5: fast start, and unilevel with dynamic compression. */

/** Unilevel alone, every rank paying all 7 levels. */
const SEVEN_LEVELS = planWith((p) => {
  allOff(p);
  p.unilevel.enabled = true;
  for (const rank of p.ranks) rank.unilevelLevels = 7;
});

describe('reference: unilevel', () => {
  it('pays levels 1..7 of cv and stops after level 7', () => {
    const engine = run(SEVEN_LEVELS, chain('e', [1, 2, 3, 4, 5, 6, 7, 8, 9]));
    for (let id = 1; id <= 8; id += 1) step(engine, order(`a${id}`, `A${id}`, id, 100, 0));
    const seq = engine.seq + 1;
    assert.deepEqual(step(engine, order('b', 'B', 9, 0, 12345)), [
      [8, 'unilevel', 1, 1234], // 10% of 12345 = 1234.5 -> 1234
      [7, 'unilevel', 2, 617], // 5% of 12345 = 617.25 -> 617
      [6, 'unilevel', 3, 617], // 5%
      [5, 'unilevel', 4, 493], // 4% of 12345 = 493.8 -> 493
      [4, 'unilevel', 5, 370], // 3% of 12345 = 370.35 -> 370
      [3, 'unilevel', 6, 246], // 2% of 12345 = 246.9 -> 246
      [2, 'unilevel', 7, 123], // 1% of 12345 = 123.45 -> 123; 1 would be level 8: not paid
    ]);
    const first = engine.lines.find((line) => line.seq === seq);
    assert.deepEqual(first, {
      seq,
      ordinal: 0,
      beneficiary: 8,
      type: 'unilevel',
      level: 1,
      source: 9,
      order: 'B',
      amountCents: 1234,
    });
  });

  it('writes no zero line, but the level is used', () => {
    const engine = run(SEVEN_LEVELS, chain('e', [1, 2, 3]));
    step(engine, order('a1', 'A1', 1, 100, 0));
    step(engine, order('a2', 'A2', 2, 100, 0));
    // 10% of 15 = 1.5 -> 1; 5% of 15 = 0.75 -> 0: not written.
    assert.deepEqual(step(engine, order('b', 'B', 3, 100, 15)), [[2, 'unilevel', 1, 1]]);
    // 10% of 9 = 0.9 -> 0; 5% of 9 = 0.45 -> 0.
    assert.deepEqual(step(engine, order('c', 'C', 3, 0, 9)), []);
  });

  it('compresses: inactive and terminated ancestors are skipped and use no level', () => {
    const engine = run(SEVEN_LEVELS, chain('e', [1, 2, 3, 4, 5, 6, 7, 8, 9]));
    for (const id of [8, 6, 4, 3, 2, 1]) step(engine, order(`a${id}`, `A${id}`, id, 100, 0));
    step(engine, order('a7', 'A7', 7, 99, 0)); // 99 < 100: 7 is not active; 5 never ordered
    assert.deepEqual(step(engine, order('b1', 'B1', 9, 0, 10000)), [
      [8, 'unilevel', 1, 1000], // 10% of 10000
      [6, 'unilevel', 2, 500], // 7 skipped; 5%
      [4, 'unilevel', 3, 500], // 5 skipped; 5%
      [3, 'unilevel', 4, 400], // 4%
      [2, 'unilevel', 5, 300], // 3%
      [1, 'unilevel', 6, 200], // 2%; root reached, level 7 unused
    ]);
    step(engine, terminate('t6', 6));
    assert.deepEqual(step(engine, order('b2', 'B2', 9, 0, 10000)), [
      [8, 'unilevel', 1, 1000],
      [4, 'unilevel', 2, 500], // 7, 6 (terminated), 5 skipped
      [3, 'unilevel', 3, 500],
      [2, 'unilevel', 4, 400],
      [1, 'unilevel', 5, 300],
    ]);
    step(engine, order('a7b', 'A7b', 7, 1, 0)); // 99 + 1 = 100: 7 is active now
    assert.deepEqual(step(engine, order('b3', 'B3', 9, 0, 10000)), [
      [8, 'unilevel', 1, 1000],
      [7, 'unilevel', 2, 500],
      [4, 'unilevel', 3, 500],
      [3, 'unilevel', 4, 400],
      [2, 'unilevel', 5, 300],
      [1, 'unilevel', 6, 200],
    ]);
    // After a close nobody is active: nothing is paid.
    step(engine, periodClose('p1'));
    assert.deepEqual(step(engine, order('b4', 'B4', 9, 0, 10000)), []);
  });

  it('pays a level only if the paid-as rank unlocks it; the level is used either way', () => {
    const plan = planWith((p) => {
      allOff(p);
      p.unilevel.enabled = true;
    });
    // 1 <- 2 <- 3 <- 4 <- 5 (buyer), and 6 under 3.
    const engine = run(plan, [...chain('e', [1, 2, 3, 4, 5]), enroll('e6', 6, 3)]);
    step(engine, order('a3', 'A3', 3, 100, 0));
    step(engine, order('a6', 'A6', 6, 100, 0)); // 3.legs = 1
    step(engine, order('a4', 'A4', 4, 800, 0)); // 3.legs = 2, gv(3) = 100 + 100 + 800 = 1000
    step(engine, order('a2', 'A2', 2, 100, 0)); // 2: legs 1 -> rank 0
    step(engine, order('a1', 'A1', 1, 100, 0)); // 1: legs 1 -> rank 0
    assert.equal(stateOf(engine, 3).paidRank, 1, 'Bronze: pv 100, gv 1000, legs 2');
    assert.equal(stateOf(engine, 4).paidRank, 0, '4 has no legs');
    assert.equal(stateOf(engine, 2).paidRank, 0);
    assert.deepEqual(step(engine, order('b', 'B', 5, 0, 10000)), [
      [4, 'unilevel', 1, 1000], // rank 0 pays level 1: 10%
      [3, 'unilevel', 2, 500], // rank 1 pays levels 1..3: 5%
      // 2 (rank 0) at level 3 and 1 (rank 0) at level 4: levels used, not paid.
    ]);
  });
});

describe('reference: fast start', () => {
  const plan = planWith((p) => {
    allOff(p);
    p.fastStart.enabled = true;
  });
  const T = 1_000_000_000;

  it('pays 20% of the first order cv within 30 days of enrollment, once', () => {
    const engine = run(plan, [enroll('e1', 1, null, { at: 0 }), enroll('e2', 2, 1, { at: T })]);
    const seq = engine.seq + 1;
    // 20% of 12345 = 2469; at - enrolledAt = 30 days exactly: inside.
    const first = order('o1', 'A', 2, 0, 12345, { at: T + THIRTY_DAYS_MS });
    assert.deepEqual(step(engine, first), [[1, 'fast_start', 0, 2469]]);
    assert.deepEqual(engine.lines.at(-1), {
      seq,
      ordinal: 0,
      beneficiary: 1,
      type: 'fast_start',
      level: 0,
      source: 2,
      order: 'A',
      amountCents: 2469,
    });
    assert.deepEqual(step(engine, order('o2', 'B', 2, 0, 12345, { at: T })), [], 'not first');
    // The root's own first order has no sponsor to pay.
    assert.deepEqual(step(engine, order('o3', 'C', 1, 0, 12345, { at: 0 })), []);
  });

  it('pays nothing one ms after the window, and the flag is used all the same', () => {
    const engine = run(plan, [enroll('e1', 1, null), enroll('e3', 3, 1, { at: T })]);
    const late = order('o1', 'A', 3, 100, 5000, { at: T + THIRTY_DAYS_MS + 1 });
    assert.deepEqual(step(engine, late), []);
    assert.deepEqual(step(engine, order('o2', 'B', 3, 100, 5000, { at: T })), []);
  });

  it('a first order of 0 pv and 0 cv uses up the flag', () => {
    const engine = run(plan, [enroll('e1', 1, null), enroll('e4', 4, 1, { at: T })]);
    assert.deepEqual(step(engine, order('o1', 'A', 4, 0, 0, { at: T })), []);
    assert.equal(stateOf(engine, 4).hasOrdered, true);
    assert.deepEqual(step(engine, order('o2', 'B', 4, 100, 1000, { at: T })), []);
  });

  it('an order stamped before the enrollment qualifies; the sponsor need not be active', () => {
    const engine = run(plan, [enroll('e1', 1, null), enroll('e5', 5, 1, { at: T })]);
    // 20% of 1000 = 200; 1 never ordered (inactive).
    assert.deepEqual(step(engine, order('o1', 'A', 5, 0, 1000, { at: T - 1 })), [
      [1, 'fast_start', 0, 200],
    ]);
  });

  it('a terminated sponsor earns nothing; the buyer flag is still used', () => {
    const engine = run(plan, [
      enroll('e1', 1, null),
      enroll('e7', 7, 1, { at: T }),
      enroll('e6', 6, 7, { at: T }),
      terminate('t7', 7),
    ]);
    assert.deepEqual(step(engine, order('o1', 'A', 6, 100, 1000, { at: T })), []);
    assert.equal(stateOf(engine, 6).hasOrdered, true);
  });

  it('the first-order flag is set whether or not fast start is enabled', () => {
    const off = planWith((p) => allOff(p));
    const engine = run(off, [enroll('e1', 1, null), enroll('e2', 2, 1)]);
    assert.deepEqual(step(engine, order('o1', 'A', 2, 0, 1000)), []);
    assert.equal(stateOf(engine, 2).hasOrdered, true);
  });
});

describe('reference: one order, every step in SPEC order', () => {
  it('writes rank bonuses, fast start, unilevel, then matching', () => {
    const plan = planWith((p) => pvRanks(p)); // everything on; rank r needs r * 100 pv
    const engine = run(plan, chain('e', [1, 2, 3]));
    // 1 reaches rank 3: bonuses of ranks 1, 2, 3 (5000, 20000, 50000).
    assert.deepEqual(step(engine, order('a', 'A', 1, 300, 0)), [
      [1, 'rank_bonus', 1, 5000],
      [1, 'rank_bonus', 2, 20000],
      [1, 'rank_bonus', 3, 50000],
    ]);
    // 2 reaches rank 1; its fast start (20% of 0) is 0: nothing more.
    assert.deepEqual(step(engine, order('b', 'B', 2, 100, 0)), [[2, 'rank_bonus', 1, 5000]]);
    const seq = engine.seq + 1;
    assert.deepEqual(step(engine, order('c', 'C', 3, 200, 10000)), [
      [3, 'rank_bonus', 1, 5000], // 3 reaches rank 2 (200 pv): ranks 1, 2
      [3, 'rank_bonus', 2, 20000],
      [2, 'fast_start', 0, 2000], // 20% of 10000
      [2, 'unilevel', 1, 1000], // 10% of 10000 (2: rank 1)
      [1, 'unilevel', 2, 500], // 5% of 10000 (1: rank 3)
      [1, 'matching', 1, 100], // gen 1 of 2's line: 10% of 1000 (1: rank 3 >= 2)
    ]);
    const written = engine.lines.filter((line) => line.seq === seq);
    assert.deepEqual(
      written.map((line) => [line.ordinal, line.source, line.order]),
      [
        [0, 3, 'C'],
        [1, 3, 'C'],
        [2, 3, 'C'],
        [3, 3, 'C'],
        [4, 3, 'C'],
        [5, 2, 'C'], // matching: the source is the matched line's beneficiary
      ],
    );
  });
});
