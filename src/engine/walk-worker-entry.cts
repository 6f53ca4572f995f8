/**
 * Piscina's worker entry, in CommonJS on purpose: Piscina first `require`s the worker file,
 * and on Node versions with require(esm) enabled, requiring an ES module graph and then
 * importing it again intermittently trips a Node internal assertion. This file is plain
 * CommonJS, so that `require` always succeeds and the ES module is only ever `import`ed.
 */
import type { WorkerTask } from './walk-task.js';

const walkModule = import('./walk-worker.js');

module.exports = async function run(task: WorkerTask): Promise<number> {
  const { default: runTask } = await walkModule;
  return runTask(task);
};
