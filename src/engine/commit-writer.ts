import { Worker } from 'node:worker_threads';
import { assert } from '../core/assert.js';
import type { LineColumns } from '../ledger/line-columns.js';
import type { CommitMessage, CommitReply } from './commit-message.js';

interface InFlight {
  readonly firstSeq: number;
  readonly lastSeq: number;
  readonly lines: LineColumns;
  /** Settles when the batch is answered; never rejects (failures go to `failure`). */
  readonly answered: Promise<void>;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

/**
 * The sequencer thread's handle on the commit thread. Batches are committed strictly in the
 * order sent; at most `inFlightMax` are outstanding, which bounds memory and keeps an answer
 * at most that many batches behind. Until a batch is durable its lines stay here, because
 * a refund in a later batch may need them and the database does not have them yet.
 *
 *   sequencer ──CommitMessage──▶ commit thread ──COMMIT──▶ SQLite
 *       ▲                               │
 *       └──────────CommitReply──────────┘   (resolves that batch's promise)
 *
 * A failed commit is fatal: the engine's memory is ahead of the database, so the only safe
 * state is the database's, reached by restarting (recovery replays the log).
 */
export class CommitWriter {
  private readonly worker: Worker;
  private readonly inFlight = new Map<number, InFlight>();
  private readonly order: number[] = [];
  private nextBatchId = 1;
  private failure: Error | null = null;

  constructor(
    dbFile: string,
    synchronous: 'FULL' | 'NORMAL',
    private readonly inFlightMax = 2,
  ) {
    this.worker = new Worker(new URL('./commit-worker.js', import.meta.url), {
      workerData: { dbFile, synchronous },
    });
    this.worker.on('message', (reply: CommitReply) => this.settle(reply));
    this.worker.on('error', (error) => this.fail(error));
  }

  get inFlightCount(): number {
    return this.inFlight.size;
  }

  /** Resolves when one more batch may be sent: this is the back-pressure on the sequencer. */
  async waitForRoom(): Promise<void> {
    while (this.inFlight.size >= this.inFlightMax) await this.oldest();
    if (this.failure !== null) throw this.failure;
  }

  /**
   * Sends a batch and registers its lines at once (synchronously), so a refund sequenced
   * right after finds them; the promise resolves when its transaction has committed.
   */
  commit(message: Omit<CommitMessage, 'batchId'>, firstSeq: number): Promise<void> {
    if (this.failure !== null) return Promise.reject(this.failure);
    assert(this.inFlight.size < this.inFlightMax, 'wait for room before sending a batch');
    const batchId = this.nextBatchId++;
    let resolve = (): void => {};
    let reject = (_error: Error): void => {};
    const durable = new Promise<void>((resolveDurable, rejectDurable) => {
      resolve = resolveDurable;
      reject = rejectDurable;
    });
    const answered = durable.catch(() => undefined);
    const lines = message.lines;
    const lastSeq = message.cursorSeq;
    this.inFlight.set(batchId, { firstSeq, lastSeq, lines, answered, resolve, reject });
    this.order.push(batchId);
    this.worker.postMessage({ ...message, batchId });
    return durable;
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

  /** Resolves once every batch sent so far is durable. */
  async drain(): Promise<void> {
    while (this.inFlight.size > 0) await this.oldest();
    if (this.failure !== null) throw this.failure;
  }

  async close(): Promise<void> {
    await this.drain().finally(async () => {
      this.worker.postMessage('close');
      await new Promise((resolve) => this.worker.once('exit', resolve));
    });
  }

  private async oldest(): Promise<void> {
    const batchId = this.order[0];
    assert(batchId !== undefined, 'a batch is in flight');
    const batch = this.inFlight.get(batchId);
    assert(batch !== undefined, 'the oldest batch is in flight');
    await batch.answered;
  }

  private settle(reply: CommitReply): void {
    const batchId = this.order.shift();
    assert(batchId === reply.batchId, 'commits must be answered in the order sent');
    const batch = this.inFlight.get(batchId);
    assert(batch !== undefined, 'an answered batch was in flight');
    this.inFlight.delete(batchId);
    if (reply.ok) {
      batch.resolve();
    } else {
      this.fail(new Error(`commit of batch ${batchId} failed: ${reply.error}`));
      batch.reject(this.failure ?? new Error(reply.error));
    }
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const batch of this.inFlight.values()) batch.reject(this.failure);
  }
}
