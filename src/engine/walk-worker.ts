import { workerData } from 'piscina';
import { parsePlan } from '../plan/plan.js';
import { compilePlan } from './compiled-plan.js';
import { walkOrders } from './walk.js';
import { WalkViewCache, type WalkTask } from './walk-task.js';

/**
 * Piscina worker: walks one range of a batch's orders (docs/pipeline.md, phase 2). The plan
 * arrives once in workerData; each task only names shared buffers and an index range.
 */
const plan = compilePlan(parsePlan((workerData as { plan: unknown }).plan, 'worker plan'));
const viewCache = new WalkViewCache(plan);

export default function walk(task: WalkTask): number {
  walkOrders(viewCache.contextFor(task), task.fromIndex, task.toIndex);
  return task.toIndex - task.fromIndex;
}
