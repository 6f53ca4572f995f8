import * as assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { UplineError } from '../src/core/errors.js';
import { loadPlan, parsePlan } from '../src/plan/plan.js';
import { tempDir } from './support/pipeline.js';
import { planFile, referencePlan } from './support/plans.js';

const dir = tempDir('upline-plan-');
after(() => dir.dispose());

test('the shipped plans load, with the components each is meant to switch on', () => {
  const reference = loadPlan(planFile('reference'));
  assert.deepEqual(reference.unilevel.levelsBps, [1000, 500, 500, 400, 300, 200, 100]);
  assert.equal(reference.ranks.length, 5);
  const unilevel = loadPlan(planFile('unilevel'));
  assert.ok(unilevel.unilevel.enabled && unilevel.fastStart.enabled);
  assert.ok(!unilevel.binary.enabled && !unilevel.matching.enabled && !unilevel.pool.enabled);
  const binary = loadPlan(planFile('binary'));
  assert.ok(binary.binary.enabled && binary.matching.enabled);
  assert.ok(!binary.unilevel.enabled && !binary.fastStart.enabled && !binary.incentive.enabled);
});

/** Edits a copy of the reference plan as plain JSON and expects a refusal naming `where`. */
function refused(edit: (plan: Record<string, unknown>) => void, where: string): void {
  const plan = structuredClone(referencePlan()) as unknown as Record<string, unknown>;
  edit(plan);
  assert.throws(
    () => parsePlan(plan, 'p.json'),
    (error: unknown) =>
      error instanceof UplineError &&
      error.code === 'UPLINE_INVALID_PLAN' &&
      error.message.startsWith(`p.json: ${where}:`),
    `expected a refusal naming ${where}`,
  );
}

test('a bad plan is refused with the path of the first bad field', () => {
  refused(
    (plan) => ((plan['ranks'] as Record<string, unknown>[])[1]!['gv'] = '1000'),
    'ranks[1].gv',
  );
  refused((plan) => (plan['activePv'] = 99.5), 'activePv');
  refused((plan) => (plan['bonus'] = 1), 'bonus');
  refused(
    (plan) => ((plan['unilevel'] as Record<string, unknown>)['levelsBps'] = [1000, -1]),
    'unilevel.levelsBps[1]',
  );
  refused(
    (plan) => (plan['promotions'] = [{ from: 0, to: 10, types: ['cashback'], multiplierBps: 1 }]),
    'promotions[0].types[0]',
  );
  refused(
    (plan) => ((plan['ranks'] as Record<string, unknown>[])[4]!['unilevelLevels'] = 9),
    'ranks[4].unilevelLevels',
  );
  refused((plan) => ((plan['ranks'] as Record<string, unknown>[])[0]!['pv'] = 5), 'ranks[0]');
});

test('an unreadable or unparseable plan file is refused, naming the file', () => {
  const missing = join(dir.path, 'missing.json');
  assert.throws(
    () => loadPlan(missing),
    (error: unknown) =>
      error instanceof UplineError && error.code === 'UPLINE_IO' && error.message.includes(missing),
  );
  const broken = join(dir.path, 'broken.json');
  writeFileSync(broken, '{"name": ');
  assert.throws(
    () => loadPlan(broken),
    (error: unknown) =>
      error instanceof UplineError &&
      error.code === 'UPLINE_INVALID_PLAN' &&
      error.message.includes(broken),
  );
});
