/**
 * Shared helpers for the product-target benches (replay, memory, ledger-query): flags, the
 * work directory, machine info, the figure-vs-target table, results JSON, and running a child
 * process while watching its resident memory through /proc.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

/** The repository root: this file runs as dist/bench/support.js. */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CLI_MAIN = path.join(REPO_ROOT, 'dist/src/cli/main.js');
export const REFERENCE_PLAN = path.join(REPO_ROOT, 'plans/reference.json');
/** Big generated files (event files, databases) live here, never in the repository. */
export const WORK_DIR = process.env['UPLINE_BENCH_DIR'] ?? '/tmp/upline-bench';
/**
 * Where results JSON goes: bench/results of this checkout, or UPLINE_BENCH_RESULTS (to run a
 * pinned copy of the code, e.g. `git archive HEAD` built elsewhere, and keep results here).
 */
export const RESULTS_DIR =
  process.env['UPLINE_BENCH_RESULTS'] ?? path.join(REPO_ROOT, 'bench/results');
/** Preloaded into measured children (node --import) to report their exact peak RSS. */
export const HWM_PRELOAD = fileURLToPath(new URL('./hwm-preload.js', import.meta.url));
/** The line hwm-preload writes to stderr at exit. */
export const HWM_MARKER = 'UPLINE_BENCH_VMHWM_KIB=';

export const KIB = 1024;
export const MIB = 1024 * 1024;
export const GIB = 1024 * 1024 * 1024;

// ---------------------------------------------------------------------------------------------
// Flags

export type FlagValues = Record<string, string | boolean | undefined>;

export function parseBenchFlags(
  args: readonly string[],
  strings: readonly string[],
  booleans: readonly string[] = [],
): FlagValues {
  const options: Record<string, { type: 'string' | 'boolean' }> = {};
  for (const name of strings) options[name] = { type: 'string' };
  for (const name of booleans) options[name] = { type: 'boolean' };
  return parseArgs({ args: [...args], options, strict: true, allowPositionals: false }).values;
}

export function intFlag(flags: FlagValues, name: string, fallback: number, min = 0): number {
  const value = flags[name];
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (typeof value !== 'string' || !/^\d+$/.test(value) || !Number.isSafeInteger(parsed)) {
    throw new Error(`--${name} must be a non-negative integer, got ${JSON.stringify(value)}`);
  }
  if (parsed < min) throw new Error(`--${name} must be >= ${min}, got ${parsed}`);
  return parsed;
}

export function stringFlag(flags: FlagValues, name: string, fallback: string): string {
  const value = flags[name];
  return typeof value === 'string' ? value : fallback;
}

// ---------------------------------------------------------------------------------------------
// Machine, results, tables

export interface MachineInfo {
  readonly cpuModel: string;
  readonly cores: number;
  readonly totalMemoryBytes: number;
  readonly node: string;
  readonly os: string;
  readonly date: string;
  /** 1, 5 and 15 minute load averages: others may share this machine. */
  readonly loadAverage: readonly number[];
  /** The code measured: UPLINE_BENCH_REVISION, else git HEAD (+ "-dirty") of REPO_ROOT. */
  readonly revision: string;
}

function codeRevision(): string {
  const pinned = process.env['UPLINE_BENCH_REVISION'];
  if (pinned !== undefined) return pinned;
  const git = (args: string[]): string =>
    spawnSync('git', ['-C', REPO_ROOT, ...args], { encoding: 'utf8' }).stdout?.trim() ?? '';
  const head = git(['rev-parse', '--short', 'HEAD']);
  if (head === '') return 'unknown';
  const dirty = git(['status', '--porcelain', '--', 'src', 'native-layout']) !== '';
  return dirty ? `${head}-dirty` : head;
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    totalMemoryBytes: os.totalmem(),
    node: process.version,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    date: new Date().toISOString(),
    loadAverage: os.loadavg().map((load) => Math.round(load * 100) / 100),
    revision: codeRevision(),
  };
}

export function printMachine(info: MachineInfo): void {
  const memory = formatBytes(info.totalMemoryBytes);
  console.log(`${info.cpuModel} x${info.cores}, ${memory}, node ${info.node}, ${info.os}`);
  console.log(`load average ${info.loadAverage.join(' ')} at ${info.date}, code ${info.revision}`);
}

/**
 * Writes RESULTS_DIR/<name>.json (via a .tmp file and a rename) and returns its path. Its
 * `machine` is taken at the end of the run; benches add their `loadAverageAtStart`.
 */
export function writeResults(name: string, payload: Record<string, unknown>): string {
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  const file = path.join(RESULTS_DIR, `${name}.json`);
  const text = JSON.stringify({ bench: name, machine: machineInfo(), ...payload }, null, 2);
  fs.writeFileSync(`${file}.tmp`, `${text}\n`);
  fs.renameSync(`${file}.tmp`, file);
  return file;
}

export interface TargetRow {
  readonly figure: string;
  readonly value: string;
  readonly target: string;
  /** null: a figure shown for context, with no target of its own. */
  readonly ok: boolean | null;
}

export function printTargets(rows: readonly TargetRow[]): void {
  console.table(
    rows.map((row) => ({
      figure: row.figure,
      value: row.value,
      target: row.target,
      'ok?': row.ok === null ? '' : row.ok ? 'yes' : 'NO',
    })),
  );
}

export function formatBytes(bytes: number): string {
  if (bytes >= GIB) return `${(bytes / GIB).toFixed(2)} GiB`;
  if (bytes >= MIB) return `${(bytes / MIB).toFixed(1)} MiB`;
  return `${(bytes / KIB).toFixed(1)} KiB`;
}

export function formatCount(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

export function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

export function fileBytes(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}

/** The database and its WAL and shared-memory files, which belong to it. */
export function databaseBytes(dbFile: string): number {
  return fileBytes(dbFile) + fileBytes(`${dbFile}-wal`) + fileBytes(`${dbFile}-shm`);
}

export function removeDatabase(dbFile: string): void {
  for (const suffix of ['', '-wal', '-shm']) fs.rmSync(`${dbFile}${suffix}`, { force: true });
}

// ---------------------------------------------------------------------------------------------
// Resident memory of a child

export interface ProcMemory {
  readonly rssKiB: number;
  readonly hwmKiB: number;
  /** VmRSS split: anonymous (heaps, SharedArrayBuffers), file-backed (code, mmap), shmem. */
  readonly anonKiB: number;
  readonly fileKiB: number;
  readonly shmemKiB: number;
}

/** VmRSS and VmHWM (the kernel's peak RSS) of `pid`, or undefined once it is gone. */
export function procMemory(pid: number | 'self'): ProcMemory | undefined {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/status`, 'latin1');
  } catch {
    return undefined;
  }
  const field = (name: string): number => {
    const match = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text);
    return match?.[1] === undefined ? 0 : Number(match[1]);
  };
  return {
    rssKiB: field('VmRSS'),
    hwmKiB: field('VmHWM'),
    anonKiB: field('RssAnon'),
    fileKiB: field('RssFile'),
    shmemKiB: field('RssShmem'),
  };
}

export interface ChildRun {
  readonly exitCode: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly wallMs: number;
  /** The child's own VmHWM at exit (hwm-preload), else the last one polled. */
  readonly peakRssKiB: number;
  /** Where peakRssKiB came from. */
  readonly peakRssSource: 'exit' | 'poll';
  /** Largest VmRSS seen by polling (a lower bound of the peak). */
  readonly polledRssMaxKiB: number;
}

const POLL_MS = 200;

/**
 * Runs `node [nodeArgs] script [args]` with hwm-preload loaded, polling its /proc status every
 * 200 ms. stdout is collected; stderr is collected and also passed through (progress), minus
 * the preload's marker line.
 */
export function runNodeChild(
  nodeArgs: readonly string[],
  script: string,
  args: readonly string[],
): Promise<ChildRun> {
  const argv = [...nodeArgs, '--import', HWM_PRELOAD, script, ...args];
  const started = performance.now();
  const child = spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  const stdout: string[] = [];
  const stderr: string[] = [];
  let polledRssMaxKiB = 0;
  let polledHwmKiB = 0;
  const timer = setInterval(() => {
    const memory = child.pid === undefined ? undefined : procMemory(child.pid);
    if (memory === undefined) return;
    polledRssMaxKiB = Math.max(polledRssMaxKiB, memory.rssKiB);
    polledHwmKiB = Math.max(polledHwmKiB, memory.hwmKiB);
  }, POLL_MS);
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => stdout.push(chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr.push(chunk);
    const shown = chunk.replace(new RegExp(`\\n?${HWM_MARKER}\\d+\\n?`), '');
    if (shown !== '') process.stderr.write(shown);
  });
  return new Promise((resolve, reject) => {
    child.on('error', (error) => {
      clearInterval(timer);
      reject(error);
    });
    child.on('close', (exitCode) => {
      clearInterval(timer);
      const wallMs = performance.now() - started;
      const errText = stderr.join('');
      const marker = new RegExp(`^${HWM_MARKER}(\\d+)$`, 'm').exec(errText)?.[1];
      const exitHwmKiB = marker === undefined ? undefined : Number(marker);
      resolve({
        exitCode,
        stdout: stdout.join(''),
        stderr: errText,
        wallMs,
        peakRssKiB: exitHwmKiB ?? polledHwmKiB,
        peakRssSource: exitHwmKiB === undefined ? 'poll' : 'exit',
        polledRssMaxKiB,
      });
    });
  });
}

/** The last line of `text` that parses as a JSON object. */
export function lastJsonLine(text: string): Record<string, unknown> | undefined {
  const lines = text.trim().split('\n').reverse();
  for (const line of lines) {
    if (!line.startsWith('{')) continue;
    try {
      const value: unknown = JSON.parse(line);
      if (typeof value === 'object' && value !== null) return value as Record<string, unknown>;
    } catch {
      // Not JSON: keep looking.
    }
  }
  return undefined;
}

export function numberField(record: Record<string, unknown> | undefined, name: string): number {
  const value = record?.[name];
  if (typeof value !== 'number') throw new Error(`child output has no number "${name}"`);
  return value;
}

export function checkChild(run: ChildRun, what: string): void {
  if (run.exitCode === 0) return;
  throw new Error(`${what} exited with ${String(run.exitCode)}:\n${run.stderr.slice(-4000)}`);
}
