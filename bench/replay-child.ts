/**
 * One `upline replay` in a child process through the real CLI (replay.bench.ts,
 * scaling.bench.ts): the child's resident memory is the engine's own, and its summary line
 * gives events/s and the seconds per phase.
 */
import * as fs from 'node:fs';

import { snapshotPathFor } from '../src/engine/snapshot.js';
import type { EngineCapacity } from '../src/engine/state.js';
import type { GenerateStats } from '../src/generate/generate.js';
import {
  checkChild,
  CLI_MAIN,
  databaseBytes,
  lastJsonLine,
  numberField,
  REFERENCE_PLAN,
  removeDatabase,
  runNodeChild,
  type ChildRun,
} from './support.js';

export interface Replay {
  readonly run: ChildRun;
  readonly summary: Record<string, unknown>;
  readonly eventsPerSecond: number;
  /** Database, WAL and shared-memory files, right after the replay. */
  readonly dbBytes: number;
}

export interface ReplayOptions {
  readonly eventsFile: string;
  readonly dbFile: string;
  readonly workers: number;
  readonly batch: number;
  /** Initial table sizes (`--distributor-capacity` ...); an absent field is the CLI's default. */
  readonly capacity?: EngineCapacity;
}

/** Replays into a fresh `dbFile` (any old one and its snapshot are deleted first). */
export async function replayInChild(options: ReplayOptions): Promise<Replay> {
  const { eventsFile, dbFile } = options;
  removeReplayFiles(dbFile);
  console.error(`replaying ${eventsFile} into ${dbFile} (workers ${options.workers}) ...`);
  const run = await runNodeChild([], CLI_MAIN, [
    'replay',
    ...['--plan', REFERENCE_PLAN, '--events', eventsFile, '--db', dbFile],
    ...['--workers', String(options.workers), '--batch', String(options.batch)],
    ...capacityArgs(options.capacity ?? {}),
  ]);
  checkChild(run, 'upline replay');
  const summary = lastJsonLine(run.stdout);
  if (summary === undefined) throw new Error(`no summary line from replay:\n${run.stdout}`);
  const eventsPerSecond = numberField(summary, 'eventsPerSecond');
  return { run, summary, eventsPerSecond, dbBytes: databaseBytes(dbFile) };
}

function capacityArgs(capacity: EngineCapacity): string[] {
  const args: string[] = [];
  if (capacity.distributors !== undefined) {
    args.push('--distributor-capacity', String(capacity.distributors));
  }
  if (capacity.orders !== undefined) args.push('--order-capacity', String(capacity.orders));
  if (capacity.events !== undefined) args.push('--event-capacity', String(capacity.events));
  return args;
}

/**
 * The capacity an operator would configure for the network in a generated file: its own
 * counts (an upper bound: rejected enrollments and duplicates take no row). The benches replay
 * with it so they measure the engine, not the doubling of tables from the default size.
 */
export function capacityFor(stats: GenerateStats): EngineCapacity {
  // At least 1, the flags' minimum: a file may hold no orders (`--orders 0`).
  const hint = (count: number) => Math.max(1, count);
  return {
    distributors: hint(stats.enrollments),
    orders: hint(stats.orders),
    events: hint(stats.events),
  };
}

/** The database and the snapshot the engine writes next to it. */
export function removeReplayFiles(dbFile: string): void {
  removeDatabase(dbFile);
  fs.rmSync(snapshotPathFor(dbFile), { force: true });
}
