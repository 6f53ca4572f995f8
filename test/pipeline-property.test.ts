import * as assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, test } from 'node:test';
import * as fc from 'fast-check';
import type { Plan } from '../src/plan/plan.js';
import { runPipeline, runReference, tempDir, type PipelineRun } from './support/pipeline.js';
import { planFile, planWith, pvRanks, referencePlan } from './support/plans.js';
import { loadPlan } from '../src/plan/plan.js';
import { eventLines } from './support/random-stream.js';

/**
 * The pipeline's central promise: for any event stream, every worker count and every batch
 * size give byte-identical answers, exports and ledgers, equal to the serial reference.
 */
const dir = tempDir('upline-property-');
after(() => dir.dispose());

const RUNS: readonly PipelineRun[] = [
  { workers: 0, batchSize: 1, submitSize: 1000 },
  { workers: 1, batchSize: 1, submitSize: 1000 },
  { workers: 1, batchSize: 7, submitSize: 13, indexRunLines: 5, indexChunkMin: 1 },
  { workers: 1, batchSize: 4096, submitSize: 1000 },
  { workers: 2, batchSize: 1, submitSize: 5, indexRunLines: 1, indexChunkMin: 2 },
  { workers: 2, batchSize: 7, submitSize: 1000 },
  { workers: 2, batchSize: 4096, submitSize: 1000 },
  { workers: 4, batchSize: 1, submitSize: 1000 },
  { workers: 4, batchSize: 7, submitSize: 3, indexRunLines: 20, indexChunkMin: 3 },
  { workers: 4, batchSize: 4096, submitSize: 1000 },
];

const promotionPlan = planWith((plan) => {
  plan.promotions = [
    {
      from: 1_700_000_000_000,
      to: 1_700_000_000_000 + 20 * 86_400_000,
      types: ['unilevel', 'matching', 'binary'],
      multiplierBps: 15_000,
    },
    {
      from: 1_700_000_000_000,
      to: 1_800_000_000_000,
      types: ['unilevel', 'pool', 'rank_bonus', 'incentive'],
      multiplierBps: 12_500,
    },
  ];
});

const PLANS: readonly [string, Plan][] = [
  ['reference', referencePlan()],
  ['ranks by pv alone', planWith(pvRanks)],
  ['promotions', promotionPlan],
  ['unilevel', loadPlan(planFile('unilevel'))],
  ['binary', loadPlan(planFile('binary'))],
];

let counter = 0;

for (const [planName, plan] of PLANS) {
  test(`pipeline equals the serial reference (${planName} plan)`, async () => {
    await fc.assert(
      fc.asyncProperty(eventLines(250), async (lines) => {
        const expected = runReference(plan, lines);
        for (const run of RUNS) {
          const dbFile = join(dir.path, `run-${counter++}.db`);
          const actual = await runPipeline(plan, lines, dbFile, run);
          const label = `workers ${run.workers}, batch ${run.batchSize}`;
          assert.deepEqual(actual.results, expected.results, `results differ (${label})`);
          assert.equal(actual.exportText, expected.exportText, `export differs (${label})`);
          assert.deepEqual(actual.ledger, expected.ledger, `ledger differs (${label})`);
        }
      }),
      { seed: 20261124, numRuns: planName === 'reference' ? 12 : 6, endOnFailure: true },
    );
  });
}
