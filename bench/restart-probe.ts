/**
 * Restart-to-ready probe, run as a child by replay.bench.ts: opens the engine on an existing
 * database (which recovers: loads the log and replays it through the pipeline without writing)
 * and prints one JSON line with the milliseconds until `Engine.open` resolved, the distributor
 * count and the last seq, then closes.
 *
 *   node dist/bench/restart-probe.js --db FILE [--plan FILE] [--workers N] [--batch N]
 */
import { performance } from 'node:perf_hooks';

import { Engine } from '../src/engine/engine.js';
import { loadPlan } from '../src/plan/plan.js';
import { intFlag, parseBenchFlags, procMemory, REFERENCE_PLAN, stringFlag } from './support.js';

async function main(): Promise<void> {
  const flags = parseBenchFlags(process.argv.slice(2), ['db', 'plan', 'workers', 'batch']);
  const dbFile = stringFlag(flags, 'db', '');
  if (dbFile === '') throw new Error('--db is required');
  const plan = loadPlan(stringFlag(flags, 'plan', REFERENCE_PLAN));
  const workers = intFlag(flags, 'workers', 2);
  const batchSize = intFlag(flags, 'batch', 4096, 1);
  const started = performance.now();
  const engine = await Engine.open({ plan, dbFile, workers, batchSize });
  const openMs = performance.now() - started;
  const memory = procMemory('self');
  const result = {
    openMs: Math.round(openMs),
    count: engine.state.count,
    lastSeq: engine.state.lastSeq,
    rssKiB: memory?.rssKiB ?? 0,
  };
  await engine.close();
  console.log(JSON.stringify(result));
}

await main();
