/**
 * Product target (b): 10M distributors fit in 1.5 GB of resident memory.
 *
 * Compares three builds of the same N distributors, each in its own child process
 * (memory-probe.ts, run with --expose-gc) so each RSS is that build's alone:
 *   state      the shared distributor table and id index only, grown as the engine grows them
 *   engine     the real path: N generated enrollments through Engine.submit, committed to
 *              SQLite (synchronous=FULL), walk pool included
 * The target is judged on the engine's peak (VmHWM): memory needed once is memory needed.
 *
 *   node dist/bench/memory.bench.js [--distributors N] [--modes state,engine]
 *     [--workers W] [--batch B] [--seed S] [--keep]      (default: 10M, both modes)
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

import { ensureEventFile, type EventFile } from './event-file.js';
import { removeReplayFiles } from './replay-child.js';
import {
  checkChild,
  databaseBytes,
  formatBytes,
  formatCount,
  intFlag,
  KIB,
  lastJsonLine,
  machineInfo,
  parseBenchFlags,
  printMachine,
  printTargets,
  round,
  runNodeChild,
  stringFlag,
  WORK_DIR,
  writeResults,
  type TargetRow,
} from './support.js';

/** 1.5 GB, decimal, the stricter reading would be GiB: we take the smaller. */
const RESIDENT_BYTES_MAX = 1.5e9;
const TARGET_DISTRIBUTORS = 10_000_000;
const MODES = ['state', 'engine'] as const;
const PROBE = fileURLToPath(new URL('./memory-probe.js', import.meta.url));

type Mode = (typeof MODES)[number];

interface Params {
  readonly distributors: number;
  readonly modes: readonly Mode[];
  readonly workers: number;
  readonly batch: number;
  readonly seed: number;
  readonly keep: boolean;
}

function readParams(args: readonly string[]): Params {
  const flags = parseBenchFlags(
    args,
    ['distributors', 'modes', 'workers', 'batch', 'seed'],
    ['keep'],
  );
  const modes = stringFlag(flags, 'modes', MODES.join(',')).split(',');
  for (const mode of modes) {
    if (!(MODES as readonly string[]).includes(mode)) throw new Error(`unknown mode ${mode}`);
  }
  return {
    distributors: intFlag(flags, 'distributors', TARGET_DISTRIBUTORS, 1),
    modes: modes as Mode[],
    workers: intFlag(flags, 'workers', 2),
    batch: intFlag(flags, 'batch', 4096, 1),
    seed: intFlag(flags, 'seed', 1),
    keep: flags['keep'] === true,
  };
}

interface Probe {
  readonly mode: Mode;
  readonly wallMs: number;
  readonly peakRssKiB: number;
  readonly result: Record<string, unknown>;
}

async function probe(params: Params, mode: Mode, events: EventFile | null): Promise<Probe> {
  console.error(`memory probe: mode ${mode}, ${params.distributors} distributors ...`);
  const args = ['--mode', mode, '--distributors', String(params.distributors)];
  if (events !== null) {
    args.push('--events', events.file, '--db', dbFileFor(params));
    args.push('--workers', String(params.workers), '--batch', String(params.batch));
    args.push('--capacity', String(params.distributors));
  }
  const run = await runNodeChild(['--expose-gc'], PROBE, args);
  checkChild(run, `memory probe (${mode})`);
  const result = lastJsonLine(run.stdout);
  if (result === undefined) throw new Error(`no result line from memory probe:\n${run.stdout}`);
  return { mode, wallMs: run.wallMs, peakRssKiB: run.peakRssKiB, result };
}

function dbFileFor(params: Params): string {
  return path.join(WORK_DIR, `memory-d${params.distributors}-s${params.seed}.db`);
}

function num(probe: Probe, name: string): number {
  const value = probe.result[name];
  return typeof value === 'number' ? value : Number.NaN;
}

function rowsFor(probe: Probe, scaleToTarget: number): TargetRow[] {
  const peakBytes = probe.peakRssKiB * KIB;
  const tables = num(probe, 'distributorTableBytes') + num(probe, 'idIndexBytes');
  const judged = probe.mode === 'engine';
  const scaled =
    scaleToTarget === 1
      ? ''
      : ` (x${round(scaleToTarget, 2)} to 10M: ` + `${formatBytes(peakBytes * scaleToTarget)})`;
  return [
    ctx(`${probe.mode}: distributors built`, formatCount(num(probe, 'count'))),
    ctx(`${probe.mode}: build time`, `${round(num(probe, 'buildMs') / 1000, 1)} s`),
    ctx(`${probe.mode}: RSS after build + GC`, formatBytes(num(probe, 'rssKiB') * KIB)),
    {
      figure: `${probe.mode}: peak RSS (VmHWM)`,
      value: `${formatBytes(peakBytes)}${scaled}`,
      target: judged ? `<= 1.5 GB (${formatBytes(RESIDENT_BYTES_MAX)}) at 10M` : '',
      // Below 10M, judged on the linear estimate (rough: the tables grow by doubling).
      ok: judged ? peakBytes * scaleToTarget <= RESIDENT_BYTES_MAX : null,
    },
    ctx(`${probe.mode}: V8 heap used`, formatBytes(num(probe, 'heapUsedBytes'))),
    ctx(`${probe.mode}: shared tables allocated`, formatBytes(tables)),
  ];
}

function ctx(figure: string, value: string): TargetRow {
  return { figure, value, target: '', ok: null };
}

async function main(): Promise<void> {
  const params = readParams(process.argv.slice(2));
  const machine = machineInfo();
  printMachine(machine);
  fs.mkdirSync(WORK_DIR, { recursive: true });
  const needsEvents = params.modes.includes('engine');
  const events = needsEvents ? ensureEventFile({ ...params, orders: 0 }) : null;
  const probes: Probe[] = [];
  for (const mode of params.modes) {
    if (mode === 'engine') removeReplayFiles(dbFileFor(params));
    probes.push(await probe(params, mode, mode === 'engine' ? events : null));
  }
  const dbBytes = needsEvents ? databaseBytes(dbFileFor(params)) : 0;
  if (needsEvents && !params.keep) removeReplayFiles(dbFileFor(params));
  const scale = TARGET_DISTRIBUTORS / params.distributors;
  const rows: TargetRow[] = [];
  if (events !== null) {
    const seconds = round(events.generateMs / 1000, 1);
    rows.push(ctx('enrollment file generation (0 if cached)', `${seconds} s`));
  }
  for (const each of probes) rows.push(...rowsFor(each, scale));
  if (needsEvents) rows.push(ctx('engine: database size', formatBytes(dbBytes)));
  console.log(`\nmemory: ${params.distributors} distributors`);
  printTargets(rows);
  const allModes = params.modes.length === MODES.length;
  const suffix = allModes ? '' : `-${params.modes.join('-')}`;
  const file = writeResults(`memory-d${params.distributors}${suffix}`, {
    params,
    loadAverageAtStart: machine.loadAverage,
    generation: events === null ? null : { ms: Math.round(events.generateMs), ...events.stats },
    probes: probes.map((each) => ({
      mode: each.mode,
      wallMs: Math.round(each.wallMs),
      peakRssBytes: each.peakRssKiB * KIB,
      ...each.result,
    })),
    engineDbBytes: dbBytes,
    residentBytesMax: RESIDENT_BYTES_MAX,
    table: rows,
  });
  console.log(`results: ${file}`);
}

await main();
