import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { ReferenceEngine } from '../src/reference/engine.js';
import {
  enroll,
  order,
  periodClose,
  refund,
  terminate,
  toNdjson,
  withdraw,
} from './support/events.js';
import { referencePlan } from './support/plans.js';
import { run, step } from './support/reference.js';

/** SPEC 4: one NDJSON line per distributor in id order, net amounts, balance of every line. */

function summaryLine(
  distributor: number,
  balance: number,
  title: number,
  paidRank: number,
  earned: Partial<Record<string, number>>,
  withdrawn: number,
): string {
  const types = ['unilevel', 'fast_start', 'binary', 'matching', 'rank_bonus', 'pool', 'incentive'];
  const parts = types.map((type) => `"${type}":${earned[type] ?? 0}`).join(',');
  return (
    `{"distributor":${distributor},"balance":${balance},"title":${title},` +
    `"paidRank":${paidRank},"earned":{${parts}},"withdrawn":${withdrawn}}`
  );
}

describe('reference: export', () => {
  it('is empty for an empty engine', () => {
    assert.equal(new ReferenceEngine(referencePlan()).exportText(), '');
  });

  it('lists distributors in numeric id order, terminated ones included', () => {
    const engine = run(referencePlan(), [
      enroll('a', 10, null),
      enroll('b', 9, null),
      enroll('c', 100, 9),
      terminate('t', 100),
    ]);
    assert.equal(
      engine.exportText(),
      `${summaryLine(9, 0, 0, 0, {}, 0)}\n${summaryLine(10, 0, 0, 0, {}, 0)}\n` +
        `${summaryLine(100, 0, 0, 0, {}, 0)}\n`,
    );
  });

  it('writes the hand-computed export of a small period on the reference plan', () => {
    const engine = run(referencePlan(), [
      enroll('e1', 1, null),
      enroll('e2', 2, 1), // 1.L
      enroll('e3', 3, 1), // 1.R
      order('a', 'A', 1, 800, 0), // 1: pv 800, no legs yet
    ]);
    assert.deepEqual(step(engine, order('b', 'B', 2, 100, 12345)), [
      [1, 'fast_start', 0, 2469], // 20% of 12345
      [1, 'unilevel', 1, 1234], // 10% of 12345 = 1234.5
    ]);
    // 3 active: 1.legs = 2, gv(1) = 800 + 100 + 100 = 1000 -> Bronze first.
    assert.deepEqual(step(engine, order('c', 'C', 3, 100, 20000)), [
      [1, 'rank_bonus', 1, 5000],
      [1, 'fast_start', 0, 4000], // 20% of 20000
      [1, 'unilevel', 1, 2000], // 10% of 20000
    ]);
    assert.deepEqual(step(engine, withdraw('w', 1, 5000)), [[1, 'withdrawal', 0, -5000]]);
    step(engine, terminate('t', 3));
    assert.equal(
      engine.exportText(),
      [
        // 2469 + 1234 + 5000 + 4000 + 2000 - 5000 = 9703
        summaryLine(1, 9703, 1, 1, { unilevel: 3234, fast_start: 6469, rank_bonus: 5000 }, 5000),
        summaryLine(2, 0, 0, 0, {}, 0),
        summaryLine(3, 0, 0, 0, {}, 0),
        '',
      ].join('\n'),
    );
    // Close: 1 pairs min(12345, 20000) = 12345 -> 1234 (Bronze cap 200000); no sponsor to
    // match. Pool: 2% of 32345 = 646, but nobody holds rank >= 3.
    assert.deepEqual(step(engine, periodClose('p')), [[1, 'binary', 0, 1234]]);
    // Period 1: refunding B (an older order) reverses its fast start and unilevel lines.
    assert.deepEqual(step(engine, refund('r', 'B')), [
      [1, 'fast_start', 0, -2469],
      [1, 'unilevel', 1, -1234],
    ]);
    assert.equal(
      engine.exportText(),
      [
        // 9703 + 1234 - 2469 - 1234 = 7234; the paid-as rank is 0 after the close.
        summaryLine(
          1,
          7234,
          1,
          0,
          { unilevel: 2000, fast_start: 4000, binary: 1234, rank_bonus: 5000 },
          5000,
        ),
        summaryLine(2, 0, 0, 0, {}, 0),
        summaryLine(3, 0, 0, 0, {}, 0),
        '',
      ].join('\n'),
    );
    const summary = engine.summaries()[0];
    assert.deepEqual(summary, {
      distributor: 1,
      balanceCents: 7234,
      title: 1,
      paidRank: 0,
      earnedCents: {
        unilevel: 2000,
        fast_start: 4000,
        binary: 1234,
        matching: 0,
        rank_bonus: 5000,
        pool: 0,
        incentive: 0,
      },
      withdrawnCents: 5000,
    });
  });

  it('processes an NDJSON text line by line to the same export', () => {
    const events = [
      enroll('e1', 1, null),
      enroll('e2', 2, 1),
      order('o', 'O', 2, 100, 5000),
      periodClose('p'),
    ];
    const byEvent = run(referencePlan(), events);
    const byLine = new ReferenceEngine(referencePlan());
    for (const line of toNdjson(events).split('\n')) {
      if (line !== '') byLine.processLine(line);
    }
    assert.equal(byLine.exportText(), byEvent.exportText());
    // 20% of 5000 = 1000 fast start; 1 is not active: no unilevel, no binary.
    const first = byLine.exportText().split('\n')[0];
    assert.equal(first, summaryLine(1, 1000, 0, 0, { fast_start: 1000 }, 0));
  });
});
