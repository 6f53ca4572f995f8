/**
 * A real engine state for in-process benches (micro, period close, latency): the generated
 * event file submitted through `Engine` (a scratch database; synchronous=NORMAL unless asked,
 * when building is not what a bench measures) up to, not including, its first
 * `period.close`. So the network, the period's volumes, activity and ranks are the engine's
 * own, made by the same code as in production, not a hand-built imitation.
 */
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';

import { Engine } from '../src/engine/engine.js';
import { LineReader } from '../src/io/line-reader.js';
import { loadPlan } from '../src/plan/plan.js';
import { ensureEventFile, type EventFileParams } from './event-file.js';
import { removeReplayFiles } from './replay-child.js';
import { REFERENCE_PLAN, WORK_DIR } from './support.js';

const LINES_PER_SUBMIT = 65_536;
const BUILD_BATCH = 16_384;
/** How the generator writes a close: compact JSON, so the type is this exact text. */
const CLOSE_MARK = '"type":"period.close"';

export interface EngineNetwork {
  readonly engine: Engine;
  /** The first period's close line, not yet submitted. */
  readonly closeLine: string;
  /** Up to `tailLinesMax` lines after the close (later periods' events), not submitted. */
  readonly tail: readonly string[];
  readonly buildMs: number;
  /** Closes the engine and deletes its scratch database. */
  readonly dispose: () => Promise<void>;
}

export interface EngineNetworkOptions extends EventFileParams {
  readonly workers: number;
  readonly tailLinesMax: number;
  readonly batchSize?: number;
  readonly synchronous?: 'FULL' | 'NORMAL';
}

export async function buildEngineNetwork(options: EngineNetworkOptions): Promise<EngineNetwork> {
  const events = ensureEventFile(options);
  const dbFile = path.join(WORK_DIR, `network-${process.pid}.db`);
  removeReplayFiles(dbFile);
  const plan = loadPlan(REFERENCE_PLAN);
  const engine = await Engine.open({
    plan,
    dbFile,
    workers: options.workers,
    batchSize: options.batchSize ?? BUILD_BATCH,
    synchronous: options.synchronous ?? 'NORMAL',
    snapshotEveryEvents: 0,
  });
  const dispose = async (): Promise<void> => {
    await engine.close();
    removeReplayFiles(dbFile);
  };
  const started = performance.now();
  const reader = new LineReader(events.file);
  let closeLine: string | undefined;
  const tail: string[] = [];
  try {
    for (let lines = reader.next(LINES_PER_SUBMIT); lines.length > 0;) {
      if (closeLine === undefined) {
        const closeIndex = lines.findIndex((line) => line.includes(CLOSE_MARK));
        await engine.submit(closeIndex === -1 ? lines : lines.slice(0, closeIndex));
        if (closeIndex !== -1) {
          closeLine = lines[closeIndex];
          tail.push(...lines.slice(closeIndex + 1, closeIndex + 1 + options.tailLinesMax));
        }
      } else {
        tail.push(...lines.slice(0, options.tailLinesMax - tail.length));
      }
      if (closeLine !== undefined && tail.length >= options.tailLinesMax) break;
      lines = reader.next(LINES_PER_SUBMIT);
    }
    if (closeLine === undefined) throw new Error(`${events.file} has no period.close`);
  } catch (error) {
    // A failed build leaves no scratch database behind in the shared work directory.
    await dispose();
    throw error;
  } finally {
    reader.close();
  }
  const buildMs = performance.now() - started;
  return { engine, closeLine, tail, buildMs, dispose };
}
