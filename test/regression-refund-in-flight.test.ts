import * as assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { chain, order, refund } from './support/events.js';
import { runPipeline, runReference, tempDir } from './support/pipeline.js';
import { referencePlan } from './support/plans.js';

/**
 * Regression: a refund sequenced while its order's batch was still on its way to the commit
 * thread reversed nothing. The commit handle waited for room in its queue *before* registering
 * the batch as in flight, and the sequencer did not wait for it, so the refund found the
 * order's lines neither in flight nor in SQLite, and wrote no reversal lines.
 *
 * With one event per batch and walks on the sequencer thread, every batch below is still in
 * flight (the commit thread's answers need an event-loop turn the sequencer never yields)
 * when the next is sequenced, and the queue is full from the third batch on.
 */
test('a refund right behind its order reverses the order lines still in flight', async () => {
  const dir = tempDir('upline-regression-');
  try {
    const events = [
      ...chain('c', [1, 2, 3, 4]),
      order('b1', 'big', 4, 100, 10_000),
      refund('r1', 'big'),
    ];
    const lines = events.map((event) => JSON.stringify(event));
    const expected = runReference(referencePlan(), lines);
    const reversals = expected.ledger.filter((line) => line[0] === 6);
    assert.ok(reversals.length > 0, 'the scenario must have reversal lines to lose');
    const run = { workers: 0, batchSize: 1, submitSize: 100 };
    const actual = await runPipeline(referencePlan(), lines, join(dir.path, 'r.db'), run);
    assert.deepEqual(actual.ledger, expected.ledger);
    assert.equal(actual.exportText, expected.exportText);
  } finally {
    dir.dispose();
  }
});
