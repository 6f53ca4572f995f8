import { workerData } from 'piscina';
import { parsePlan } from '../plan/plan.js';
import { compilePlan } from './compiled-plan.js';
import { walkOrders } from './walk.js';
import { WalkViewCache, type WorkerTask } from './walk-task.js';
import { closeRange } from './close-kernel.js';

/**
 * Piscina worker: walks one range of a batch's orders (docs/pipeline.md, phase 2), or runs one
 * range of a period close's per-distributor part. The plan
 * arrives once in workerData; each task only names shared buffers and an index range.
 */
const plan = compilePlan(parsePlan((workerData as { plan: unknown }).plan, 'worker plan'));
const viewCache = new WalkViewCache(plan);

/** Runs one task: a range of a batch's orders, or a range of a period close's rows. */
export default function run(task: WorkerTask): number {
  if (task.kind === 'close') {
    closeRange(viewCache.closeContextFor(task), task.figures, task.fromSlot, task.toSlot);
    return task.toSlot - task.fromSlot;
  }
  walkOrders(viewCache.contextFor(task), task.fromIndex, task.toIndex);
  return task.toIndex - task.fromIndex;
}
