import { performance } from 'node:perf_hooks';
import { Piscina } from 'piscina';
import { assert, AssertionError } from '../core/assert.js';
import { UplineError } from '../core/errors.js';
import { OUTCOME_ACCEPTED, ruleReasonFromCode, type RejectReason } from '../events/reasons.js';
import type { EventResult } from '../events/result.js';
import { orderIdOf, type UplineEvent } from '../events/types.js';
import { checkInput, type Validated } from '../events/validate.js';
import type { Plan } from '../plan/plan.js';
import { decodeEvent, EventBodies, eventTypeCode } from '../store/event-codec.js';
import type { CommitMessage } from './commit-message.js';
import type { LineColumns } from '../ledger/line-columns.js';
import { LedgerTail } from '../ledger/ledger-tail.js';
import { LedgerReads } from './ledger-reads.js';
import {
  INDEX_NOTHING,
  INDEX_SEAL,
  isIndexed,
  type IndexControl,
  type IndexState,
} from '../store/index-runs.js';
import { INDEX_RUN_CHUNK_MIN, INDEX_RUN_LINES } from '../store/schema.js';
import { Store, type LineRow } from '../store/store.js';
import { Batch, ENTRY_WITHDRAW } from './batch.js';
import { copyLines, indexOnlyMessage } from './commit-message.js';
import { CommitWriter } from './commit-writer.js';
import { compilePlan } from './compiled-plan.js';
import { LineBuffer } from '../ledger/line-buffer.js';
import { Merge } from './merge.js';
import { PeriodClose } from './period-close.js';
import { PhaseTimer, type PhaseSeconds } from './phase-times.js';
import { Sequencer } from './sequencer.js';
import { RecentEvents } from './recent-events.js';
import {
  publishSnapshot,
  readSnapshot,
  snapshotPathFor,
  writeSnapshot,
  writeSnapshotTemporary,
  type SnapshotImage,
} from './snapshot.js';
import { EngineState, takenOutcome, takenSeq, type EngineCapacity, type SeqIds } from './state.js';
import { walkOrders, type WalkContext } from './walk.js';
import { runInRanges, type WalkTask } from './walk-task.js';
import { shareTable } from '../../native-layout/table.js';
import { HELPER_THREAD_LIMITS } from '../core/thread-limits.js';

export interface EngineOptions {
  readonly plan: Plan;
  readonly dbFile: string;
  /** Walk threads; 0 walks on the sequencer thread (same code, same results). */
  readonly workers: number;
  /** Most logged events per batch, so per SQLite transaction. */
  readonly batchSize: number;
  readonly synchronous?: 'FULL' | 'NORMAL';
  /**
   * Writes a snapshot after this many events since the last one (and at close); 0 = never.
   * Default: SNAPSHOT_EVERY_EVENTS_MIN, or twice the distributor count when that is more.
   */
  readonly snapshotEveryEvents?: number;
  /** Told about snapshots that cannot be used (restart then replays the whole log). */
  readonly warn?: (message: string) => void;
  /** Tables allocated up front; they grow past it by handover. */
  readonly capacity?: EngineCapacity;
  /** Lines gathered before a run of them is sealed and indexed (default INDEX_RUN_LINES). */
  readonly indexRunLines?: number;
  /** Fewest lines of a run one commit indexes (default INDEX_RUN_CHUNK_MIN). */
  readonly indexChunkMin?: number;
}

/**
 * The sequencer thread's connection only reads once the commit thread runs (recovery's log
 * scan, refunds of committed orders, id confirmations, the server's ledger reads), so it gets
 * a small page cache, and a memory map for the ledger's random reads (SQLite caps it near
 * 2 GiB). The writer's cache is the large one.
 */
export const READ_CONNECTION = { cacheSizeMiB: 32, mmapMiB: 2_047 } as const;

/**
 * Batches the commit thread may hold at once (see CommitWriter). Three, not two: some commits
 * take several times an ordinary one (those that carry a run's index rows, seal a run, a sort
 * of ~900k lines, or index everything for a snapshot), and with two in flight the sequencer
 * stalled on each of them while the commit thread idled after. On the 1M / 5M replay a third
 * batch alone took the sequencer's wait for the commit queue from 11-16 s to 10-11 s, and
 * with INDEX_RUN_PACE to 7.5-10 s. Each batch in flight holds its lines and event bodies (a
 * few MB at the default batch size) until it is durable.
 */
const COMMITS_IN_FLIGHT_MAX = 3;
/**
 * A snapshot writes every table (~130 bytes a distributor plus the id tables), so its cost
 * grows with the network: at 10M distributors, one every 2M events took 20 of a 181 s replay.
 * By default the interval grows with the network too (2 events per distributor, at least this
 * many), which keeps a snapshot's share of the work constant; recovery after a crash replays
 * at most about twice that many events without writing (a snapshot may wait an interval to be
 * published: Engine.snapshotMidstream).
 */
export const SNAPSHOT_EVERY_EVENTS_MIN = 2_000_000;
const SNAPSHOT_EVENTS_PER_DISTRIBUTOR = 2;

/** Events between snapshots when the options name none, for a network of `distributors`. */
export function defaultSnapshotInterval(distributors: number): number {
  return Math.max(SNAPSHOT_EVERY_EVENTS_MIN, SNAPSHOT_EVENTS_PER_DISTRIBUTOR * distributors);
}

export interface Accepted {
  /** One result per input, in order. */
  readonly results: EventResult[];
  /** Resolves once every batch these inputs fell into is committed. */
  readonly durable: Promise<void>;
}

/**
 * A sequenced batch as the engine hands it to its observer (the live server), after the merge
 * and before the commit: its lines in ledger order and its events, event `i` at seq
 * `firstSeq + i`. Valid only during the call: the engine reuses every buffer.
 */
export interface BatchView {
  readonly firstSeq: number;
  readonly events: readonly UplineEvent[];
  readonly lines: LineColumns;
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
  /** Where the sequencer thread's time went since open (recovery not included). */
  private readonly phases = new PhaseTimer();
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
  /** Where `settle` answers each event of the inputs at hand; null when no one asks. */
  private results: EventResult[] | null = null;
  private recovering = false;
  /** Started after recovery; owns the only write connection. */
  private writer: CommitWriter | null = null;
  /** Commits of the current submit not yet awaited. */
  private pendingDurable: Promise<void>[] = [];

  readonly state: EngineState;
  /** Told of every batch once its results are known (not during recovery). */
  batchObserver: ((batch: BatchView) => void) | null = null;
  private readonly recent: RecentEvents;
  /** The batch's event bodies as they are encoded for its commit message. */
  private readonly bodies = new EventBodies();
  /** Lines of committed (and in-flight) events the line index does not hold yet. */
  private readonly tail = new LedgerTail();
  /** The ledger as readers see it: the index plus the tail (ledger-reads.ts). */
  readonly ledger: LedgerReads;
  /** During recovery: what the index held when it began (its lines are not gathered again). */
  private recoveryIndex: IndexState | null = null;
  private readonly indexRunLines: number;
  private lastSnapshotSeq = 0;
  /** The seq of a snapshot written mid-stream and not yet published (snapshotMidstream). */
  private unpublishedSnapshotSeq: number | null = null;
  /**
   * Lines of committed orders read by this batch's order id confirms (`committedOrderIdAt`),
   * for its merge; cleared after each merge, so bounded by a batch's refunds.
   */
  private readonly confirmedOrderLines = new Map<number, LineRow[]>();
  /** 0 = never, null = the default that grows with the network (EngineOptions). */
  private readonly snapshotEveryEvents: number | null;

  private constructor(
    readonly store: Store,
    private readonly options: EngineOptions,
  ) {
    // Every event not yet durable must stay findable: the open batch and those in flight.
    this.recent = new RecentEvents(options.batchSize * (COMMITS_IN_FLIGHT_MAX + 2));
    const ids: SeqIds = {
      eventIdAt: (seq) => this.recent.idAt(seq) ?? this.store.eventAt(seq)?.id,
      orderIdAt: (seq) => this.recent.orderIdAt(seq) ?? this.committedOrderIdAt(seq),
    };
    const state = new EngineState(compilePlan(options.plan), ids, options.capacity);
    this.state = state;
    this.snapshotEveryEvents = options.snapshotEveryEvents ?? null;
    this.indexRunLines = options.indexRunLines ?? INDEX_RUN_LINES;
    this.ledger = new LedgerReads(store, this.tail, state, () => this.writer?.inFlightCount ?? 0);
    assert(Number.isInteger(this.indexRunLines) && this.indexRunLines >= 1, 'indexRunLines >= 1');
    const plan = state.plan;
    this.batch = new Batch(options.batchSize, plan.orderWalkLinesMax);
    this.sequencer = new Sequencer(state, this.batch);
    this.merge = new Merge(state, this.batch, (seq) => this.committedLinesAt(seq));
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
            resourceLimits: HELPER_THREAD_LIMITS,
          })
        : null;
    const pool = this.pool;
    this.periodClose = new PeriodClose(
      state,
      pool === null ? null : (task) => pool.run(task) as Promise<number>,
      options.workers,
    );
  }

  static async open(options: EngineOptions): Promise<Engine> {
    assert(Number.isInteger(options.workers) && options.workers >= 0, 'workers must be >= 0');
    const store = Store.open(options.dbFile, {
      synchronous: options.synchronous ?? 'FULL',
      ...READ_CONNECTION,
    });
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
    let engine: Engine;
    try {
      engine = new Engine(store, options);
    } catch (error) {
      store.close();
      throw error;
    }
    await engine.recover();
    engine.writer = new CommitWriter(
      {
        dbFile: options.dbFile,
        synchronous: options.synchronous ?? 'FULL',
        indexChunkMin: options.indexChunkMin ?? INDEX_RUN_CHUNK_MIN,
      },
      COMMITS_IN_FLIGHT_MAX,
    );
    return engine;
  }

  /**
   * Processes inputs in order: each a raw NDJSON line (string) or a parsed value. Resolves
   * once every batch they fell into is committed, with one result per input.
   */
  async submit(inputs: readonly unknown[]): Promise<EventResult[]> {
    const accepted = await this.accept(inputs);
    const waitStarted = performance.now();
    await accepted.durable;
    this.phases.add('commit', waitStarted);
    return accepted.results;
  }

  /** Cumulative seconds per pipeline phase since open (see phase-times.ts). */
  get phaseSeconds(): Readonly<PhaseSeconds> {
    return this.phases.seconds;
  }

  /**
   * Sequences and computes `inputs` (raw NDJSON lines or parsed values, in order) and resolves
   * as soon as every result is known, with `durable`: the promise that they are committed.
   * Nobody may be answered before `durable` resolves. A replay feeds the next chunk without
   * waiting for it, so the commit thread never drains between chunks; the commit queue's
   * bound (COMMITS_IN_FLIGHT_MAX batches) is what holds the sequencer back.
   */
  async accept(inputs: readonly unknown[]): Promise<Accepted> {
    // Validation depends on nothing but the input, so the chunk is validated first: one
    // timed span for the parse phase instead of two clock reads per event.
    const parseStarted = performance.now();
    const validations = inputs.map(checkInput);
    this.phases.add('parse', parseStarted);
    return this.acceptEach(validations, validations, true);
  }

  /**
   * `accept` for inputs the caller has parsed and validated already, each as `checkInput`
   * answers (a replay parses the next chunk while the engine waits on its threads).
   */
  async acceptChecked(validations: readonly Validated[]): Promise<Accepted> {
    return this.acceptEach(validations, validations, true);
  }

  /**
   * `acceptChecked` for a caller that needs no answer per event, only the engine's counters
   * and durability (a replay): `results` stays empty, so no result object is built per event,
   * which on a replay was about 6% of everything the sequencer thread allocated.
   */
  async acceptCheckedUnanswered(validations: readonly Validated[]): Promise<Accepted> {
    return this.acceptEach(validations, validations, false);
  }

  /**
   * `accept` for events validated already (the server validates a body before taking it, to
   * refuse it whole): the same pipeline without validating each event a second time.
   */
  async acceptValidated(events: readonly UplineEvent[]): Promise<Accepted> {
    return this.acceptEach(events, null, true);
  }

  /**
   * `validations` is null when every input is a valid event already; without `answer` the
   * results are left empty (counters only).
   */
  private async acceptEach(
    inputs: readonly unknown[],
    validations: readonly Validated[] | null,
    answer: boolean,
  ): Promise<Accepted> {
    const results: EventResult[] = answer ? new Array<EventResult>(inputs.length) : [];
    this.results = answer ? results : null;
    // A duplicate's answer carries its first event's final outcome, known only after the flush.
    const duplicates: number[] = [];
    const duplicateIds: string[] = [];
    const loopStarted = performance.now();
    const timedInLoop = this.flushAndCloseSeconds();
    for (let index = 0; index < inputs.length; index++) {
      let event: UplineEvent;
      if (validations === null) {
        event = inputs[index] as UplineEvent;
      } else {
        const checked = validations[index]!;
        if (!checked.ok) {
          if (answer)
            results[index] = { seq: null, status: 'rejected', reason: checked.error.reason };
          this.countRejected(checked.error.reason);
          continue;
        }
        event = checked.event;
      }
      if (this.state.taken(event.id) !== -1) {
        if (answer) {
          duplicates.push(index);
          duplicateIds.push(event.id);
        }
        this.counters.duplicates++;
        continue;
      }
      const cut = this.sequence(event, index);
      if (cut !== undefined) await cut;
    }
    // The loop's batch cuts and closes are timed as their own phases; the rest is sequencing.
    const loopSeconds = (performance.now() - loopStarted) / 1000;
    this.phases.seconds.sequence += loopSeconds - (this.flushAndCloseSeconds() - timedInLoop);
    await this.flush();
    const durable = Promise.all(this.pendingDurable).then(() => undefined);
    // A caller that drops `durable` still hears of a failed commit: the next batch throws.
    durable.catch(() => undefined);
    this.pendingDurable = [];
    duplicates.forEach((index, at) => (results[index] = this.duplicateResult(duplicateIds[at]!)));
    const every = this.snapshotInterval();
    if (every > 0 && this.state.lastSeq - this.lastSnapshotSeq >= every) {
      const snapshotStarted = performance.now();
      // The last snapshot still waits for the index a whole interval later (few lines came,
      // so no run has sealed past it): this one indexes everything first and is published.
      if (this.unpublishedSnapshotSeq === null) this.snapshotMidstream();
      else await this.snapshotWhileIndexing();
      this.phases.add('snapshot', snapshotStarted);
    }
    return { results, durable };
  }

  private snapshotInterval(): number {
    return this.snapshotEveryEvents ?? defaultSnapshotInterval(this.state.count);
  }

  private flushAndCloseSeconds(): number {
    const { walk, merge, commit, close } = this.phases.seconds;
    return walk + merge + commit + close;
  }

  private duplicateResult(eventId: string): EventResult {
    const taken = this.state.taken(eventId);
    assert(taken !== -1, 'a duplicate id is taken');
    const outcome = takenOutcome(taken);
    const reason = ruleReasonFromCode(outcome);
    const first =
      reason === null ? { status: 'accepted' as const } : { status: 'rejected' as const, reason };
    return { seq: takenSeq(taken), status: 'duplicate', first };
  }

  /**
   * Gives `event` the next seq and applies its serial phase; cuts batches as needed. Returns
   * the cut's promise, or undefined when there is nothing to wait for: most events neither
   * cut a batch nor close a period, and an async call per event cost a promise and a
   * microtask turn each on the sequencer thread.
   */
  private sequence(
    event: UplineEvent,
    resultIndex: number,
    loggedOutcome = -1,
  ): Promise<void> | undefined {
    if (event.type === 'period.close') return this.sequenceClose(event, resultIndex, loggedOutcome);
    const seq = ++this.state.lastSeq;
    const entry = this.beginEntry(seq);
    const outcome = this.sequencer.apply(event, seq);
    this.recordEntry(entry, seq, event, resultIndex, loggedOutcome, outcome);
    return this.batch.full ? this.flush() : undefined;
  }

  /** A close stands alone in its batch: no walk phase may see a period reset mid-batch. */
  private async sequenceClose(
    event: UplineEvent,
    resultIndex: number,
    loggedOutcome: number,
  ): Promise<void> {
    await this.flush();
    const seq = ++this.state.lastSeq;
    const entry = this.beginEntry(seq);
    const closeStarted = performance.now();
    await this.periodClose.run(seq, event.at, this.batch.serialLines);
    this.phases.add('close', closeStarted);
    this.recordEntry(entry, seq, event, resultIndex, loggedOutcome, OUTCOME_ACCEPTED);
    await this.flush();
  }

  /** Opens `seq`'s entry in the batch; returns the entry's index. */
  private beginEntry(seq: number): number {
    const batch = this.batch;
    batch.begin(seq);
    return batch.entryCount - 1;
  }

  private recordEntry(
    entry: number,
    seq: number,
    event: UplineEvent,
    resultIndex: number,
    loggedOutcome: number,
    outcome: number,
  ): void {
    this.entryOutcome[entry] = outcome;
    this.entryEvents[entry] = event;
    this.entryResultIndex[entry] = resultIndex;
    this.entryLoggedOutcome[entry] = loggedOutcome;
    this.recent.record(seq, event);
    this.state.take(event.id, seq, outcome);
  }

  private async flush(): Promise<void> {
    const batch = this.batch;
    if (batch.entryCount === 0) return;
    const walkStarted = performance.now();
    await this.walk();
    const mergeStarted = this.phases.add('walk', walkStarted);
    this.merge.run(this.entryOutcome);
    this.confirmedOrderLines.clear();
    for (let entry = 0; entry < batch.entryCount; entry++) {
      const event = this.entryEvents[entry]!;
      const seq = batch.entrySeq[entry]!;
      const outcome = this.entryOutcome[entry]!;
      if (batch.entryKind[entry] === ENTRY_WITHDRAW) this.state.settleTaken(event.id, seq, outcome);
      this.settle(entry, seq, outcome);
    }
    if (this.recovering) {
      const index = this.recoveryIndex;
      assert(index !== null, 'recovery knows what the index holds');
      const lines = this.merge.output;
      this.tail.append(lines, (row) => !isIndexed(index, lines.beneficiary[row]!, lines.seq[row]!));
      for (let entry = 0; entry < batch.entryCount; entry++) {
        if (this.entryLoggedOutcome[entry] !== this.entryOutcome[entry]) {
          const seq = batch.entrySeq[entry];
          throw new AssertionError(`replayed seq ${seq} gave another outcome than logged`);
        }
      }
    } else {
      assert(this.writer !== null, 'the commit thread runs once recovery is over');
      this.batchObserver?.({
        firstSeq: batch.entrySeq[0]!,
        events: this.entryEvents,
        lines: this.merge.output,
      });
      const commitStarted = this.phases.add('merge', mergeStarted);
      await this.writer.waitForRoom();
      this.publishReadySnapshot();
      this.tail.append(this.merge.output);
      const message = this.commitMessage(this.indexControl());
      this.pendingDurable.push(this.writer.commit(message, batch.entrySeq[0]!));
      this.phases.add('commit', commitStarted);
    }
    batch.reset();
    this.entryEvents.length = 0;
  }

  /**
   * Seals the gathered lines into a run once there are enough and the last run is indexed
   * (the commit thread inserts one run at a time); the tail seals at the same batch.
   */
  private indexControl(): IndexControl {
    const tail = this.tail;
    if (tail.sealedCount > 0) tail.dropIndexed(this.store.indexState().cursor);
    if (tail.sealedCount > 0 || tail.gatheringCount < this.indexRunLines) return INDEX_NOTHING;
    tail.seal(this.state.lastSeq);
    return INDEX_SEAL;
  }

  /**
   * Has the commit thread index every line it holds, in one commit with no events: for a
   * snapshot that cannot wait for the index runs (recovery from it must find every line up to
   * its seq indexed) and at close.
   */
  private async indexEverything(): Promise<void> {
    const writer = this.writer;
    assert(writer !== null && this.batch.entryCount === 0, 'indexed between batches');
    await writer.waitForRoom();
    await this.sendIndexEverything(writer);
  }

  /**
   * Posts `indexEverything`'s commit behind the batches in flight (commits run in order, so it
   * is durable only after all of them) and returns at once, so the caller may work meanwhile;
   * the promise resolves once it is durable, when the tail's lines are all in the index.
   */
  private sendIndexEverything(writer: CommitWriter): Promise<void> {
    const message = indexOnlyMessage(this.state.lastSeq);
    return writer.commit(message, this.state.lastSeq + 1).then(() => this.tail.clear());
  }

  /** The batch as columns for the commit thread (see commit-message.ts). */
  private commitMessage(index: IndexControl): Omit<CommitMessage, 'batchId'> {
    const batch = this.batch;
    const count = batch.entryCount;
    const eventType = new Uint8Array(count);
    const eventAtMs = new Float64Array(count);
    const eventIdEnd = new Int32Array(count);
    const eventOrderIdEnd = new Int32Array(count);
    const eventBodyEnd = new Int32Array(count);
    const bodies = this.bodies;
    assert(bodies.length === 0, 'the last batch took its bodies');
    let ids = '';
    let orderIds = '';
    for (let entry = 0; entry < count; entry++) {
      const event = this.entryEvents[entry]!;
      eventType[entry] = eventTypeCode(event.type);
      eventAtMs[entry] = event.at;
      ids += event.id;
      eventIdEnd[entry] = ids.length;
      orderIds += orderIdOf(event) ?? '';
      eventOrderIdEnd[entry] = orderIds.length;
      eventBodyEnd[entry] = bodies.append(event);
    }
    const eventBodies = bodies.take();
    return {
      cursorSeq: this.state.lastSeq,
      eventCount: count,
      eventSeq: batch.entrySeq.slice(0, count),
      eventType,
      eventAtMs,
      eventOutcome: this.entryOutcome.slice(0, count),
      eventIds: ids,
      eventIdEnd,
      eventOrderIds: orderIds,
      eventOrderIdEnd,
      eventBodies,
      eventBodyEnd,
      lines: copyLines(this.merge.output),
      index,
    };
  }

  private settle(entry: number, seq: number, outcome: number): void {
    const reason = ruleReasonFromCode(outcome);
    if (reason === null) {
      this.counters.accepted++;
    } else {
      this.countRejected(reason);
    }
    if (this.recovering || this.results === null) return;
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
    const pool = this.pool;
    const shared = {
      distributors: shareTable(this.state.distributors),
      changeTable: shareTable(batch.changes.table),
      changeEntries: shareTable(batch.changes.entries),
      orders: shareTable(batch.orders),
      walkLines: shareTable(batch.walkLines),
    };
    const taskCount = Math.min(this.options.workers, orderCount);
    await runInRanges(orderCount, taskCount, (fromIndex, toIndex) => {
      const walkTask: WalkTask = { kind: 'walk', ...shared, fromIndex, toIndex };
      return pool.run(walkTask) as Promise<number>;
    });
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
    const inFlight = this.writer?.linesInFlight(seq);
    if (inFlight !== undefined) {
      buffer.append(inFlight.lines, inFlight.from, inFlight.to);
      return buffer;
    }
    for (const row of this.confirmedOrderLines.get(seq) ?? this.store.orderLinesAt(seq)) {
      buffer.push(
        row.seq,
        row.ordinal,
        row.beneficiary,
        row.type,
        row.level,
        row.source,
        row.amountCents,
      );
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
    const index = this.store.indexState();
    const image = this.usableSnapshot(cursor, index.cursor);
    if (image !== undefined) {
      this.state.adopt(image);
      this.recent.restartAt(this.state.lastSeq);
      this.lastSnapshotSeq = this.state.lastSeq;
    }
    if (cursor !== this.state.lastSeq) {
      this.recovering = true;
      this.recoveryIndex = index;
      for (const logged of this.store.eventsAfter(this.state.lastSeq)) {
        assert(logged.seq === this.state.lastSeq + 1, 'the log has a gap');
        const cut = this.sequence(decodeEvent(logged.body), -1, logged.outcome);
        if (cut !== undefined) await cut;
      }
      await this.flush();
      this.recovering = false;
      this.recoveryIndex = null;
      assert(this.state.lastSeq === cursor, 'recovery must end at the committed cursor');
      this.resetCounters();
    }
    // The lines replay found unindexed, and the rest of a run a crash interrupted, are
    // indexed now, before the commit thread starts: it begins with the index at the cursor.
    if (this.tail.lineCount > 0 || index.cursor !== cursor || index.runEnd !== cursor) {
      this.store.indexRest(this.tail.gathered);
      this.tail.clear();
    }
  }

  /**
   * The snapshot next to the database, if it belongs to it: not ahead of the cursor, and the
   * event at its seq is the one its id table says. Anything else is only a slower restart.
   */
  private usableSnapshot(cursor: number, indexCursor: number): SnapshotImage | undefined {
    const file = snapshotPathFor(this.options.dbFile);
    let image: SnapshotImage | undefined;
    try {
      image = readSnapshot(file);
    } catch (error) {
      if (!(error instanceof UplineError)) throw error;
      this.options.warn?.(`${file}: snapshot not used: ${error.message}`);
      return undefined;
    }
    if (image === undefined) return undefined;
    const seq = image.scalars.lastSeq;
    const logged = seq === 0 ? undefined : this.store.eventAt(seq);
    // Replay regenerates the lines of events after the snapshot only: those up to it must be
    // indexed, as the engine makes so before it publishes a snapshot.
    const matches =
      seq <= indexCursor &&
      seq <= cursor &&
      (seq === 0 ||
        (logged !== undefined &&
          image.eventIds.get(logged.id, (taken) => takenSeq(taken) === seq) !== -1));
    if (!matches) {
      this.options.warn?.(`${file}: snapshot does not match the database; replaying the log`);
      return undefined;
    }
    return image;
  }

  /**
   * A snapshot between batches, written to `<db>.snapshot.tmp` and published only once the log
   * and the line index reach its seq (`publishReadySnapshot`, at each batch boundary): the
   * commits in flight land, and the index runs get there on their own within a run or two at
   * a replay's volume. Until then the snapshot before it stands, so a crash meanwhile replays
   * from there. The alternative, `snapshotWhileIndexing`, sends a commit that indexes every
   * line and waits for it: up to ~1M lines, 1-1.3 s with the sequencer idle for each of the
   * later mid-stream snapshots of a 1M / 5M replay. It is still the fallback for a snapshot
   * due while the last one is unpublished: at a trickle of lines no run seals for hours.
   */
  private snapshotMidstream(): void {
    assert(this.batch.entryCount === 0, 'snapshots are taken between batches');
    writeSnapshotTemporary(snapshotPathFor(this.options.dbFile), this.state.image());
    this.unpublishedSnapshotSeq = this.state.lastSeq;
    this.lastSnapshotSeq = this.state.lastSeq;
    this.publishReadySnapshot();
  }

  /** Publishes the snapshot written mid-stream once the log and the index have reached it. */
  private publishReadySnapshot(): void {
    const seq = this.unpublishedSnapshotSeq;
    // index_cursor never passes the cursor (indexState reads both in one statement and asserts
    // it), so the index having reached `seq` means the log has too.
    if (seq === null || this.store.indexState().cursor < seq) return;
    publishSnapshot(snapshotPathFor(this.options.dbFile));
    this.unpublishedSnapshotSeq = null;
  }

  /**
   * A snapshot between batches, written while the commit thread commits what is in flight and
   * indexes every line it holds (`sendIndexEverything`): the two take about as long, on two
   * cores. The file is published only once that commit is durable, so a snapshot is never
   * ahead of the log or the line index.
   */
  private async snapshotWhileIndexing(): Promise<void> {
    const writer = this.writer;
    assert(writer !== null && this.batch.entryCount === 0, 'snapshots are taken between batches');
    await writer.waitForRoom();
    const indexed = this.sendIndexEverything(writer);
    // Should the write throw first, a failed commit is still reported (by the next batch).
    indexed.catch(() => undefined);
    const file = snapshotPathFor(this.options.dbFile);
    writeSnapshotTemporary(file, this.state.image());
    await indexed;
    assert(writer.inFlightCount === 0, 'snapshot ahead of the log');
    publishSnapshot(file);
    // It overwrote the image of any snapshot still unpublished.
    this.unpublishedSnapshotSeq = null;
    this.lastSnapshotSeq = this.state.lastSeq;
  }

  /** Writes the state image; only at a batch boundary with every batch durable. */
  private snapshot(): void {
    assert(this.batch.entryCount === 0, 'snapshots are taken between batches');
    assert(this.writer === null || this.writer.inFlightCount === 0, 'snapshot ahead of the log');
    writeSnapshot(snapshotPathFor(this.options.dbFile), this.state.image());
    this.lastSnapshotSeq = this.state.lastSeq;
  }

  /**
   * A confirm of the order id at `seq` that reads the log (the event is not recent). The same
   * read brings an order's lines, which a refund's merge needs next: kept until then, so a
   * refund reads its order's row once (two reads took ~20 us a refund on the sequencer).
   */
  private committedOrderIdAt(seq: number): string | undefined {
    const row = this.store.orderRowAt(seq);
    if (row === undefined) return undefined;
    if (row.lines !== null) this.confirmedOrderLines.set(seq, row.lines);
    return row.orderId ?? undefined;
  }

  private resetCounters(): void {
    this.counters.accepted = 0;
    this.counters.duplicates = 0;
    this.counters.rejected.clear();
    this.phases.reset();
  }

  async close(): Promise<void> {
    try {
      try {
        await Promise.all(this.pendingDurable);
        if (this.writer !== null) await this.indexEverything();
      } finally {
        // Even after a failure: the commit and checkpoint threads must end, or they keep the
        // process alive.
        await this.writer?.close();
        this.writer = null;
      }
      // Everything is indexed and durable now: a snapshot still unpublished can be, and the
      // close's own snapshot replaces it when events came after it.
      this.publishReadySnapshot();
      if (this.snapshotInterval() > 0 && this.state.lastSeq !== this.lastSnapshotSeq) {
        this.snapshot();
      }
    } finally {
      if (this.pool !== null) await this.pool.destroy();
      this.store.close();
    }
  }
}
