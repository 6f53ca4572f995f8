import { assert } from '../core/assert.js';
import type { Engine } from '../engine/engine.js';
import type { EventResult } from '../events/result.js';
import type { UplineEvent } from '../events/types.js';
import type { Plan } from '../plan/plan.js';
import {
  figuresOf,
  viewLine,
  type DistributorFigures,
  type DistributorSnapshot,
} from './distributor-view.js';
import type { LiveHub, Publication } from './live-hub.js';
import type { ServerMetrics } from './metrics.js';

/** Lines a snapshot carries ("my last 50 lines"). */
export const SNAPSHOT_LINES = 50;

export interface GroupCommitOptions {
  /** Most events waiting at once; past it callers are refused (503) instead of queued. */
  readonly queuedEventsMax: number;
  /** Most events one engine pass takes (more requests wait for the next pass). */
  readonly passEventsMax: number;
}

interface EventsRequest {
  readonly events: readonly UplineEvent[];
  readonly resolve: (results: EventResult[]) => void;
  readonly reject: (error: unknown) => void;
}

interface ReadRequest {
  readonly id: number;
  readonly resolve: (snapshot: DistributorSnapshot | null) => void;
  readonly reject: (error: unknown) => void;
}

/** A finished engine pass waiting for its commit: everything it will answer and publish. */
interface PassOutcome {
  readonly requests: readonly EventsRequest[];
  readonly results: readonly EventResult[];
  readonly reads: readonly ReadRequest[];
  readonly figures: readonly (DistributorFigures | null)[];
  readonly seq: number;
  readonly publication: Publication;
  readonly startedMs: number;
}

/**
 * Group commit (SPEC 6): events from every connection that arrive while the engine is busy
 * share its next pass, so one SQLite transaction carries many callers' events, and each caller
 * is answered only once its events are durable. One pass runs at a time (the engine is a single
 * sequencer), but a pass does not wait for the previous one's commit: the commit thread takes
 * up to three batches, which bounds how far sequencing runs ahead of durability.
 *
 * Reads (`GET /v1/distributors/ID`, a live feed's first snapshot) go through the same queue:
 * the shared columns are read at a pass boundary and answered when that pass is durable, so no
 * one ever sees a balance that a crash could still take back.
 *
 * Answers are released strictly in pass order, which is what keeps the live feed's running
 * earnings exact (LiveHub.adoptSnapshot).
 */
export class GroupCommit {
  private queue: EventsRequest[] = [];
  private reads: ReadRequest[] = [];
  private queued = 0;
  private running = false;
  private closed = false;
  /** Set once a commit failed: the engine's state is ahead of its log, so nothing more runs. */
  private failure: unknown = null;
  /** The previous pass's release, so releases happen in pass order. */
  private released: Promise<void> = Promise.resolve();
  private idle: Promise<void> = Promise.resolve();
  private markIdle: () => void = () => undefined;
  /** Passes answered whose live side (updates, reads) is still to run, and when none is. */
  private publishing = 0;
  private published: Promise<void> = Promise.resolve();
  private markPublished: () => void = () => undefined;
  /** Events answered since start, and commit latencies since the admin feed last took them. */
  answeredEvents = 0;
  private latenciesMs: number[] = [];

  constructor(
    private readonly engine: Engine,
    private readonly plan: Plan,
    private readonly live: LiveHub,
    private readonly metrics: ServerMetrics,
    private readonly options: GroupCommitOptions,
  ) {
    assert(options.queuedEventsMax >= 1 && options.passEventsMax >= 1, 'group commit bounds');
    engine.batchObserver = (batch) => live.observe(batch);
  }

  get queuedEvents(): number {
    return this.queued;
  }

  /** Why `submit` refuses right now: the queue is full, the server is stopping, or failed. */
  get refusal(): 'overloaded' | 'stopping' | 'engine_failed' {
    if (this.failure !== null) return 'engine_failed';
    return this.closed ? 'stopping' : 'overloaded';
  }

  get failed(): boolean {
    return this.failure !== null;
  }

  /**
   * Queues validated events; resolves with one result per event once they are durable. Returns
   * null when the queue is full (or closed): the caller should come back later.
   */
  submit(events: readonly UplineEvent[]): Promise<EventResult[]> | null {
    if (this.closed || this.failure !== null) return null;
    if (this.queued > 0 && this.queued + events.length > this.options.queuedEventsMax) return null;
    return new Promise<EventResult[]>((resolve, reject) => {
      this.queue.push({ events, resolve, reject });
      this.queued += events.length;
      this.metrics.queueEvents.set(this.queued);
      this.kick();
    });
  }

  /** Distributor `id` as of a committed seq; null when no such distributor is enrolled. */
  read(id: number): Promise<DistributorSnapshot | null> {
    if (this.closed || this.failure !== null) {
      return Promise.reject(new Error('the engine is not taking requests'));
    }
    return new Promise((resolve, reject) => {
      this.reads.push({ id, resolve, reject });
      this.kick();
    });
  }

  /** Commit latencies (ms) of the passes answered since the last call. */
  takeLatencies(): number[] {
    const taken = this.latenciesMs;
    this.latenciesMs = [];
    return taken;
  }

  /**
   * Resolves once everything taken so far is answered (the engine's state is all durable) and
   * its live updates and reads are sent.
   */
  async settled(): Promise<void> {
    await this.idle;
    await this.released;
    if (this.publishing > 0) await this.published;
  }

  /** Stops taking requests and waits until everything taken is answered. */
  async close(): Promise<void> {
    this.closed = true;
    await this.settled();
  }

  private kick(): void {
    if (this.running) return;
    this.running = true;
    this.idle = new Promise((resolve) => (this.markIdle = resolve));
    void this.run().finally(() => {
      this.running = false;
      this.markIdle();
    });
  }

  private async run(): Promise<void> {
    while ((this.queue.length > 0 || this.reads.length > 0) && this.failure === null) {
      const requests = this.takeRequests();
      const reads = this.reads;
      this.reads = [];
      const startedMs = performance.now();
      const inputs: UplineEvent[] = [];
      for (const request of requests) for (const event of request.events) inputs.push(event);
      let results: EventResult[] = [];
      let durable: Promise<void> = Promise.resolve();
      try {
        if (inputs.length > 0) ({ results, durable } = await this.engine.acceptValidated(inputs));
      } catch (error) {
        this.fail(error, requests, reads);
        return;
      }
      const state = this.engine.state;
      const outcome: PassOutcome = {
        requests,
        results,
        reads,
        figures: reads.map((read) => {
          const slot = state.slotOf(read.id);
          return slot === -1 ? null : figuresOf(state, this.plan, slot);
        }),
        seq: state.lastSeq,
        publication: this.live.capture(state.lastSeq),
        startedMs,
      };
      this.released = this.released
        .then(() => durable)
        .then(
          () => this.answer(outcome),
          (error: unknown) => this.fail(error, requests, reads),
        );
    }
  }

  /** FIFO, whole requests, at most passEventsMax events unless one request alone is bigger. */
  private takeRequests(): EventsRequest[] {
    let taken = 0;
    let count = 0;
    while (count < this.queue.length) {
      const size = this.queue[count]!.events.length;
      if (count > 0 && taken + size > this.options.passEventsMax) break;
      taken += size;
      count++;
    }
    const requests = this.queue.slice(0, count);
    this.queue = this.queue.slice(count);
    this.queued -= taken;
    this.metrics.queueEvents.set(this.queued);
    return requests;
  }

  private answer(outcome: PassOutcome): void {
    const { requests, results } = outcome;
    const eventCount = results.length;
    if (eventCount > 0) {
      const latencyMs = performance.now() - outcome.startedMs;
      this.answeredEvents += eventCount;
      this.latenciesMs.push(latencyMs);
      this.metrics.commitEvents.observe(eventCount);
      this.metrics.commitSeconds.observe(latencyMs / 1000);
      this.metrics.countResults(results);
    }
    this.metrics.seq.set(outcome.seq);
    this.metrics.distributors.set(this.engine.state.count);
    let start = 0;
    for (const request of requests) {
      const end = start + request.events.length;
      request.resolve(results.slice(start, end));
      start = end;
    }
    assert(start === eventCount, 'every result goes to its request');
    // The live side waits one turn: the answers above go out first (their sends are
    // continuations of those resolves), so no caller's ack waits while a thousand live updates
    // are written. setImmediate keeps passes in order, and a pass's release still comes before
    // its reads adopt their snapshots (LiveHub.release and adoptSnapshot rely on that order).
    if (this.publishing++ === 0) {
      this.published = new Promise((resolve) => (this.markPublished = resolve));
    }
    setImmediate(() => {
      try {
        this.publishLive(outcome);
      } finally {
        if (--this.publishing === 0) this.markPublished();
      }
    });
  }

  private publishLive(outcome: PassOutcome): void {
    this.live.release(outcome.publication);
    outcome.reads.forEach((read, index) => {
      const figures = outcome.figures[index] ?? null;
      if (figures === null) {
        read.resolve(null);
        return;
      }
      try {
        const snapshot = this.snapshotOf(figures, outcome.seq);
        this.live.adoptSnapshot(snapshot);
        read.resolve(snapshot);
      } catch (error) {
        read.reject(error);
      }
    });
  }

  /** The committed ledger side of a view: earnings and lines up to `seq`, read now. */
  private snapshotOf(figures: DistributorFigures, seq: number): DistributorSnapshot {
    const earningsCents = this.engine.ledger.earningsOf(figures.id, seq);
    const lines = this.engine.ledger.recentLines(figures.id, SNAPSHOT_LINES, seq + 1).map(viewLine);
    return { seq, distributor: { ...figures, earningsCents }, lines };
  }

  private fail(error: unknown, requests: readonly EventsRequest[], reads: readonly ReadRequest[]) {
    this.failure ??= error;
    for (const request of [...requests, ...this.queue]) request.reject(error);
    for (const read of [...reads, ...this.reads]) read.reject(error);
    this.queue = [];
    this.reads = [];
    this.queued = 0;
  }
}
