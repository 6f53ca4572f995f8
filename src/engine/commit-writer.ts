import { Worker } from 'node:worker_threads';
import { assert } from '../core/assert.js';
import type { LineColumns } from '../ledger/line-columns.js';
import type { CommitMessage, CommitReply } from './commit-message.js';
import { createProgress, PROGRESS_COMMITTED, PROGRESS_FAILED } from './commit-progress.js';
import { Checkpointer } from '../store/checkpointer.js';
import { COMMIT_THREAD_LIMITS } from '../core/thread-limits.js';

interface InFlight {
  readonly firstSeq: number;
  readonly lastSeq: number;
  readonly lines: LineColumns;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

/** How the commit thread opens its store. */
export interface CommitSettings {
  readonly dbFile: string;
  readonly synchronous: 'FULL' | 'NORMAL';
  readonly indexChunkMin: number;
}

/**
 * The sequencer thread's handle on the commit thread. Batches are committed strictly in the
 * order sent; at most `inFlightMax` are outstanding, which bounds memory and keeps an answer
 * at most that many batches behind. Until a batch is durable its lines stay here, because
 * a refund in a later batch may need them and the database does not have them yet.
 *
 *   sequencer ──CommitMessage──▶ commit thread ──COMMIT──▶ SQLite
 *       ▲                               │
 *       └──── shared progress (Atomics) ┘   (commit-progress.ts; settles batch promises)
 *
 * A failed commit is fatal: the engine's memory is ahead of the database, so the only safe
 * state is the database's, reached by restarting (recovery replays the log).
 */
export class CommitWriter {
  private readonly worker: Worker;
  private readonly checkpointer: Checkpointer;
  private readonly progress = createProgress();
  private readonly inFlight = new Map<number, InFlight>();
  private readonly order: number[] = [];
  private nextBatchId = 1;
  private failure: Error | null = null;
  /** True while `watch` sleeps on the progress slot for batches nobody else waits on. */
  private watching = false;

  constructor(
    settings: CommitSettings,
    private readonly inFlightMax = 2,
  ) {
    this.worker = new Worker(new URL('./commit-worker.js', import.meta.url), {
      workerData: { ...settings, progress: this.progress },
      resourceLimits: COMMIT_THREAD_LIMITS,
    });
    // Only failures come as messages (with their details); progress is shared memory.
    this.worker.on('message', (reply: CommitReply) => {
      assert(!reply.ok, 'the commit thread reports success through shared progress only');
      this.fail(new Error(`commit of batch ${reply.batchId} failed: ${reply.error}`));
    });
    this.worker.on('error', (error) => this.fail(error));
    this.checkpointer = new Checkpointer(settings.dbFile);
  }

  get inFlightCount(): number {
    this.settleCommitted();
    return this.inFlight.size;
  }

  /** Resolves when one more batch may be sent: this is the back-pressure on the sequencer. */
  async waitForRoom(): Promise<void> {
    await this.waitUntil(() => this.inFlight.size < this.inFlightMax);
  }

  /** Resolves once every batch sent so far is durable. */
  async drain(): Promise<void> {
    await this.waitUntil(() => this.inFlight.size === 0);
  }

  /**
   * Sends a batch and registers its lines at once (synchronously), so a refund sequenced
   * right after finds them; the promise resolves when its transaction has committed.
   */
  commit(message: Omit<CommitMessage, 'batchId'>, firstSeq: number): Promise<void> {
    if (this.failure !== null) return Promise.reject(this.failure);
    this.settleCommitted();
    assert(this.inFlight.size < this.inFlightMax, 'wait for room before sending a batch');
    const batchId = this.nextBatchId++;
    let resolve = (): void => {};
    let reject = (_error: Error): void => {};
    const durable = new Promise<void>((resolveDurable, rejectDurable) => {
      resolve = resolveDurable;
      reject = rejectDurable;
    });
    const lines = message.lines;
    const lastSeq = message.cursorSeq;
    this.inFlight.set(batchId, { firstSeq, lastSeq, lines, resolve, reject });
    this.order.push(batchId);
    this.worker.postMessage({ ...message, batchId });
    void this.watch();
    return durable;
  }

  /**
   * Settles batches as the commit thread publishes them even when the sequencer is not
   * waiting for room (its last batches, or a quiet server): one sleeper at a time.
   */
  private async watch(): Promise<void> {
    if (this.watching) return;
    this.watching = true;
    try {
      await this.waitUntil(() => this.inFlight.size === 0);
    } catch {
      // The failure is already recorded and every in-flight batch rejected.
    } finally {
      this.watching = false;
    }
  }

  /** The in-flight lines written at `seq`, or undefined when that batch is already durable. */
  linesInFlight(seq: number): { lines: LineColumns; from: number; to: number } | undefined {
    for (const batch of this.inFlight.values()) {
      if (seq < batch.firstSeq || seq > batch.lastSeq) continue;
      const lines = batch.lines;
      let from = 0;
      while (from < lines.count && lines.seq[from]! < seq) from++;
      let to = from;
      while (to < lines.count && lines.seq[to] === seq) to++;
      return { lines, from, to };
    }
    return undefined;
  }

  async close(): Promise<void> {
    await this.drain().finally(async () => {
      await this.checkpointer.close();
      this.worker.postMessage('close');
      await new Promise((resolve) => this.worker.once('exit', resolve));
    });
  }

  /** Settles what the commit thread has published, sleeping on the progress slot between. */
  private async waitUntil(ready: () => boolean): Promise<void> {
    for (;;) {
      const committed = Atomics.load(this.progress, PROGRESS_COMMITTED);
      this.settleCommitted();
      if (this.failure !== null) throw this.failure;
      if (ready()) return;
      // Wakes when the commit thread publishes past `committed` (or fails, which notifies too).
      const waited = Atomics.waitAsync(this.progress, PROGRESS_COMMITTED, committed);
      if (waited.async) await waited.value;
    }
  }

  /** Resolves every in-flight batch up to the published COMMITTED id, in order. */
  private settleCommitted(): void {
    const failed = Atomics.load(this.progress, PROGRESS_FAILED);
    if (failed !== 0) this.fail(new Error(`commit of batch ${failed} failed`));
    const committed = Atomics.load(this.progress, PROGRESS_COMMITTED);
    while (this.order.length > 0 && this.order[0]! <= committed) {
      const batchId = this.order.shift()!;
      const batch = this.inFlight.get(batchId);
      assert(batch !== undefined, 'a committed batch was in flight');
      this.inFlight.delete(batchId);
      batch.resolve();
    }
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const batch of this.inFlight.values()) batch.reject(this.failure);
  }
}
