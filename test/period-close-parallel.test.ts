import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';

import { generateEvents } from '../src/generate/generate.js';
import { runPipeline, runReference, tempDir } from './support/pipeline.js';
import { referencePlan } from './support/plans.js';

/**
 * A period close over the walk pool: with enough distributors (two tasks need 2 x 16,384),
 * the per-distributor part of each close runs in ranges on worker threads. The ledger and
 * export must still equal the serial reference's, line for line, for 1, 2 and 4 workers.
 */
test('period closes in parallel ranges give the reference ledger', async () => {
  let text = '';
  generateEvents(
    { distributors: 40_000, orders: 30_000, seed: 5, periodOrders: 10_000 },
    (chunk) => (text += chunk),
  );
  const lines = text.split('\n').filter((line) => line !== '');
  assert.ok(lines.filter((line) => line.includes('"period.close"')).length >= 2, 'closes ran');
  const plan = referencePlan();
  const expected = runReference(plan, lines);
  const binaryLines = expected.ledger.filter((row) => row[3] === 2).length;
  assert.ok(binaryLines > 100, `closes paid binary lines (${binaryLines})`);
  for (const workers of [1, 2, 4]) {
    const dir = tempDir();
    try {
      const got = await runPipeline(plan, lines, join(dir.path, 'run.db'), {
        workers,
        batchSize: 4096,
        submitSize: 8192,
      });
      assert.deepEqual(got.results, expected.results, `results, ${workers} workers`);
      assert.deepEqual(got.ledger, expected.ledger, `ledger, ${workers} workers`);
      assert.equal(got.exportText, expected.exportText, `export, ${workers} workers`);
    } finally {
      dir.dispose();
    }
  }
});
