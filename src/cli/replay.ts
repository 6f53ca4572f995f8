import { accessSync, constants } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { UplineError } from '../core/errors.js';
import { CONFIGURED_CAPACITY_MAX } from '../../native-layout/layouts.js';
import { Engine } from '../engine/engine.js';
import type { PhaseSeconds } from '../engine/phase-times.js';
import type { EngineCapacity } from '../engine/state.js';
import { LineReader } from '../io/line-reader.js';
import { ChunkPrefetcher } from './chunk-prefetcher.js';
import { loadPlan } from '../plan/plan.js';
import { integerFlag, parseFlags, required } from './args.js';

const COMMAND = 'replay';
/** Lines handed to the engine per submit: many batches, bounded memory. */
const LINES_PER_SUBMIT = 65_536;
/**
 * A replay has no caller waiting on each answer, so its default batch is larger than the
 * server's: fewer, bigger commits and walk dispatches (measured 4096 → 16384: about 1.3x at
 * 100k distributors; 16384 → 32768: 5% on average over five paired 1M / 5M replays, four of
 * them faster, with the wait for the walk workers down in all five). A batch's buffers and
 * the three batches the commit queue holds grow with it: peak RSS 1.03 → 1.12 GiB at 1M.
 */
const REPLAY_BATCH_DEFAULT = 32_768;
const REPLAY_WORKERS_DEFAULT = 2;

export interface ReplaySummary {
  readonly accepted: number;
  readonly duplicates: number;
  readonly rejected: Record<string, number>;
  readonly seconds: number;
  readonly eventsPerSecond: number;
  /**
   * Where the time went, in seconds: reading the file, then the engine's phases
   * (phase-times.ts). Reading and parsing overlap the walk and commit phases' waits. For
   * benchmarks; tests and scripts may ignore it.
   */
  readonly phaseSeconds: { read: number } & PhaseSeconds;
}

/**
 * `upline replay`: the event file in file order through the same pipeline as the server.
 * Bad lines are rejected events, counted in the summary (SPEC 7.9); only bad arguments or
 * unreadable files stop it.
 */
export async function replayCommand(args: readonly string[]): Promise<ReplaySummary> {
  const flags = parseFlags(COMMAND, args, {
    plan: { type: 'string' },
    events: { type: 'string' },
    db: { type: 'string' },
    workers: { type: 'string' },
    batch: { type: 'string' },
    'distributor-capacity': { type: 'string' },
    'order-capacity': { type: 'string' },
    'event-capacity': { type: 'string' },
  });
  const plan = loadPlan(required(COMMAND, 'plan', flags.plan));
  const eventsFile = required(COMMAND, 'events', flags.events);
  const dbFile = required(COMMAND, 'db', flags.db);
  const workers = integerFlag(COMMAND, 'workers', flags.workers, REPLAY_WORKERS_DEFAULT, 0, 64);
  const batch = flags.batch;
  const batchSize = integerFlag(COMMAND, 'batch', batch, REPLAY_BATCH_DEFAULT, 1, 1_048_576);
  const capacity: EngineCapacity = {
    distributors: capacityFlag('distributor-capacity', flags['distributor-capacity']),
    orders: capacityFlag('order-capacity', flags['order-capacity']),
    events: capacityFlag('event-capacity', flags['event-capacity']),
  };
  try {
    accessSync(eventsFile, constants.R_OK);
  } catch (error) {
    throw new UplineError('UPLINE_IO', `${eventsFile}: cannot read events file`, { cause: error });
  }
  const engine = await Engine.open({ plan, dbFile, workers, batchSize, capacity });
  const reader = new LineReader(eventsFile);
  const started = performance.now();
  const prefetcher = new ChunkPrefetcher(reader, LINES_PER_SUBMIT);
  let events = 0;
  let phases: PhaseSeconds;
  let commitWaitSeconds = 0;
  try {
    // The next chunk is accepted while the last one commits, so neither thread waits on the
    // other at a chunk's end: awaiting each chunk's durability (submit) let the commit thread
    // drain four batches' work on one core while the sequencer idled, then idle itself while
    // the sequencer parsed the next chunk. Memory stays bounded: one chunk's answers are held
    // besides the one being accepted, and the commit queue holds the sequencer back.
    let previousDurable: Promise<void> | null = null;
    for (let chunk = prefetcher.take(); chunk.length > 0;) {
      const accepted = await engine.acceptCheckedUnanswered(chunk);
      events += chunk.length;
      if (previousDurable !== null) commitWaitSeconds += await timed(previousDurable);
      previousDurable = accepted.durable;
      chunk = prefetcher.take();
    }
    if (previousDurable !== null) commitWaitSeconds += await timed(previousDurable);
  } finally {
    prefetcher.stop();
    phases = { ...engine.phaseSeconds };
    reader.close();
    await engine.close();
  }
  phases.commit += commitWaitSeconds;
  // Read and parse run in the engine's waits (chunk-prefetcher.ts): their time is also in
  // the walk and commit phases' waits.
  phases.parse += prefetcher.parseSeconds;
  const readSeconds = prefetcher.readSeconds;
  const seconds = (performance.now() - started) / 1000;
  const rejected = Object.fromEntries([...engine.counters.rejected.entries()].sort());
  const { accepted, duplicates } = engine.counters;
  const eventsPerSecond = Math.round(events / Math.max(seconds, 1e-9));
  const phaseSeconds = { read: round3(readSeconds), ...roundPhases(phases) };
  return {
    accepted,
    duplicates,
    rejected,
    seconds: round3(seconds),
    eventsPerSecond,
    phaseSeconds,
  };
}

/**
 * An initial table capacity, with the meaning and bounds of the server's config keys
 * (distributorCapacity, orderCapacity, eventCapacity): an operator who knows the network's
 * size spares the replay the doubling handovers. Only a hint: the table still grows past it.
 * An absent flag is undefined, which leaves that table at the engine's own default (as
 * before these flags), whatever the other two say: EngineCapacity is read field by field.
 */
function capacityFlag(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  return integerFlag(COMMAND, flag, value, 1, 1, CONFIGURED_CAPACITY_MAX);
}

function roundPhases(phases: PhaseSeconds): PhaseSeconds {
  const rounded = { ...phases };
  for (const phase of Object.keys(rounded) as (keyof PhaseSeconds)[]) {
    rounded[phase] = round3(rounded[phase]);
  }
  return rounded;
}

/** Seconds until `promise` settles (it rethrows a failed commit). */
async function timed(promise: Promise<void>): Promise<number> {
  const started = performance.now();
  await promise;
  return (performance.now() - started) / 1000;
}

function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}
