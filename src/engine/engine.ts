import { Piscina } from 'piscina';
import { assert } from '../core/assert.js';
import { UplineError } from '../core/errors.js';
import {
  OUTCOME_ACCEPTED,
  ruleReasonFromCode,
  type RejectReason,
} from '../events/reasons.js';
import type { EventResult } from '../events/result.js';
import type { UplineEvent } from '../events/types.js';
import { parseEventLine, validateEvent } from '../events/validate.js';
import type { Plan } from '../plan/plan.js';
import { decodeEvent, encodeEvent, eventTypeCode } from '../store/event-codec.js';
import type { LoggedEvent } from '../store/schema.js';
import { Store } from '../store/store.js';
import { Batch } from './batch.js';
import { compilePlan } from './compiled-plan.js';
import { LineBuffer } from './line-buffer.js';
import { Merge } from './merge.js';
import { PeriodClose } from './period-close.js';
import { Sequencer } from './sequencer.js';
import { EngineState, packTaken, takenOutcome, takenSeq } from './state.js';
import { walkOrders, type WalkContext } from './walk.js';
import type { WalkTask } from './walk-task.js';
import { shareTable } from '../../native-layout/table.js';

export interface EngineOptions {
  readonly plan: Plan;
  readonly dbFile: string;
  /** Walk threads; 0 walks on the sequencer thread (same code, same results). */
  readonly workers: number;
  /** Most logged events per batch, so per SQLite transaction. */
  readonly batchSize: number;
  readonly synchronous?: 'FULL' | 'NORMAL';
}

export interface EngineCounters {
  accepted: number;
  duplicates: number;
  rejected: Map<RejectReason, number>;
}

/**
 * The pipeline (docs/pipeline.md): one sequencer thread validates, dedupes and numbers
 * events and applies the order-dependent rules; a Piscina pool walks uplines for the batch's
 * orders in parallel over shared memory; the merge puts lines in ledger order; one SQLite
 * transaction commits the batch's events, lines and cursor. Answers are given only after the
 * commit, so an answered event is durable.
 */
export class Engine {
  readonly counters: EngineCounters = { accepted: 0, duplicates: 0, rejected: new Map() };
  private readonly batch: Batch;
  private readonly sequencer: Sequencer;
  private readonly merge: Merge;
  private readonly periodClose: PeriodClose;
  private readonly pool: Piscina | null;
  private readonly entryOutcome: Int32Array;
  private readonly entryEvents: UplineEvent[] = [];
  private readonly entryResultIndex: Int32Array;
  /** During recovery: the outcome the log holds for each entry, which replay must repeat. */
  private readonly entryLoggedOutcome: Int32Array;
  private results: EventResult[] = [];
  private recovering = false;

  private constructor(
    readonly state: EngineState,
    readonly store: Store,
    private readonly options: EngineOptions,
  ) {
    const plan = state.plan;
    this.batch = new Batch(options.batchSize, plan.orderWalkLinesMax);
    this.sequencer = new Sequencer(state, this.batch);
    this.merge = new Merge(state, this.batch, (seq) => this.committedLinesAt(seq));
    this.periodClose = new PeriodClose(state);
    this.entryOutcome = new Int32Array(options.batchSize);
    this.entryResultIndex = new Int32Array(options.batchSize);
    this.entryLoggedOutcome = new Int32Array(options.batchSize);
    this.pool =
      options.workers > 0
        ? new Piscina({
            filename: new URL('./walk-worker-entry.cjs', import.meta.url).href,
            minThreads: options.workers,
            maxThreads: options.workers,
            idleTimeout: Number.POSITIVE_INFINITY,
            workerData: { plan: options.plan },
          })
        : null;
  }

  static async open(options: EngineOptions): Promise<Engine> {
    assert(Number.isInteger(options.workers) && options.workers >= 0, 'workers must be >= 0');
    const store = Store.open(options.dbFile, { synchronous: options.synchronous ?? 'FULL' });
    const planJson = JSON.stringify(options.plan);
    const storedPlan = store.plan();
    if (storedPlan === undefined) {
      store.setPlan(planJson);
    } else if (storedPlan !== planJson) {
      store.close();
      throw new UplineError(
        'UPLINE_DB_MISMATCH',
        `${options.dbFile}: database was made with another plan`,
      );
    }
    const engine = new Engine(new EngineState(compilePlan(options.plan)), store, options);
    await engine.recover();
    return engine;
  }

  /**
   * Processes inputs in order: each a raw NDJSON line (string) or a parsed value. Resolves
   * once every batch they fell into is committed, with one result per input.
   */
  async submit(inputs: readonly unknown[]): Promise<EventResult[]> {
    const results: EventResult[] = new Array<EventResult>(inputs.length);
    this.results = results;
    const duplicates: number[] = [];
    for (let index = 0; index < inputs.length; index++) {
      const input = inputs[index];
      const validated = typeof input === 'string' ? parseEventLine(input) : validateEvent(input);
      if (!validated.ok) {
        results[index] = { seq: null, status: 'rejected', reason: validated.error.reason };
        this.countRejected(validated.error.reason);
        continue;
      }
      const event = validated.event;
      if (this.state.eventIds.has(event.id)) {
        duplicates.push(index);
        this.counters.duplicates++;
        continue;
      }
      await this.sequence(event, index);
    }
    await this.flush();
    for (const index of duplicates) results[index] = this.duplicateResult(inputs[index]);
    return results;
  }

  private duplicateResult(input: unknown): EventResult {
    const validated = typeof input === 'string' ? parseEventLine(input) : validateEvent(input);
    assert(validated.ok, 'a duplicate was valid');
    const taken = this.state.eventIds.get(validated.event.id);
    assert(taken !== undefined, 'a duplicate id is taken');
    const outcome = takenOutcome(taken);
    const reason = ruleReasonFromCode(outcome);
    const first = reason === null ? { status: 'accepted' as const } : { status: 'rejected' as const, reason };
    return { seq: takenSeq(taken), status: 'duplicate', first };
  }

  /** Gives `event` the next seq and applies its serial phase; cuts batches as needed. */
  private async sequence(
    event: UplineEvent,
    resultIndex: number,
    loggedOutcome = -1,
  ): Promise<void> {
    const state = this.state;
    if (event.type === 'period.close') await this.flush();
    const seq = ++state.lastSeq;
    const batch = this.batch;
    batch.begin(seq);
    const entry = batch.entryCount - 1;
    let outcome = OUTCOME_ACCEPTED;
    if (event.type === 'period.close') {
      this.periodClose.run(seq, event.at, batch.serialLines);
    } else {
      outcome = this.sequencer.apply(event, seq);
    }
    this.entryOutcome[entry] = outcome;
    this.entryEvents[entry] = event;
    this.entryResultIndex[entry] = resultIndex;
    this.entryLoggedOutcome[entry] = loggedOutcome;
    state.eventIds.set(event.id, packTaken(seq, outcome));
    // A close stands alone in its batch: no walk phase may see a period reset mid-batch.
    if (batch.full || event.type === 'period.close') await this.flush();
  }

  private async flush(): Promise<void> {
    const batch = this.batch;
    if (batch.entryCount === 0) return;
    await this.walk();
    this.merge.run(this.entryOutcome);
    const logged: LoggedEvent[] = new Array<LoggedEvent>(batch.entryCount);
    for (let entry = 0; entry < batch.entryCount; entry++) {
      const event = this.entryEvents[entry]!;
      const seq = batch.entrySeq[entry]!;
      const outcome = this.entryOutcome[entry]!;
      this.state.eventIds.set(event.id, packTaken(seq, outcome));
      logged[entry] = {
        seq,
        id: event.id,
        type: eventTypeCode(event.type),
        at: event.at,
        outcome,
        body: this.recovering ? EMPTY_BODY : encodeEvent(event),
      };
      this.settle(entry, seq, outcome);
    }
    if (this.recovering) {
      for (let entry = 0; entry < batch.entryCount; entry++) {
        const same = this.entryLoggedOutcome[entry] === this.entryOutcome[entry];
        assert(same, `replayed seq ${batch.entrySeq[entry]} gave another outcome than logged`);
      }
    } else {
      this.store.commitBatch(logged, this.merge.output, this.state.lastSeq);
    }
    batch.reset();
    this.entryEvents.length = 0;
  }

  private settle(entry: number, seq: number, outcome: number): void {
    const reason = ruleReasonFromCode(outcome);
    if (reason === null) {
      this.counters.accepted++;
    } else {
      this.countRejected(reason);
    }
    if (this.recovering) return;
    this.results[this.entryResultIndex[entry]!] =
      reason === null ? { seq, status: 'accepted' } : { seq, status: 'rejected', reason };
  }

  private countRejected(reason: RejectReason): void {
    this.counters.rejected.set(reason, (this.counters.rejected.get(reason) ?? 0) + 1);
  }

  /** Phase 2: the batch's orders split in contiguous ranges, one task per worker. */
  private async walk(): Promise<void> {
    const batch = this.batch;
    const orderCount = batch.orderCount;
    if (orderCount === 0) return;
    if (this.pool === null) {
      walkOrders(this.inlineWalkContext(), 0, orderCount);
      return;
    }
    const taskCount = Math.min(this.options.workers, orderCount);
    const tasks: Promise<number>[] = [];
    const shared = {
      distributors: shareTable(this.state.distributors),
      changeTable: shareTable(batch.changes.table),
      changeEntries: shareTable(batch.changes.entries),
      orders: shareTable(batch.orders),
      walkLines: shareTable(batch.walkLines),
    };
    for (let task = 0; task < taskCount; task++) {
      const fromIndex = Math.floor((orderCount * task) / taskCount);
      const toIndex = Math.floor((orderCount * (task + 1)) / taskCount);
      const walkTask: WalkTask = { ...shared, fromIndex, toIndex };
      tasks.push(this.pool.run(walkTask) as Promise<number>);
    }
    const walked = await Promise.all(tasks);
    assert(walked.reduce((sum, count) => sum + count, 0) === orderCount, 'every order walked');
  }

  private inlineWalkContext(): WalkContext {
    return {
      plan: this.state.plan,
      distributors: this.state.d,
      changes: this.batch.changes.views,
      orders: this.batch.orders.views,
      lines: this.batch.walkLines.views,
    };
  }

  private committedLinesAt(seq: number): LineBuffer {
    const buffer = new LineBuffer(64);
    for (const row of this.store.linesAtSeq(seq)) {
      buffer.push(row.seq, row.ordinal, row.beneficiary, row.type, row.level, row.source, row.amountCents);
    }
    return buffer;
  }

  /**
   * Crash recovery: replays the committed log through the same phases without writing
   * (its lines are already in the store), which rebuilds every shared column, balances and
   * the dedupe map. Every outcome must come out as it was logged.
   */
  private async recover(): Promise<void> {
    const cursor = this.store.cursor();
    if (cursor === 0) return;
    this.recovering = true;
    for (const logged of this.store.eventsAfter(0)) {
      assert(logged.seq === this.state.lastSeq + 1, 'the log has a gap');
      await this.sequence(decodeEvent(logged.body), -1, logged.outcome);
    }
    await this.flush();
    this.recovering = false;
    assert(this.state.lastSeq === cursor, 'recovery must end at the committed cursor');
    this.resetCounters();
  }

  private resetCounters(): void {
    this.counters.accepted = 0;
    this.counters.duplicates = 0;
    this.counters.rejected.clear();
  }

  async close(): Promise<void> {
    if (this.pool !== null) await this.pool.destroy();
    this.store.close();
  }
}

const EMPTY_BODY = new Uint8Array(0);
