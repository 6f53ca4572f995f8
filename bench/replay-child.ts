/**
 * One `upline replay` in a child process through the real CLI (replay.bench.ts,
 * scaling.bench.ts): the child's resident memory is the engine's own, and its summary line
 * gives events/s and the seconds per phase.
 */
import * as fs from 'node:fs';

import { snapshotPathFor } from '../src/engine/snapshot.js';
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
  ]);
  checkChild(run, 'upline replay');
  const summary = lastJsonLine(run.stdout);
  if (summary === undefined) throw new Error(`no summary line from replay:\n${run.stdout}`);
  const eventsPerSecond = numberField(summary, 'eventsPerSecond');
  return { run, summary, eventsPerSecond, dbBytes: databaseBytes(dbFile) };
}

/** The database and the snapshot the engine writes next to it. */
export function removeReplayFiles(dbFile: string): void {
  removeDatabase(dbFile);
  fs.rmSync(snapshotPathFor(dbFile), { force: true });
}
