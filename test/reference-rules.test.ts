import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { RULE_REASONS, type RuleReason } from '../src/events/reasons.js';
import type { EventResult } from '../src/events/result.js';
import { ReferenceEngine } from '../src/reference/engine.js';
import {
  enroll,
  order,
  periodClose,
  place,
  refund,
  terminate,
  withdraw,
} from './support/events.js';
import { allOff, planWith, referencePlan } from './support/plans.js';
import { feed, run, stateOf, step } from './support/reference.js';

/**
 * SPEC 2 and section 3's rule checks: a valid event takes its seq and id whatever the outcome;
 * a rule reject changes no state; a later event with a taken id is a duplicate carrying the
 * first outcome. The order of the checks is docs/plan-semantics.md's.
 */

function rejected(seq: number, reason: RuleReason): EventResult {
  return { seq, status: 'rejected', reason };
}

describe('reference: rule rejects', () => {
  const covered = new Set<RuleReason>();
  function expectReject(engine: ReferenceEngine, event: object, reason: RuleReason): void {
    const seq = engine.seq + 1;
    const lineCount = engine.lines.length;
    const before = engine.exportText();
    assert.deepEqual(engine.processLine(JSON.stringify(event)), rejected(seq, reason));
    assert.equal(engine.seq, seq, 'a rule reject takes its seq');
    assert.equal(engine.lines.length, lineCount, 'a rule reject writes nothing');
    assert.equal(engine.exportText(), before, 'a rule reject changes nothing');
    covered.add(reason);
  }

  it('enroll: distributor_taken, sponsor_missing, sponsor_terminated, placement checks', () => {
    const engine = run(referencePlan(), [
      enroll('e1', 1, null),
      enroll('e2', 2, 1),
      enroll('e3', 3, 1),
      terminate('t3', 3),
    ]);
    // distributor_taken is checked first: 1 is taken even though sponsor 9 is missing.
    expectReject(engine, enroll('x1', 1, 9), 'distributor_taken');
    expectReject(engine, enroll('x2', 4, 9), 'sponsor_missing');
    expectReject(engine, enroll('x3', 4, 4), 'sponsor_missing');
    expectReject(engine, enroll('x4', 4, 3, { placement: place(9, 'L') }), 'sponsor_terminated');
    const missing = enroll('x5', 4, 1, { placement: place(9, 'L') });
    expectReject(engine, missing, 'placement_parent_missing');
    // 2 sits at 1.L and 3 at 1.R.
    expectReject(engine, enroll('x6', 4, 2, { placement: place(1, 'R') }), 'placement_slot_taken');
    const rootTaken = enroll('x7', 4, null, { placement: place(1, 'L') });
    expectReject(engine, rootTaken, 'placement_slot_taken');
    // The slots that are free are accepted, under a terminated parent too (SPEC 7.2).
    assert.equal(step(engine, enroll('ok4', 4, 2, { placement: place(3, 'L') })).length, 0);
    assert.equal(stateOf(engine, 4).placementParent, 3);
  });

  it('order: unknown_distributor, terminated_distributor, then order_taken', () => {
    const engine = run(referencePlan(), [
      enroll('e1', 1, null),
      enroll('e2', 2, null),
      order('o1', 'A', 1, 10, 100),
      terminate('t2', 2),
    ]);
    expectReject(engine, order('x1', 'A', 9, 1, 1), 'unknown_distributor');
    expectReject(engine, order('x2', 'A', 2, 1, 1), 'terminated_distributor');
    expectReject(engine, order('x3', 'A', 1, 1, 1), 'order_taken');
    // An order id is taken only by an accepted order: "B" is free after its reject.
    expectReject(engine, order('x4', 'B', 2, 1, 1), 'terminated_distributor');
    assert.deepEqual(feed(engine, [order('ok', 'B', 1, 1, 1)]), [{ seq: 9, status: 'accepted' }]);
  });

  it('refund: unknown_order, order_already_refunded', () => {
    const engine = run(referencePlan(), [
      enroll('e1', 1, null),
      order('o1', 'A', 1, 10, 100),
      refund('r1', 'A'),
    ]);
    expectReject(engine, refund('x1', 'Z'), 'unknown_order');
    expectReject(engine, refund('x2', 'A'), 'order_already_refunded');
    // An order id whose order was rejected was never taken: refunding it is unknown_order.
    expectReject(engine, order('x3', 'R', 9, 1, 1), 'unknown_distributor');
    expectReject(engine, refund('x4', 'R'), 'unknown_order');
  });

  it('withdraw: unknown_distributor, insufficient_funds', () => {
    const plan = planWith((p) => {
      allOff(p);
      p.incentive.enabled = true;
      p.incentive.enrollments = 1;
    });
    // 1's first recruit pays it the 5000 incentive.
    const engine = run(plan, [enroll('e1', 1, null), enroll('e2', 2, 1)]);
    expectReject(engine, withdraw('x1', 9, 1), 'unknown_distributor');
    expectReject(engine, withdraw('x2', 2, 1), 'insufficient_funds');
    expectReject(engine, withdraw('x3', 1, 5001), 'insufficient_funds');
    // 5000 - 4000 = 1000 left.
    assert.deepEqual(step(engine, withdraw('w1', 1, 4000)), [[1, 'withdrawal', 0, -4000]]);
    expectReject(engine, withdraw('x4', 1, 1001), 'insufficient_funds');
    assert.deepEqual(step(engine, withdraw('w2', 1, 1000)), [[1, 'withdrawal', 0, -1000]]);
    expectReject(engine, withdraw('x5', 1, 1), 'insufficient_funds');
  });

  it('terminate: unknown_distributor, terminated_distributor', () => {
    const engine = run(referencePlan(), [enroll('e1', 1, null), terminate('t1', 1)]);
    expectReject(engine, terminate('x1', 9), 'unknown_distributor');
    expectReject(engine, terminate('x2', 1), 'terminated_distributor');
  });

  it('covers every rule reason', () => {
    assert.deepEqual([...covered].sort(), [...RULE_REASONS].sort());
  });
});

describe('reference: a rule reject changes no state', () => {
  it('a rejected enroll uses no auto-placement turn and counts for no incentive', () => {
    const plan = planWith((p) => {
      allOff(p);
      p.incentive.enabled = true;
      p.incentive.enrollments = 2;
    });
    const engine = run(plan, [enroll('e1', 1, null)]);
    // Rejected (slot 9.L: parent missing): must not take 1's k = 0 turn nor count.
    const result = feed(engine, [enroll('x', 2, 1, { placement: place(9, 'L') })]);
    assert.deepEqual(result, [rejected(2, 'placement_parent_missing')]);
    assert.deepEqual(step(engine, enroll('e2', 2, 1)), []);
    assert.equal(stateOf(engine, 2).placementLeg, 'L', 'k = 0 goes to L');
    // The second accepted enrollment is the one that reaches 2.
    assert.deepEqual(step(engine, enroll('e3', 3, 1)), [[1, 'incentive', 0, 5000]]);
    assert.equal(stateOf(engine, 3).placementLeg, 'R', 'k = 1 goes to R');
  });

  it('a rejected order does not use up the first-order flag', () => {
    const plan = planWith((p) => {
      allOff(p);
      p.fastStart.enabled = true;
    });
    const engine = run(plan, [
      enroll('e1', 1, null),
      enroll('e2', 2, 1),
      order('o1', 'A', 1, 0, 0),
    ]);
    assert.deepEqual(feed(engine, [order('x', 'A', 2, 0, 5000)]), [rejected(4, 'order_taken')]);
    assert.equal(stateOf(engine, 2).hasOrdered, false);
    // 20% of 5000 = 1000 to sponsor 1.
    assert.deepEqual(step(engine, order('o2', 'B', 2, 0, 5000)), [[1, 'fast_start', 0, 1000]]);
  });
});

describe('reference: duplicates', () => {
  it('answer the first seq and outcome, change nothing, and take no seq', () => {
    const engine = new ReferenceEngine(referencePlan());
    const results = feed(engine, [
      enroll('e1', 1, null),
      enroll('e2', 2, 9),
      enroll('e1', 5, null),
      enroll('e2', 2, null),
      periodClose('e1'),
      enroll('e3', 3, null),
    ]);
    assert.deepEqual(results, [
      { seq: 1, status: 'accepted' },
      { seq: 2, status: 'rejected', reason: 'sponsor_missing' },
      { seq: 1, status: 'duplicate', first: { status: 'accepted' } },
      { seq: 2, status: 'duplicate', first: { status: 'rejected', reason: 'sponsor_missing' } },
      { seq: 1, status: 'duplicate', first: { status: 'accepted' } },
      { seq: 3, status: 'accepted' },
    ]);
    assert.equal(engine.distributor(5), undefined);
    assert.equal(engine.distributor(2), undefined);
    assert.equal(engine.period, 0, 'the duplicate period.close closed nothing');
  });

  it('replaying the same log twice gives the state of replaying it once', () => {
    const events = [
      enroll('e1', 1, null),
      enroll('e2', 2, 1),
      enroll('e3', 3, 2),
      order('o1', 'A', 1, 100, 1000),
      order('o2', 'B', 2, 100, 2000),
      order('o3', 'C', 3, 100, 3000),
      refund('r1', 'B'),
      periodClose('p1'),
      withdraw('w1', 2, 1),
      terminate('t1', 3),
    ];
    const once = new ReferenceEngine(referencePlan());
    feed(once, events);
    const twice = new ReferenceEngine(referencePlan());
    feed(twice, events);
    const again = feed(twice, events);
    assert.ok(again.every((result) => result.status === 'duplicate'));
    assert.equal(twice.exportText(), once.exportText());
    assert.deepEqual(twice.lines, once.lines);
    assert.equal(twice.seq, once.seq);
  });
});
