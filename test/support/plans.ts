import { fileURLToPath } from 'node:url';
import { loadPlan, parsePlan, type Plan } from '../../src/plan/plan.js';

/**
 * Plan files and test variants. Tests run from `dist/test/`, so plan files are found relative
 * to this module (`dist/test/support/` -> the repository root).
 */
export function planFile(name: 'reference' | 'unilevel' | 'binary'): string {
  return fileURLToPath(new URL(`../../../plans/${name}.json`, import.meta.url));
}

export function referencePlan(): Plan {
  return loadPlan(planFile('reference'));
}

/** A copy of the reference plan changed by `edit`, validated again with `parsePlan`. */
export function planWith(edit: (plan: Plan) => void, base: Plan = referencePlan()): Plan {
  const copy = structuredClone(base);
  edit(copy);
  return parsePlan(copy, 'test plan');
}

/** Switches every component off; a test then switches on what it looks at. */
export function allOff(plan: Plan): void {
  plan.unilevel.enabled = false;
  plan.fastStart.enabled = false;
  plan.binary.enabled = false;
  plan.matching.enabled = false;
  plan.rankAdvancement.enabled = false;
  plan.pool.enabled = false;
  plan.incentive.enabled = false;
}

/**
 * Ranks that depend on `pv` alone (rank r needs r * 100 pv, no gv, no legs), so a test can
 * put a distributor at any paid-as rank with one order. Levels, caps and bonuses stay those
 * of the reference plan.
 */
export function pvRanks(plan: Plan): void {
  plan.ranks.forEach((rank, index) => {
    rank.pv = index * 100;
    rank.gv = 0;
    rank.legs = 0;
  });
}
