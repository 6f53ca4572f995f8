/**
 * Period close timing (SPEC 3.6: binary pairing in id order, matching on binary lines,
 * leadership pool, resets) on a full network: the engine is built through the generated
 * file's first period (engine-network.ts, synchronous=FULL, the replay's batch size), so the
 * close sees the period's real volumes, activity and ranks; then the close event is
 * submitted alone and timed two ways:
 *
 * - compute: `engine.phaseSeconds.close`, the close itself on the sequencer thread;
 * - submit to durable: the whole `submit` of the close event, its lines committed.
 *
 * The target (< 2 s at 1M distributors) is judged on submit to durable, which is what an
 * operator waits for. With 2+ workers binary pairing runs in ranges over the Piscina pool
 * (docs/pipeline.md); the sort, the leg volume sums, matching and pool shares are serial.
 *
 *   node dist/bench/period-close.bench.js [--distributors N] [--orders M] [--workers W]
 *     [--seed S]        (defaults: 1M distributors, 5M orders in the file, 2 workers, seed 1)
 */
import { performance } from 'node:perf_hooks';

import { SLOTS_PER_TASK_MIN } from '../src/engine/period-close.js';
import { buildEngineNetwork } from './engine-network.js';
import {
  formatCount,
  intFlag,
  machineInfo,
  parseBenchFlags,
  printMachine,
  printTargets,
  round,
  writeResults,
  type TargetRow,
} from './support.js';

const CLOSE_MS_MAX = 2_000;
const REPLAY_BATCH = 16_384;

async function main(): Promise<void> {
  const flags = parseBenchFlags(process.argv.slice(2), [
    'distributors',
    'orders',
    'workers',
    'seed',
  ]);
  const params = {
    distributors: intFlag(flags, 'distributors', 1_000_000, 1),
    orders: intFlag(flags, 'orders', 5_000_000),
    workers: intFlag(flags, 'workers', 2),
    seed: intFlag(flags, 'seed', 1),
  };
  const machine = machineInfo();
  printMachine(machine);
  console.error('building the engine state through its first period (synchronous=FULL) ...');
  const network = await buildEngineNetwork({
    ...params,
    batchSize: REPLAY_BATCH,
    synchronous: 'FULL',
    tailLinesMax: 0,
  });
  const engine = network.engine;
  const count = engine.state.count;
  const periodOrders = engine.state.orders.count;
  const activeCount = countActive(engine.state);
  let computeMs: number;
  let submitMs: number;
  try {
    const closeBefore = engine.phaseSeconds.close;
    const started = performance.now();
    const [result] = await engine.submit([network.closeLine]);
    submitMs = performance.now() - started;
    computeMs = (engine.phaseSeconds.close - closeBefore) * 1000;
    if (result?.status !== 'accepted') throw new Error(`close not accepted: ${String(result)}`);
  } finally {
    await network.dispose();
  }
  // The engine splits a close only into ranges of SLOTS_PER_TASK_MIN slots or more.
  const parallel = params.workers >= 2 && count >= 2 * SLOTS_PER_TASK_MIN;
  const rows: TargetRow[] = [
    row('distributors', formatCount(count)),
    row('active this period', formatCount(activeCount)),
    row('orders in the period', formatCount(periodOrders)),
    row('close compute (sequencer thread + pool)', `${formatCount(computeMs)} ms`),
    {
      figure: 'period close, submit to durable',
      value: `${formatCount(submitMs)} ms`,
      target: `< ${formatCount(CLOSE_MS_MAX)} ms (at 1M)`,
      ok: submitMs < CLOSE_MS_MAX,
    },
    row(
      'parallel ranges over the Piscina pool',
      parallel ? `yes (${params.workers} workers)` : 'no',
    ),
  ];
  console.log(`\nperiod close: ${formatCount(count)} distributors`);
  printTargets(rows);
  const file = writeResults(`period-close-d${params.distributors}`, {
    params,
    loadAverageAtStart: machine.loadAverage,
    buildMs: Math.round(network.buildMs),
    distributors: count,
    activeCount,
    periodOrders,
    computeMs: round(computeMs, 1),
    submitMs: round(submitMs, 1),
    parallel,
    table: rows,
  });
  console.log(`results: ${file}`);
}

function countActive(state: { count: number; isActive(slot: number): boolean }): number {
  let active = 0;
  for (let slot = 0; slot < state.count; slot++) if (state.isActive(slot)) active++;
  return active;
}

function row(figure: string, value: string): TargetRow {
  return { figure, value, target: '', ok: null };
}

await main();
