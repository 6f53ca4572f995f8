/**
 * Scaling curves, each written to bench/results/ for charts.ts:
 *
 * - `workers`: replay throughput (CLI child, durable) against walk worker count, one network.
 *   Results: scaling-workers-d<N>-o<M>.json.
 * - `sizes`: replay throughput against network size, same order count, same worker count; the
 *   growth target is judged from 1M to 10M distributors on orders/s (the file's orders over the
 *   whole replay's seconds): events/s would flatter the big network, whose file holds 10M
 *   cheap enrollments besides the same 5M orders. Results: scaling-sizes-o<M>.json.
 * - `latency`: submit-to-durable latency against offered load, in process: the engine is
 *   built through the file's first period (engine-network.ts, synchronous=FULL, the server's
 *   batch size), then the following events are offered open-loop at each rate (event i is
 *   due at start + i / rate; the clock is never held back by a slow answer), one `accept` per
 *   request of the events due, answered when `durable` resolves. An event's latency runs
 *   from when it was due to its request's durable, so queueing counts. Results:
 *   scaling-latency-d<N>.json.
 *
 * Replays run one after another (never two at once on a 2-core machine), each with the file's
 * counts as its capacity hints (replay-child.ts `capacityFor`), as an operator would size it.
 *
 *   node dist/bench/scaling.bench.js [--mode workers|sizes|latency|all]
 *     [--distributors N] [--orders M] [--sizes A,B,C] [--workers-list 1,2,4] [--workers W]
 *     [--batch B] [--rates R1,R2,...] [--seconds S] [--seed S]
 *   defaults: all; 1M distributors; 5M orders; sizes 100k,1M,10M; workers 1,2,4 (2 for sizes
 *   and latency); replay batch 32768 (the CLI's); rates 10k,25k,50k,75k,100k; 5 s per rate
 */
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

import type { Engine } from '../src/engine/engine.js';
import type { EngineCapacity } from '../src/engine/state.js';
import { buildEngineNetwork } from './engine-network.js';
import { ensureEventFile } from './event-file.js';
import { capacityFor, removeReplayFiles, replayInChild, type Replay } from './replay-child.js';
import {
  formatBytes,
  formatCount,
  intFlag,
  KIB,
  machineInfo,
  parseBenchFlags,
  printMachine,
  printTargets,
  round,
  stringFlag,
  WORK_DIR,
  writeResults,
  type FlagValues,
  type TargetRow,
} from './support.js';

const GROWTH_MAX = 2;
/** The server's default batch (config.ts): latency is a server figure. */
const SERVER_BATCH = 4096;
/** Most events one request carries when the engine has fallen behind (a client's batch). */
const REQUEST_EVENTS_MAX = 4096;

interface Params {
  readonly mode: string;
  readonly distributors: number;
  readonly orders: number;
  readonly sizes: readonly number[];
  readonly workersList: readonly number[];
  readonly workers: number;
  readonly batch: number;
  readonly rates: readonly number[];
  readonly seconds: number;
  readonly seed: number;
}

function listFlag(flags: FlagValues, name: string, fallback: readonly number[]): number[] {
  const value = stringFlag(flags, name, '');
  if (value === '') return [...fallback];
  return value.split(',').map((item) => intFlag({ [name]: item }, name, 0, 0));
}

function readParams(args: readonly string[]): Params {
  const flags = parseBenchFlags(args, [
    ...['mode', 'distributors', 'orders', 'sizes', 'workers-list', 'workers'],
    ...['batch', 'rates', 'seconds', 'seed'],
  ]);
  const mode = stringFlag(flags, 'mode', 'all');
  if (!['workers', 'sizes', 'latency', 'all'].includes(mode)) throw new Error(`bad --mode ${mode}`);
  return {
    mode,
    distributors: intFlag(flags, 'distributors', 1_000_000, 1),
    orders: intFlag(flags, 'orders', 5_000_000),
    sizes: listFlag(flags, 'sizes', [100_000, 1_000_000, 10_000_000]),
    workersList: listFlag(flags, 'workers-list', [1, 2, 4]),
    workers: intFlag(flags, 'workers', 2),
    batch: intFlag(flags, 'batch', 32_768, 1),
    rates: listFlag(flags, 'rates', [10_000, 25_000, 50_000, 75_000, 100_000]),
    seconds: intFlag(flags, 'seconds', 5, 1),
    seed: intFlag(flags, 'seed', 1),
  };
}

interface ReplayPoint {
  readonly distributors: number;
  readonly orders: number;
  readonly workers: number;
  readonly batch: number;
  /** The initial table sizes the replay was given (the file's counts). */
  readonly capacity: EngineCapacity;
  readonly events: number;
  readonly eventsPerSecond: number;
  /** The file's orders over the whole replay's seconds (enrollments' time included). */
  readonly ordersPerSecond: number;
  readonly seconds: number;
  readonly phaseSeconds: unknown;
  readonly peakRssBytes: number;
  readonly dbBytes: number;
}

async function replayPoint(
  params: Params,
  distributors: number,
  workers: number,
): Promise<ReplayPoint> {
  const events = ensureEventFile({ distributors, orders: params.orders, seed: params.seed });
  const dbFile = path.join(WORK_DIR, `scaling-d${distributors}-w${workers}.db`);
  const capacity = capacityFor(events.stats);
  let replayed: Replay;
  try {
    replayed = await replayInChild({
      eventsFile: events.file,
      dbFile,
      workers,
      batch: params.batch,
      capacity,
    });
  } finally {
    removeReplayFiles(dbFile);
  }
  const seconds = Number(replayed.summary['seconds']);
  const point = {
    distributors,
    orders: params.orders,
    workers,
    batch: params.batch,
    capacity,
    events: events.stats.events,
    eventsPerSecond: replayed.eventsPerSecond,
    ordersPerSecond: Math.round(events.stats.orders / seconds),
    seconds,
    phaseSeconds: replayed.summary['phaseSeconds'],
    peakRssBytes: replayed.run.peakRssKiB * KIB,
    dbBytes: replayed.dbBytes,
  };
  const rss = formatBytes(point.peakRssBytes);
  console.error(`  -> ${formatCount(point.eventsPerSecond)} events/s, peak RSS ${rss}`);
  return point;
}

async function workersCurve(params: Params): Promise<void> {
  const started = machineInfo();
  const points: ReplayPoint[] = [];
  for (const workers of params.workersList) {
    points.push(await replayPoint(params, params.distributors, workers));
  }
  const rows = points.map((point) =>
    row(`workers ${point.workers}`, `${formatCount(point.eventsPerSecond)} events/s`),
  );
  console.log(`\nthroughput vs workers: ${formatCount(params.distributors)} distributors`);
  printTargets(rows);
  const name = `scaling-workers-d${params.distributors}-o${params.orders}`;
  const file = writeResults(name, {
    params,
    loadAverageAtStart: started.loadAverage,
    points,
    table: rows,
  });
  console.log(`results: ${file}`);
}

/** Orders/s at 1M distributors over orders/s at 10M (see the file header). */
function growthRow(points: readonly ReplayPoint[]): TargetRow[] {
  const at = (size: number) => points.find((point) => point.distributors === size);
  const small = at(1_000_000);
  const large = at(10_000_000);
  if (small === undefined || large === undefined) return [];
  const cost = small.ordersPerSecond / large.ordersPerSecond;
  return [
    {
      figure: 'orders/s cost 1M -> 10M distributors',
      value: `${round(cost, 2)}x`,
      target: `<= ${GROWTH_MAX}x`,
      ok: cost <= GROWTH_MAX,
    },
  ];
}

async function sizesCurve(params: Params): Promise<void> {
  const started = machineInfo();
  const points: ReplayPoint[] = [];
  for (const size of params.sizes) points.push(await replayPoint(params, size, params.workers));
  const rows = [
    ...points.map((point) =>
      row(
        `${formatCount(point.distributors)} distributors`,
        `${formatCount(point.eventsPerSecond)} events/s, ` +
          `${formatCount(point.ordersPerSecond)} orders/s, peak RSS ` +
          `${formatBytes(point.peakRssBytes)}, db ${formatBytes(point.dbBytes)}`,
      ),
    ),
    ...growthRow(points),
  ];
  console.log(`\nthroughput vs network size: ${formatCount(params.orders)} orders`);
  printTargets(rows);
  const file = writeResults(`scaling-sizes-o${params.orders}`, {
    params,
    loadAverageAtStart: started.loadAverage,
    points,
    table: rows,
  });
  console.log(`results: ${file}`);
}

interface LatencyPoint {
  readonly offeredPerSecond: number;
  readonly events: number;
  readonly achievedPerSecond: number;
  readonly requests: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

/** Offers `lines` at `rate` events/s, open loop (see the file header). */
async function offerLoad(engine: Engine, lines: readonly string[], rate: number) {
  const count = lines.length;
  const latencyMs = new Float64Array(count);
  const durables: Promise<void>[] = [];
  const started = performance.now();
  const dueAt = (index: number) => started + (index * 1000) / rate;
  let sent = 0;
  let lastDurableAt = started;
  while (sent < count) {
    const due = Math.min(count, Math.floor(((performance.now() - started) * rate) / 1000) + 1);
    if (due <= sent) {
      await sleep(1);
      continue;
    }
    const from = sent;
    const to = Math.min(due, from + REQUEST_EVENTS_MAX);
    sent = to;
    const accepted = await engine.accept(lines.slice(from, to));
    const done = accepted.durable.then(() => {
      const now = performance.now();
      lastDurableAt = Math.max(lastDurableAt, now);
      for (let index = from; index < to; index++) latencyMs[index] = now - dueAt(index);
    });
    durables.push(done);
  }
  await Promise.all(durables);
  const sorted = latencyMs.sort();
  const quantile = (q: number) => round(sorted[Math.min(count - 1, Math.floor(q * count))]!, 2);
  const point: LatencyPoint = {
    offeredPerSecond: rate,
    events: count,
    achievedPerSecond: Math.round(count / ((lastDurableAt - started) / 1000)),
    requests: durables.length,
    p50Ms: quantile(0.5),
    p90Ms: quantile(0.9),
    p99Ms: quantile(0.99),
    maxMs: round(sorted[count - 1]!, 2),
  };
  return point;
}

async function latencyCurve(params: Params): Promise<void> {
  const started = machineInfo();
  const needed = params.rates.reduce((sum, rate) => sum + rate * params.seconds, 0);
  console.error('building the engine state through its first period (synchronous=FULL) ...');
  const network = await buildEngineNetwork({
    distributors: params.distributors,
    orders: params.orders,
    seed: params.seed,
    workers: params.workers,
    batchSize: SERVER_BATCH,
    synchronous: 'FULL',
    tailLinesMax: needed,
  });
  const points: LatencyPoint[] = [];
  try {
    let offset = 0;
    for (const rate of params.rates) {
      const lines = network.tail.slice(offset, offset + rate * params.seconds);
      if (lines.length === 0) break;
      offset += lines.length;
      console.error(`offering ${formatCount(lines.length)} events at ${formatCount(rate)}/s ...`);
      points.push(await offerLoad(network.engine, lines, rate));
    }
  } finally {
    await network.dispose();
  }
  console.log(`\nlatency vs offered load: ${formatCount(params.distributors)} distributors`);
  console.table(points);
  const file = writeResults(`scaling-latency-d${params.distributors}`, {
    params: { ...params, batch: SERVER_BATCH },
    loadAverageAtStart: started.loadAverage,
    buildMs: Math.round(network.buildMs),
    points,
  });
  console.log(`results: ${file}`);
}

function row(figure: string, value: string): TargetRow {
  return { figure, value, target: '', ok: null };
}

async function main(): Promise<void> {
  const params = readParams(process.argv.slice(2));
  printMachine(machineInfo());
  if (params.mode === 'workers' || params.mode === 'all') await workersCurve(params);
  if (params.mode === 'sizes' || params.mode === 'all') await sizesCurve(params);
  if (params.mode === 'latency' || params.mode === 'all') await latencyCurve(params);
}

await main();
