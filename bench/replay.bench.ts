/**
 * Product targets (a) and (c): end-to-end durable replay throughput and restart-to-ready.
 *
 * 1. Generates the event file (cached under WORK_DIR, keyed by its parameters, so a rerun
 *    skips it; the generation time is printed apart).
 * 2. Replays it in a child process through the real CLI (`upline replay`, synchronous=FULL,
 *    every batch committed before it is answered), so the resident memory measured is the
 *    engine's own: wall time, the CLI's events/s, peak RSS (VmHWM), database size. The file's
 *    counts are its capacity hints (replay-child.ts `capacityFor`), as an operator would size
 *    it, so the tables are not grown by doubling during the run.
 * 3. Restart: a second child opens the engine on the same database (restart-probe.ts) and
 *    reports the milliseconds until `Engine.open` resolved. The page cache is warm (the file
 *    was just written), as after a process crash; a cold boot would add the disk reads.
 *
 * 4. Baseline (baseline.ts): the status-quo design (adjacency list in SQLite, recursive CTE,
 *    one transaction per order) on the same file, in the same run, for a time budget right
 *    before the replay and again right after it (never during); upline's orders/s (the file's
 *    orders over the whole replay's seconds, enrollments included, so conservative) over the
 *    mean of the two orders/s is the speed-up, printed next to the 30x target. Two samples
 *    around the replay, because a neighbour's load that changes during the run moves the
 *    fsync-bound baseline a lot (both are printed: their spread shows how much).
 *
 * The replay's per-phase seconds (the CLI summary's phaseSeconds) are printed and kept.
 *
 * Not a tinybench file: each figure is one long run, compared with its product target.
 *
 *   node dist/bench/replay.bench.js [--distributors N] [--orders M] [--workers W] [--batch B]
 *     [--seed S] [--baseline-seconds S] [--keep]
 *     (defaults: 100k distributors, 500k orders, 2 workers, batch 4096, seed 1, baseline 10 s
 *     before and 10 s after; --baseline-seconds 0 skips the baseline)
 *   full size: --distributors 1000000 --orders 5000000
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

import {
  SHARED_BYTES_PER_DISTRIBUTOR_MAX,
  sharedBytesPerDistributor,
} from '../native-layout/budget.js';
import { runBaseline, type BaselineResult } from './baseline.js';
import { capacityFor, removeReplayFiles, replayInChild, type Replay } from './replay-child.js';
import { ensureEventFile, type EventFile } from './event-file.js';
import {
  formatBytes,
  formatCount,
  intFlag,
  KIB,
  lastJsonLine,
  machineInfo,
  numberField,
  parseBenchFlags,
  printMachine,
  printTargets,
  REFERENCE_PLAN,
  removeDatabase,
  round,
  runNodeChild,
  WORK_DIR,
  writeResults,
  type ChildRun,
  type TargetRow,
} from './support.js';

const EVENTS_PER_SECOND_MIN = 100_000;
const RESTART_MS_MAX = 5_000;
const BASELINE_RATIO_MIN = 30;
const RESTART_PROBE = fileURLToPath(new URL('./restart-probe.js', import.meta.url));

interface Params {
  readonly distributors: number;
  readonly orders: number;
  readonly workers: number;
  readonly batch: number;
  readonly seed: number;
  readonly baselineSeconds: number;
  readonly keep: boolean;
}

function readParams(args: readonly string[]): Params {
  const flags = parseBenchFlags(
    args,
    ['distributors', 'orders', 'workers', 'batch', 'seed', 'baseline-seconds'],
    ['keep'],
  );
  return {
    distributors: intFlag(flags, 'distributors', 100_000, 1),
    orders: intFlag(flags, 'orders', 500_000),
    workers: intFlag(flags, 'workers', 2),
    batch: intFlag(flags, 'batch', 4096, 1),
    seed: intFlag(flags, 'seed', 1),
    baselineSeconds: intFlag(flags, 'baseline-seconds', 10),
    keep: flags['keep'] === true,
  };
}

interface Restart {
  readonly run: ChildRun;
  readonly openMs: number;
  readonly count: number;
  readonly lastSeq: number;
  /** Set when the probe failed (recovery threw): the figure is then missing, not fast. */
  readonly error: string | null;
}

async function restart(params: Params, dbFile: string): Promise<Restart> {
  console.error('restart probe: Engine.open on the replayed database ...');
  const run = await runNodeChild([], RESTART_PROBE, [
    ...['--db', dbFile, '--plan', REFERENCE_PLAN],
    ...['--workers', String(params.workers), '--batch', String(params.batch)],
  ]);
  if (run.exitCode !== 0) {
    const error = /^\w*Error: .*$/m.exec(run.stderr)?.[0] ?? `exit code ${run.exitCode}`;
    return { run, openMs: Number.NaN, count: 0, lastSeq: 0, error };
  }
  const probe = lastJsonLine(run.stdout);
  return {
    run,
    openMs: numberField(probe, 'openMs'),
    count: numberField(probe, 'count'),
    lastSeq: numberField(probe, 'lastSeq'),
    error: null,
  };
}

function restartRow(restarted: Restart): TargetRow {
  const target = `< ${formatCount(RESTART_MS_MAX)} ms (at 1M / 5M)`;
  if (restarted.error !== null) {
    return { figure: 'restart to ready', value: `FAILED: ${restarted.error}`, target, ok: false };
  }
  return {
    figure: `restart to ready (${formatCount(restarted.count)} distributors)`,
    value: `${formatCount(restarted.openMs)} ms`,
    target,
    ok: restarted.openMs < RESTART_MS_MAX,
  };
}

/** The status quo on the same file, before or after upline's replay (never during it). */
function baseline(params: Params, events: EventFile, dbFile: string): BaselineResult | null {
  if (params.baselineSeconds === 0) return null;
  removeDatabase(dbFile);
  console.error(`baseline: adjacency list + recursive CTE, ${params.baselineSeconds} s budget ...`);
  const result = runBaseline(events.file, dbFile, params.baselineSeconds * 1000);
  removeDatabase(dbFile);
  console.error(`  -> ${formatCount(result.ordersPerSecond)} orders/s`);
  return result;
}

interface Baselines {
  readonly before: BaselineResult;
  readonly after: BaselineResult;
  readonly ordersPerSecond: number;
  /** The file's orders over the whole replay's seconds (enrollments and all): conservative. */
  readonly uplineOrdersPerSecond: number;
  /** Orders/s over orders/s: the same unit on both sides. */
  readonly ratio: number;
  /** upline's events/s over the baseline's orders/s, kept for comparison with older runs. */
  readonly eventsRatio: number;
}

function baselines(
  replayed: Replay,
  orders: number,
  before: BaselineResult | null,
  after: BaselineResult | null,
): Baselines | null {
  if (before === null || after === null) return null;
  const ordersPerSecond = Math.round((before.ordersPerSecond + after.ordersPerSecond) / 2);
  const seconds = Number(replayed.summary['seconds']);
  assert(seconds > 0, 'the replay summary has its seconds');
  const uplineOrdersPerSecond = Math.round(orders / seconds);
  return {
    before,
    after,
    ordersPerSecond,
    uplineOrdersPerSecond,
    ratio: uplineOrdersPerSecond / ordersPerSecond,
    eventsRatio: replayed.eventsPerSecond / ordersPerSecond,
  };
}

function baselineRows(result: Baselines | null): TargetRow[] {
  if (result === null) return [];
  const { before, after } = result;
  return [
    row('baseline orders (1 txn each, FULL) before / after', `${before.orders} / ${after.orders}`),
    row(
      'baseline throughput before / after / mean',
      `${formatCount(before.ordersPerSecond)} / ${formatCount(after.ordersPerSecond)} / ` +
        `${formatCount(result.ordersPerSecond)} orders/s`,
    ),
    row(
      "upline orders/s (the file's orders / the whole replay)",
      formatCount(result.uplineOrdersPerSecond),
    ),
    {
      figure: 'upline orders/s / baseline orders/s (mean)',
      value: `${round(result.ratio, 1)}x`,
      target: `>= ${BASELINE_RATIO_MIN}x`,
      ok: result.ratio >= BASELINE_RATIO_MIN,
    },
    row('(upline events/s / baseline orders/s)', `${round(result.eventsRatio, 1)}x`),
  ];
}

/** The replay's phases (seconds, and share of the replay's wall time). */
function phaseRows(replayed: Replay): TargetRow[] {
  const phases = replayed.summary['phaseSeconds'];
  if (typeof phases !== 'object' || phases === null) return [];
  const seconds = numberField(replayed.summary, 'seconds');
  return Object.entries(phases as Record<string, number>).map(([phase, spent]) =>
    row(`  phase ${phase}`, `${round(spent, 1)} s (${Math.round((100 * spent) / seconds)}%)`),
  );
}

function targetRows(events: EventFile, replayed: Replay, restarted: Restart): TargetRow[] {
  const perDistributor = sharedBytesPerDistributor();
  const wallSeconds = replayed.run.wallMs / 1000;
  return [
    row('generation time (cached if 0)', `${round(events.generateMs / 1000, 1)} s`),
    row('events in file', formatCount(events.stats.events)),
    row('replay wall time (child, startup incl.)', `${round(wallSeconds, 1)} s`),
    {
      figure: 'replay throughput (CLI summary)',
      value: `${formatCount(replayed.eventsPerSecond)} events/s`,
      target: `>= ${formatCount(EVENTS_PER_SECOND_MIN)} events/s`,
      ok: replayed.eventsPerSecond >= EVENTS_PER_SECOND_MIN,
    },
    row('durability', 'synchronous=FULL, answer after commit (CLI default)'),
    ...phaseRows(replayed),
    row('replay peak RSS (VmHWM)', formatBytes(replayed.run.peakRssKiB * KIB)),
    row(
      'peak RSS per distributor (whole process)',
      `${Math.round((replayed.run.peakRssKiB * KIB) / events.stats.enrollments)} B`,
    ),
    row('database size (db + wal + shm)', formatBytes(replayed.dbBytes)),
    {
      figure: 'shared bytes per distributor (layout)',
      value: `${perDistributor} B`,
      target: `<= ${SHARED_BYTES_PER_DISTRIBUTOR_MAX} B`,
      ok: perDistributor <= SHARED_BYTES_PER_DISTRIBUTOR_MAX,
    },
    restartRow(restarted),
    row('restart peak RSS (VmHWM)', formatBytes(restarted.run.peakRssKiB * KIB)),
  ];
}

function row(figure: string, value: string): TargetRow {
  return { figure, value, target: '', ok: null };
}

async function main(): Promise<void> {
  const params = readParams(process.argv.slice(2));
  const machine = machineInfo();
  printMachine(machine);
  fs.mkdirSync(WORK_DIR, { recursive: true });
  const events = ensureEventFile(params);
  const key = `d${params.distributors}-o${params.orders}-s${params.seed}`;
  const baselineDb = path.join(WORK_DIR, `baseline-${key}.db`);
  const baselineBefore = baseline(params, events, baselineDb);
  const dbFile = path.join(WORK_DIR, `replay-${key}-w${params.workers}-b${params.batch}.db`);
  const capacity = capacityFor(events.stats);
  const replayed = await replayInChild({ eventsFile: events.file, dbFile, ...params, capacity });
  console.error(`replay summary: ${JSON.stringify(replayed.summary)}`);
  const restarted = await restart(params, dbFile);
  if (!params.keep) removeReplayFiles(dbFile);
  const baselined = baselines(
    replayed,
    events.stats.orders,
    baselineBefore,
    baseline(params, events, baselineDb),
  );
  const rows = [...targetRows(events, replayed, restarted), ...baselineRows(baselined)];
  console.log(
    `\nreplay: ${params.distributors} distributors, ${params.orders} orders, ` +
      `workers ${params.workers}, batch ${params.batch}, seed ${params.seed}`,
  );
  printTargets(rows);
  const file = writeResults(`replay-d${params.distributors}-o${params.orders}`, {
    params,
    loadAverageAtStart: machine.loadAverage,
    generation: { ms: Math.round(events.generateMs), cached: events.cached, ...events.stats },
    replay: {
      wallMs: Math.round(replayed.run.wallMs),
      summary: replayed.summary,
      peakRssBytes: replayed.run.peakRssKiB * KIB,
      peakRssSource: replayed.run.peakRssSource,
      dbBytes: replayed.dbBytes,
      synchronous: 'FULL',
      capacity,
    },
    restart: {
      openMs: restarted.openMs,
      wallMs: Math.round(restarted.run.wallMs),
      count: restarted.count,
      lastSeq: restarted.lastSeq,
      error: restarted.error,
      peakRssBytes: restarted.run.peakRssKiB * KIB,
    },
    baseline:
      baselined === null
        ? null
        : {
            ...baselined,
            ratio: round(baselined.ratio, 2),
            eventsRatio: round(baselined.eventsRatio, 2),
          },
    sharedBytesPerDistributor: sharedBytesPerDistributor(),
    table: rows,
  });
  console.log(`results: ${file}`);
}

await main();
