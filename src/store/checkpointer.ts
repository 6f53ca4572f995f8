import { Worker } from 'node:worker_threads';
import { HELPER_THREAD_LIMITS } from '../core/thread-limits.js';
import { PAGE_SIZE_BYTES, WAL_BYTES_MAX } from './schema.js';

/**
 * WAL checkpoints on a thread of their own. With SQLite's automatic checkpoints the commit
 * that crosses the threshold copies the whole WAL into the database file and fsyncs it before
 * it returns: every few hundred MB of ledger, one commit (and everyone waiting for an answer)
 * stalls for a second or more. Here the writer's connection never checkpoints
 * (`autoCheckpoint: false` in StoreOptions) and this thread does it continuously, beside it.
 */
export interface CheckpointResult {
  /** 1 when the checkpoint could not finish (a reader or the writer was in the way). */
  readonly busy: number;
  /** Frames in the WAL. */
  readonly log: number;
  /** Frames copied into the database file. */
  readonly checkpointed: number;
}

/** Control slots shared with the thread. */
export const CHECKPOINT_STOP = 0;
export const CHECKPOINT_INTERVAL_MS = 1000;
/**
 * Past this many WAL pages (256 MiB of pages of PAGE_SIZE_BYTES) a RESTART checkpoint rewinds
 * the WAL even if it has to wait for the writer once: this is what bounds the file under a
 * write load that never pauses.
 */
export const WAL_RESTART_PAGES = WAL_BYTES_MAX / PAGE_SIZE_BYTES;

export class Checkpointer {
  private readonly control = new Int32Array(
    new SharedArrayBuffer(4 * Int32Array.BYTES_PER_ELEMENT),
  );
  private readonly worker: Worker;
  private readonly exited: Promise<void>;

  constructor(dbFile: string) {
    this.worker = new Worker(new URL('./checkpoint-worker.js', import.meta.url), {
      workerData: { dbFile, control: this.control },
      resourceLimits: HELPER_THREAD_LIMITS,
    });
    this.exited = new Promise((resolve, reject) => {
      this.worker.once('exit', () => resolve());
      this.worker.once('error', reject);
    });
    // A failing checkpoint thread must not keep the process alive or take it down silently:
    // checkpoints are an optimisation, the WAL stays correct without them.
    this.exited.catch(() => undefined);
  }

  async close(): Promise<void> {
    Atomics.store(this.control, CHECKPOINT_STOP, 1);
    Atomics.notify(this.control, CHECKPOINT_STOP);
    await this.exited;
  }
}
