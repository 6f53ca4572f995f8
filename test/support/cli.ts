import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The built CLI entry (`upline ...` from a checkout); tests run from `dist/test/`. */
export const CLI_ENTRY = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

export interface ChildEnd {
  /** Exit code, or null when a signal ended the process. */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface ChildOptions {
  /** Extra environment variables on top of this process's. */
  readonly env?: Readonly<Record<string, string>>;
  /** SIGKILL the child this many ms after spawn, unless it has ended by then. */
  readonly killAfterMs?: number;
}

/** Runs `node script ...args` to its end (or to the deliberate kill) and collects its output. */
export function runNode(
  script: string,
  args: readonly string[],
  options: ChildOptions = {},
): Promise<ChildEnd> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], {
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer =
      options.killAfterMs === undefined
        ? undefined
        : setTimeout(() => child.kill('SIGKILL'), options.killAfterMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    // 'close', not 'exit': both pipes are drained by then.
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** `upline ...args` through the built CLI. */
export function runCli(args: readonly string[], options: ChildOptions = {}): Promise<ChildEnd> {
  return runNode(CLI_ENTRY, args, options);
}

/** The summary line `upline replay` prints (SPEC 5). */
export interface ReplaySummaryLine {
  readonly accepted: number;
  readonly duplicates: number;
  readonly rejected: Record<string, number>;
  readonly seconds: number;
  readonly eventsPerSecond: number;
}

/** Exit 1 and exactly one line on stderr that contains `names`. Returns that line. */
export function assertUsageError(end: ChildEnd, names: string, label: string): string {
  assert.equal(end.signal, null, `${label}: ${end.stderr}`);
  assert.equal(end.code, 1, `${label}: exit code (stderr: ${end.stderr})`);
  assert.equal(end.stdout, '', `${label}: nothing on stdout`);
  const message = end.stderr.replace(/\n$/, '');
  assert.ok(message !== '' && !message.includes('\n'), `${label}: one line: ${end.stderr}`);
  assert.ok(message.includes(names), `${label}: names ${names}: ${message}`);
  return message;
}

/** Parses the one JSON line of a successful replay; fails loudly on anything else. */
export function parseReplaySummary(end: ChildEnd, label: string): ReplaySummaryLine {
  if (end.code !== 0) {
    throw new Error(`${label}: exit ${end.code} signal ${end.signal}\n${end.stderr}`);
  }
  const lines = end.stdout.trimEnd().split('\n');
  if (lines.length !== 1) throw new Error(`${label}: expected one summary line: ${end.stdout}`);
  return JSON.parse(lines[0]!) as ReplaySummaryLine;
}

/** Every event a summary accounts for: accepted, duplicates and rejected of every reason. */
export function summaryTotal(summary: ReplaySummaryLine): number {
  const rejected = Object.values(summary.rejected).reduce((sum, count) => sum + count, 0);
  return summary.accepted + summary.duplicates + rejected;
}
