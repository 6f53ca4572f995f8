import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { VALIDATION_REASONS, type ValidationReason } from '../src/events/reasons.js';
import { ReferenceEngine } from '../src/reference/engine.js';
import { enroll, order, periodClose } from './support/events.js';
import { referencePlan } from './support/plans.js';

/**
 * SPEC 2 and 7.1: an event that fails validation is rejected with its reason, takes no seq
 * and no id, and changes nothing. Validation comes before the duplicate check.
 */

const LONG_ID = 'x'.repeat(65);
const CLOSE = { id: 'a', type: 'period.close', at: 0 };
const ENROLL = { id: 'a', type: 'enroll', at: 0, distributor: 2, sponsor: 1 };
const ORDER = { id: 'a', type: 'order', at: 0, order: 'o', distributor: 1, pv: 1, cv: 1 };
const REFUND = { id: 'a', type: 'refund', at: 0, order: 'o' };
const WITHDRAW = { id: 'a', type: 'withdraw', at: 0, distributor: 1, amount: 1 };
const TERMINATE = { id: 'a', type: 'terminate', at: 0, distributor: 1 };

/** `base` with `changes` applied; a change to `undefined` removes the field. */
function json(base: object, changes: Record<string, unknown> = {}): string {
  const value: Record<string, unknown> = { ...base, ...changes };
  for (const key of Object.keys(changes)) if (changes[key] === undefined) delete value[key];
  return JSON.stringify(value);
}

/** One bad line per validation reason (several for some). */
const BAD_LINES: ReadonlyArray<readonly [ValidationReason, string]> = [
  ['malformed_json', json(CLOSE).slice(0, -1)],
  ['malformed_json', ''],
  ['not_an_object', `[${json(CLOSE)}]`],
  ['not_an_object', 'null'],
  ['not_an_object', '"period.close"'],
  ['invalid_id', json(CLOSE, { id: undefined })],
  ['invalid_id', json(CLOSE, { id: '' })],
  ['invalid_id', json(CLOSE, { id: LONG_ID })],
  ['invalid_id', json(CLOSE, { id: 7 })],
  ['unknown_type', json(CLOSE, { type: 'bonus' })],
  ['unknown_type', json(CLOSE, { type: undefined })],
  ['invalid_at', json(CLOSE, { at: undefined })],
  ['invalid_at', json(CLOSE, { at: -1 })],
  ['invalid_at', json(CLOSE, { at: 1.5 })],
  ['invalid_at', json(CLOSE, { at: '0' })],
  ['invalid_at', json(CLOSE, { at: 2 ** 53 })],
  ['invalid_distributor', json(ENROLL, { distributor: 0 })],
  ['invalid_distributor', json(ENROLL, { distributor: 2 ** 31 })],
  ['invalid_distributor', json(ORDER, { distributor: '1' })],
  ['invalid_distributor', json(WITHDRAW, { distributor: undefined })],
  ['invalid_distributor', json(TERMINATE, { distributor: 1.5 })],
  ['invalid_sponsor', json(ENROLL, { sponsor: undefined })],
  ['invalid_sponsor', json(ENROLL, { sponsor: 0 })],
  ['invalid_sponsor', json(ENROLL, { sponsor: '1' })],
  ['invalid_placement', json(ENROLL, { placement: 5 })],
  ['invalid_placement', json(ENROLL, { placement: [1, 'L'] })],
  ['invalid_placement', json(ENROLL, { placement: { parent: 0, leg: 'L' } })],
  ['invalid_placement', json(ENROLL, { placement: { parent: 1, leg: 'X' } })],
  ['invalid_placement', json(ENROLL, { placement: { parent: 1 } })],
  ['invalid_order', json(ORDER, { order: '' })],
  ['invalid_order', json(ORDER, { order: LONG_ID })],
  ['invalid_order', json(REFUND, { order: undefined })],
  ['invalid_order', json(REFUND, { order: 17 })],
  ['invalid_pv', json(ORDER, { pv: undefined })],
  ['invalid_pv', json(ORDER, { pv: -1 })],
  ['invalid_pv', json(ORDER, { pv: 0.5 })],
  ['invalid_pv', json(ORDER, { pv: 1_000_000_000_001 })],
  ['invalid_cv', json(ORDER, { cv: undefined })],
  ['invalid_cv', json(ORDER, { cv: -1 })],
  ['invalid_cv', json(ORDER, { cv: '5' })],
  ['invalid_amount', json(WITHDRAW, { amount: 0 })],
  ['invalid_amount', json(WITHDRAW, { amount: -5 })],
  ['invalid_amount', json(WITHDRAW, { amount: undefined })],
];

describe('reference: validation rejects', () => {
  it('covers every validation reason', () => {
    const covered = new Set(BAD_LINES.map(([reason]) => reason));
    assert.deepEqual([...covered].sort(), [...VALIDATION_REASONS].sort());
  });

  for (const [reason, line] of BAD_LINES) {
    it(`${reason}: ${line.slice(0, 70)}`, () => {
      const engine = new ReferenceEngine(referencePlan());
      assert.deepEqual(engine.processLine(line), { seq: null, status: 'rejected', reason });
      assert.equal(engine.seq, 0);
      assert.equal(engine.lines.length, 0);
      assert.equal(engine.exportText(), '');
    });
  }

  it('takes no seq and no id: the next valid event gets seq 1, even with the same id', () => {
    const engine = new ReferenceEngine(referencePlan());
    for (const [, line] of BAD_LINES) engine.processLine(line);
    // Every bad line above used id "a" (or none); "a" is still free.
    const result = engine.processLine(JSON.stringify(enroll('a', 1, null)));
    assert.deepEqual(result, { seq: 1, status: 'accepted' });
  });

  it('validates before the duplicate check: a bad event with a taken id is invalid', () => {
    const engine = new ReferenceEngine(referencePlan());
    assert.deepEqual(engine.processLine(JSON.stringify(enroll('e1', 1, null))), {
      seq: 1,
      status: 'accepted',
    });
    const bad = JSON.stringify(order('e1', 'o1', 1, -1, 5));
    const rejected = { seq: null, status: 'rejected', reason: 'invalid_pv' };
    assert.deepEqual(engine.processLine(bad), rejected);
    const badType = '{"id":"e1","type":"nope","at":0}';
    assert.deepEqual(engine.processLine(badType), {
      seq: null,
      status: 'rejected',
      reason: 'unknown_type',
    });
    // A valid event with the taken id is the duplicate.
    assert.deepEqual(engine.processLine(JSON.stringify(periodClose('e1'))), {
      seq: 1,
      status: 'duplicate',
      first: { status: 'accepted' },
    });
    assert.equal(engine.seq, 1);
  });

  it('accepts placement null as not given and ignores unknown fields', () => {
    const engine = new ReferenceEngine(referencePlan());
    const root = '{"id":"r","type":"enroll","at":5,"distributor":1,"sponsor":null,"x":[1]}';
    assert.deepEqual(engine.processLine(root), { seq: 1, status: 'accepted' });
    const child =
      '{"id":"c","type":"enroll","at":5,"distributor":2,"sponsor":1,"placement":null,"note":"hi"}';
    assert.deepEqual(engine.processLine(child), { seq: 2, status: 'accepted' });
    // Not given: auto-placed, the sponsor's first unplaced recruit goes to its L leg.
    assert.equal(engine.distributor(2)?.placementParent, 1);
    assert.equal(engine.distributor(2)?.placementLeg, 'L');
  });

  it('accepts boundary values: pv and cv 0 and 10^12, distributor 2^31-1, at 0', () => {
    const engine = new ReferenceEngine(referencePlan());
    const top = 2 ** 31 - 1;
    assert.equal(engine.processLine(JSON.stringify(enroll('e', top, null))).status, 'accepted');
    const zero = JSON.stringify(order('o0', 'o0', top, 0, 0));
    assert.equal(engine.processLine(zero).status, 'accepted');
    const big = JSON.stringify(order('o1', 'o1', top, 1_000_000_000_000, 1_000_000_000_000));
    assert.equal(engine.processLine(big).status, 'accepted');
  });
});
