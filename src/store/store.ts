/**
 * The durable side of the engine: one SQLite file (better-sqlite3, WAL) holding the event log,
 * the ledger, the cursor, the plan and the state snapshot. Layout and its reasons: schema.ts.
 *
 * Durability contract: the engine calls `commitBatch` once per batch; it writes the batch's
 * events, its lines and the new cursor in ONE transaction, and the batch is acknowledged only
 * after it returns. SQLite's WAL commit is atomic, so after a crash (kill -9, power loss with
 * synchronous=FULL) the file is before or after a whole batch, never in between.
 *
 * One connection, one writer: better-sqlite3 is synchronous, so the store is used from one
 * thread. While an iterator from `eventsAfter`/`earningsByDistributor` is open the connection
 * may run other reads (`orderLinesAt`, `eventAt`) but not writes (better-sqlite3 throws
 * "connection is busy"): finish replay before the first `commitBatch`.
 */
import Database from 'better-sqlite3';

import { AssertionError, assert, assertSafeInteger } from '../core/assert.js';
import { UplineError } from '../core/errors.js';
import { EVENT_TYPES } from '../events/types.js';
import { RULE_REASONS } from '../events/reasons.js';
import { ID_LENGTH_MAX, ORDER_ID_LENGTH_MAX } from '../events/validate.js';
import { LINE_TYPES, lineTypeCode, type EarningType, type Line } from '../ledger/line.js';
import type { LineColumns } from '../ledger/line-columns.js';
import { readOrderLines } from '../../native-layout/index.js';
import { EventInserter, LineInserter } from './batch-insert.js';
import { ORDER_EVENT_CODE, REFUND_EVENT_CODE } from './event-codec.js';
import {
  assertIndexState,
  INDEX_ALL,
  IndexRuns,
  isIndexed,
  type IndexControl,
  type IndexState,
} from './index-runs.js';
import {
  EARNINGS_OF_SQL,
  EARNINGS_SQL,
  EVENT_ORDER_SQL,
  RECENT_LINE_COLUMNS,
  RECENT_LINES_SQL,
  recentLineRow,
  toEarnings,
  toEarningsOf,
  toLines,
  type DistributorEarnings,
  type EarningsOfStatement,
  type EarningsRow,
  type EventOrderRow,
  type RecentLineRow,
  type RecentLinesParams,
  type RecentLinesStatement,
} from './ledger-query.js';
import {
  APPLICATION_ID,
  BENEFICIARY_END,
  INDEX_RUN_CHUNK_MIN,
  META_CURSOR,
  META_INDEX_CURSOR,
  META_INDEX_RUN_END,
  META_INDEX_RUN_FROM,
  META_PLAN,
  META_SCHEMA_VERSION,
  PAGE_SIZE_BYTES,
  SCHEMA_SQL,
  SCHEMA_VERSION,
  WAL_BYTES_MAX,
  type LineRow,
  type LoggedEvent,
} from './schema.js';

export type { LineRow, LoggedEvent } from './schema.js';
export type { DistributorEarnings } from './ledger-query.js';
export type { IndexControl, IndexState } from './index-runs.js';

/** `Store.orderRowAt`: an event's order id and, for an order, its lines. */
export interface CommittedOrderRow {
  readonly orderId: string | null;
  readonly lines: LineRow[] | null;
}

export interface StoreOptions {
  /**
   * FULL (default): the WAL is fsynced at every commit, so an acknowledged batch survives
   * power loss. NORMAL: it survives a process crash only (fsync at checkpoints).
   */
  readonly synchronous?: 'FULL' | 'NORMAL';
  /** Page cache; the upper levels of the line index should fit. */
  readonly cacheSizeMiB?: number;
  /** Fewest lines of a run one commit indexes (tests make it small to see many steps). */
  readonly indexChunkMin?: number;
  /**
   * Bytes of the file read through a memory map instead of read() calls (0 = none; SQLite's
   * build caps it near 2 GiB). Worth it for a connection that does random reads over a big
   * ledger: a page already in the OS cache costs a memory access instead of a system call.
   */
  readonly mmapMiB?: number;
  /**
   * false: this connection never checkpoints the WAL; a Checkpointer thread does, so no
   * commit stalls copying the WAL into the database file (checkpointer.ts). Default true.
   */
  readonly autoCheckpoint?: boolean;
  /** Opens an existing file for reading (export, inspection); no schema is created. */
  readonly readonly?: boolean;
  readonly busyTimeoutMs?: number;
}

/** Raw SQLite values: synchronous 2 = FULL, 1 = NORMAL; temp_store 2 = MEMORY. */
export interface StoreSettings {
  readonly journalMode: string;
  readonly synchronous: number;
  /** Negative: KiB. */
  readonly cacheSize: number;
  readonly tempStore: number;
  readonly foreignKeys: number;
  readonly busyTimeoutMs: number;
}

/**
 * The writer's page cache. Under schema v4 it held the hot index's pages and 64 MiB cost 7% at
 * 10M distributors. Since schema v5 the line index is written in sorted runs, once a page per
 * run, and the replay's critical path is the sequencer thread, not the writer: a 10M / 5M
 * replay measured 202.8 s with 32 MiB against 209.2 s with 128 MiB (minutes apart, same
 * code), while the 10M-distributor memory probe's peak fell from 1.55 to 1.43 GiB.
 */
export const CACHE_SIZE_MIB_DEFAULT = 32;
export const BUSY_TIMEOUT_MS_DEFAULT = 5_000;
/**
 * Pages in the WAL before a commit also checkpoints it into the main file (256 MiB of pages of
 * PAGE_SIZE_BYTES; a file made with 4 KiB pages checkpoints at 64 MiB). Random
 * beneficiaries dirty a line-index page per line, so each commit appends up to a page per
 * line to the WAL; checkpointing rarely copies each hot page once per checkpoint
 * instead of once per commit (measured: 16k-line batches 71k -> 114k lines/s vs 4096 pages).
 * The WAL file may grow to about this size; `journal_size_limit` trims it back afterwards.
 */
export const WAL_AUTOCHECKPOINT_PAGES = WAL_BYTES_MAX / PAGE_SIZE_BYTES;
export const JOURNAL_SIZE_LIMIT_BYTES = 64 * 1024 * 1024;

/** The biggest `limit` `recentLines` serves: it is an API page, not an export. */
export const RECENT_LINES_LIMIT_MAX = 1_000;

const WITHDRAWAL = lineTypeCode('withdrawal');

type Db = Database.Database;

interface Writer {
  readonly runs: IndexRuns;
  readonly setPlan: Database.Statement<[string], unknown>;
  readonly saveSnapshot: Database.Statement<[number, Uint8Array], unknown>;
  readonly commit: (
    events: readonly LoggedEvent[],
    lines: LineColumns,
    cursor: number,
    control: IndexControl,
  ) => void;
  readonly indexRest: (lines: LineColumns, cursor: number) => void;
}

interface Readers {
  readonly cursor: Database.Statement<[], number>;
  readonly indexMeta: Database.Statement<[], { key: string; value: number }>;
  readonly eventOrder: Database.Statement<[number], EventOrderRow>;
  readonly plan: Database.Statement<[], string>;
  readonly eventsAfter: Database.Statement<[number], LoggedEvent>;
  readonly eventAt: Database.Statement<[number], LoggedEvent>;
  readonly orderRow: Database.Statement<
    [number],
    { type: number; orderId: string | null; lines: Buffer | null }
  >;
  readonly recentLines: RecentLinesStatement;
  readonly earnings: Database.Statement<[], EarningsRow>;
  readonly earningsOf: EarningsOfStatement;
  readonly snapshot: Database.Statement<[], { seq: number; data: Buffer }>;
  readonly lastEventSeq: Database.Statement<[], number>;
}

export class Store {
  private readonly readers: Readers;
  private readonly writer: Writer | null;

  private constructor(
    private readonly db: Db,
    indexChunkMin: number,
  ) {
    this.readers = prepareReaders(db);
    this.writer = db.readonly ? null : prepareWriter(db, this.readers, indexChunkMin);
  }

  static open(file: string, options: StoreOptions = {}): Store {
    const readonly = options.readonly ?? false;
    const db = openDatabase(file, readonly, options.busyTimeoutMs ?? BUSY_TIMEOUT_MS_DEFAULT);
    try {
      applyPragmas(db, options);
      if (!readonly) createSchemaIfEmpty(db);
      verifySchema(db, file);
      const store = new Store(db, options.indexChunkMin ?? INDEX_RUN_CHUNK_MIN);
      store.assertCursorMatchesLog();
      return store;
    } catch (error) {
      db.close();
      throw error;
    }
  }

  close(): void {
    this.db.close();
  }

  /** Seq of the last committed event; 0 for a new database. */
  cursor(): number {
    const cursor = this.readers.cursor.get();
    assert(cursor !== undefined, 'meta cursor row missing');
    assertSafeInteger(cursor, 'cursor');
    assert(cursor >= 0, 'cursor is negative');
    return cursor;
  }

  /**
   * Writes one batch in one transaction: `events` must continue the log (seqs cursor+1,
   * cursor+2, ...), `lines` must belong to those events (seq within the batch, ordinals 0.. in
   * order per seq) and `cursorSeq` must be the last event's seq (the cursor if there are no
   * events). Any violation, or any SQLite error (e.g. a duplicate event id), throws and leaves
   * the database exactly as it was. `control` says what the line index does in the same
   * transaction (index-runs.ts); the default, INDEX_ALL, indexes every line at once, which is
   * what a caller that reads the index right after wants. The engine's commit thread gathers
   * lines into runs instead.
   */
  commitBatch(
    events: readonly LoggedEvent[],
    lines: LineColumns,
    cursorSeq: number,
    control: IndexControl = INDEX_ALL,
  ): void {
    const writer = this.writableOrThrow();
    const cursor = this.cursor();
    assertBatchEvents(events, cursor, cursorSeq);
    assertBatchLines(lines, cursor, cursorSeq);
    if (events.length === 0) {
      assert(lines.count === 0, 'lines without events');
      const complete = writer.runs.pendingCount === 0 && this.indexState().cursor === cursor;
      if (!control.all || complete) return; // Nothing to make durable: spare the fsync.
    }
    writer.commit(events, lines, cursorSeq, control);
  }

  /**
   * What the line index holds (index-runs.ts), as of the last commit: one statement, so the
   * values come from one commit even while the commit thread writes.
   */
  indexState(): IndexState {
    return readIndexState(this.readers);
  }

  /**
   * Recovery: indexes `lines`, every line of committed events that the index lacks, in ledger
   * order, and closes any run a crash interrupted: the index then reaches the cursor.
   */
  indexRest(lines: LineColumns): void {
    const writer = this.writableOrThrow();
    const cursor = this.cursor();
    assertUnindexedLines(lines, this.indexState(), cursor);
    writer.indexRest(lines, cursor);
  }

  /** Runs `read` in one read transaction: every query in it sees the same commit. */
  consistentRead<T>(read: () => T): T {
    return this.db.transaction(read)();
  }

  /**
   * `rows` (lines of committed events, newest first) as lines with their order ids: for lines
   * the index does not hold yet, which carry no event columns of their own.
   */
  withOrders(rows: readonly LineRow[]): Line[] {
    return toLines(
      rows.map((row) => {
        const event = this.readers.eventOrder.get(row.seq);
        assert(event !== undefined, `line of seq ${row.seq} has no committed event`);
        return recentLineRow(row, event);
      }),
    );
  }

  /**
   * Every logged event after `seq`, in seq order, streamed (crash recovery replays the log
   * after the snapshot's seq). Reads are allowed while iterating; writes are not.
   */
  eventsAfter(seq: number): IterableIterator<LoggedEvent> {
    assertSafeInteger(seq, 'eventsAfter seq');
    return this.readers.eventsAfter.iterate(seq);
  }

  /** The logged event with this seq (a primary-key lookup), if committed. */
  eventAt(seq: number): LoggedEvent | undefined {
    assertSafeInteger(seq, 'eventAt seq');
    return this.readers.eventAt.get(seq);
  }

  /**
   * What a refund reads of the committed event at `seq`, in one primary-key lookup: its order
   * id (`orderIdOf` the event: null for an event that names no order), to confirm the order a
   * refund names, and for an order the lines it wrote (`orderLinesAt`; null for other events).
   * Undefined if no event is committed at `seq`.
   */
  orderRowAt(seq: number): CommittedOrderRow | undefined {
    assertSafeInteger(seq, 'orderRowAt seq');
    const row = this.readers.orderRow.get(seq);
    if (row === undefined) return undefined;
    const lines = row.type === ORDER_EVENT_CODE ? orderLinesOf(seq, row.lines) : null;
    return { orderId: row.orderId, lines };
  }

  /**
   * The lines the committed order at `seq` wrote, in ordinal order (what a refund reverses),
   * from the order's own row of the log; [] for an order that paid nothing. Asserts `seq` is
   * a logged order: nothing else is ever reversed.
   */
  orderLinesAt(seq: number): LineRow[] {
    const row = this.orderRowAt(seq);
    assert(row !== undefined, `no event at seq ${seq}`);
    assert(row.lines !== null, `event ${seq} is not an order`);
    return row.lines;
  }

  /**
   * A distributor's newest indexed lines first, each with its order id (docs "Lines"); the
   * engine adds the lines not indexed yet (src/engine/ledger-reads.ts). Pages: pass
   * the last line's seq and ordinal as `beforeSeq`/`beforeOrdinal` to get the next page; a
   * `beforeSeq` alone means "lines of events before that seq".
   */
  recentLines(distributor: number, limit: number, beforeSeq?: number, beforeOrdinal = 0): Line[] {
    assert(Number.isInteger(limit) && limit >= 1, 'recentLines limit must be >= 1');
    assert(limit <= RECENT_LINES_LIMIT_MAX, `recentLines limit > ${RECENT_LINES_LIMIT_MAX}`);
    const seq = beforeSeq ?? Number.MAX_SAFE_INTEGER;
    assertSafeInteger(seq, 'beforeSeq');
    assertSafeInteger(beforeOrdinal, 'beforeOrdinal');
    const params = { beneficiary: distributor, seq, ordinal: beforeOrdinal, limit };
    return toLines(this.readers.recentLines.all(params));
  }

  /** One distributor's net earnings by type from the indexed lines of events up to `upto`. */
  earningsOf(distributor: number, upto: number): Record<EarningType, number> {
    assertSafeInteger(upto, 'upto');
    return toEarningsOf(this.readers.earningsOf.all({ beneficiary: distributor, upto }));
  }

  /**
   * Per beneficiary (ascending), net earnings by type, withdrawn total and balance, summed
   * by SQLite. Only distributors with lines appear: the export fills in the others.
   */
  *earningsByDistributor(): IterableIterator<DistributorEarnings> {
    for (const row of this.readers.earnings.iterate()) yield toEarnings(row);
  }

  /**
   * Stores the engine's state image as of `seq` (replacing the previous one). `seq` may not be
   * ahead of the cursor: recovery replays the log after it, so the log must reach it.
   */
  saveSnapshot(seq: number, data: Uint8Array): void {
    const writer = this.writableOrThrow();
    assertSafeInteger(seq, 'snapshot seq');
    assert(seq >= 0, 'snapshot seq is negative');
    assert(seq <= this.cursor(), `snapshot seq ${seq} is ahead of the cursor`);
    const previous = this.loadSnapshot();
    assert(previous === undefined || seq >= previous.seq, 'snapshot seq goes backwards');
    writer.saveSnapshot.run(seq, data);
  }

  loadSnapshot(): { seq: number; data: Buffer } | undefined {
    const snapshot = this.readers.snapshot.get();
    if (snapshot !== undefined) assertSafeInteger(snapshot.seq, 'snapshot seq');
    return snapshot;
  }

  /**
   * Records the plan (canonical JSON text) the database is made with. Setting the same text
   * again is a no-op; a different plan is refused: its lines would not be this plan's.
   */
  setPlan(json: string): void {
    const writer = this.writableOrThrow();
    const current = this.plan();
    if (current === json) return;
    if (current !== undefined) {
      throw new UplineError('UPLINE_DB_MISMATCH', 'database was made with a different plan');
    }
    writer.setPlan.run(json);
  }

  plan(): string | undefined {
    return this.readers.plan.get();
  }

  /** The connection's effective pragmas, for tests and the admin view. */
  settings(): StoreSettings {
    const read = (name: string): unknown => this.db.pragma(name, { simple: true });
    return {
      journalMode: String(read('journal_mode')),
      synchronous: Number(read('synchronous')),
      cacheSize: Number(read('cache_size')),
      tempStore: Number(read('temp_store')),
      foreignKeys: Number(read('foreign_keys')),
      busyTimeoutMs: Number(read('busy_timeout')),
    };
  }

  private writableOrThrow(): Writer {
    if (this.writer === null) throw new AssertionError('store is opened read-only');
    return this.writer;
  }

  /** Check on read: the cursor is exactly the last logged seq (both 0 when empty). */
  private assertCursorMatchesLog(): void {
    const last = this.readers.lastEventSeq.get() ?? 0;
    assert(this.cursor() === last, `cursor ${this.cursor()} != last event seq ${last}`);
  }
}

function openDatabase(file: string, readonly: boolean, busyTimeoutMs: number): Db {
  try {
    return new Database(file, { readonly, fileMustExist: readonly, timeout: busyTimeoutMs });
  } catch (error) {
    throw new UplineError('UPLINE_IO', `cannot open database ${file}`, { cause: error });
  }
}

/**
 * Every pragma explicit (STYLE 15): better-sqlite3's build defaults differ from SQLite's
 * (foreign keys on, synchronous NORMAL in WAL), and we do not want to inherit either.
 * Exported for the insert benchmark, which drives the same connection settings.
 */
export function applyPragmas(db: Db, options: StoreOptions): void {
  const cacheSizeMiB = options.cacheSizeMiB ?? CACHE_SIZE_MIB_DEFAULT;
  assert(Number.isInteger(cacheSizeMiB) && cacheSizeMiB >= 1, 'cacheSizeMiB must be >= 1');
  if (!db.readonly) {
    let mode: unknown;
    try {
      // Only a new, empty file takes it (before WAL is on); an existing file keeps its own.
      db.pragma(`page_size = ${PAGE_SIZE_BYTES}`);
      mode = db.pragma('journal_mode = WAL', { simple: true });
    } catch (error) {
      throw new UplineError('UPLINE_DB_MISMATCH', `${db.name} is not a database`, {
        cause: error,
      });
    }
    if (mode !== 'wal') throw new UplineError('UPLINE_IO', `${db.name}: cannot enable WAL`);
    db.pragma(`synchronous = ${options.synchronous ?? 'FULL'}`);
    const autoCheckpoint = options.autoCheckpoint ?? true;
    db.pragma(`wal_autocheckpoint = ${autoCheckpoint ? WAL_AUTOCHECKPOINT_PAGES : 0}`);
    db.pragma(`journal_size_limit = ${JOURNAL_SIZE_LIMIT_BYTES}`);
  }
  db.pragma(`cache_size = ${-cacheSizeMiB * 1024}`); // negative: KiB, not pages
  const mmapMiB = options.mmapMiB ?? 0;
  assert(Number.isInteger(mmapMiB) && mmapMiB >= 0, 'mmapMiB must be >= 0');
  db.pragma(`mmap_size = ${mmapMiB * 1024 * 1024}`);
  db.pragma('temp_store = MEMORY');
  db.pragma('foreign_keys = OFF'); // no foreign keys exist; the per-row check costs anyway
  db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? BUSY_TIMEOUT_MS_DEFAULT}`);
  db.pragma('trusted_schema = OFF'); // the schema uses no functions; refuse any that appear
}

function createSchemaIfEmpty(db: Db): void {
  db.transaction(() => {
    const count = db.prepare<[], number>('SELECT count(*) FROM sqlite_schema').pluck().get();
    if (count !== 0) return;
    db.exec(SCHEMA_SQL);
    db.pragma(`application_id = ${APPLICATION_ID}`);
    const insert = db.prepare<[string, number | string]>('INSERT INTO meta VALUES (?, ?)');
    insert.run(META_SCHEMA_VERSION, SCHEMA_VERSION);
    insert.run(META_CURSOR, 0);
    insert.run(META_INDEX_CURSOR, 0);
    insert.run(META_INDEX_RUN_END, 0);
    insert.run(META_INDEX_RUN_FROM, BENEFICIARY_END);
  }).immediate();
}

function verifySchema(db: Db, file: string): void {
  const applicationId = db.pragma('application_id', { simple: true });
  if (applicationId !== APPLICATION_ID) {
    throw new UplineError('UPLINE_DB_MISMATCH', `${file} is not an upline database`);
  }
  const version = db
    .prepare<[string], unknown>('SELECT value FROM meta WHERE key = ?')
    .pluck()
    .get(META_SCHEMA_VERSION);
  if (version !== SCHEMA_VERSION) {
    throw new UplineError(
      'UPLINE_DB_MISMATCH',
      `${file} has schema_version ${String(version)}, this upline needs ${SCHEMA_VERSION}`,
    );
  }
}

/** A row of `events` as a LoggedEvent (the FROM clause included). */
const LOGGED_EVENT_COLUMNS = 'seq, id, type, at, outcome, order_id AS orderId, body FROM events';

function prepareReaders(db: Db): Readers {
  const meta = `SELECT value FROM meta WHERE key = `;
  return {
    cursor: db.prepare<[], number>(`${meta}'${META_CURSOR}'`).pluck(),
    indexMeta: db.prepare(
      `SELECT key, value FROM meta WHERE key IN ('${META_CURSOR}', '${META_INDEX_CURSOR}',
        '${META_INDEX_RUN_END}', '${META_INDEX_RUN_FROM}')`,
    ),
    eventOrder: db.prepare(EVENT_ORDER_SQL),
    plan: db.prepare<[], string>(`${meta}'${META_PLAN}'`).pluck(),
    eventsAfter: db.prepare(`SELECT ${LOGGED_EVENT_COLUMNS} WHERE seq > ? ORDER BY seq`),
    eventAt: db.prepare(`SELECT ${LOGGED_EVENT_COLUMNS} WHERE seq = ?`),
    orderRow: db.prepare('SELECT type, order_id AS orderId, lines FROM events WHERE seq = ?'),
    recentLines: prepareRecentLines(db),
    earnings: db.prepare(EARNINGS_SQL),
    earningsOf: db.prepare(EARNINGS_OF_SQL),
    snapshot: db.prepare('SELECT seq, data FROM snapshot WHERE id = 1'),
    lastEventSeq: db.prepare<[], number>('SELECT max(seq) FROM events').pluck(),
  };
}

/**
 * What the line index holds, read in one statement, so the values come from one commit even
 * while the commit thread writes; checked against the cursor read with them.
 */
function readIndexState(readers: Readers): IndexState {
  const values = new Map(readers.indexMeta.all().map((row) => [row.key, row.value]));
  const read = (key: string): number => {
    const value = values.get(key);
    assert(value !== undefined, `meta ${key} row missing`);
    assertSafeInteger(value, key);
    return value;
  };
  const state = {
    cursor: read(META_INDEX_CURSOR),
    runEnd: read(META_INDEX_RUN_END),
    runFrom: read(META_INDEX_RUN_FROM),
  };
  assertIndexState(state, read(META_CURSOR));
  return state;
}

function prepareWriter(db: Db, readers: Readers, indexChunkMin: number): Writer {
  const events = new EventInserter(db);
  const runs = new IndexRuns(new LineInserter(db), indexChunkMin);
  const setMeta = db.prepare<[number, string]>('UPDATE meta SET value = ? WHERE key = ?');
  const set = (key: string, value: number): void => {
    assert(setMeta.run(value, key).changes === 1, `meta ${key} row missing`);
  };
  const setIndexState = (before: IndexState, after: IndexState, cursor: number): void => {
    assertIndexState(after, cursor);
    if (after.cursor !== before.cursor) set(META_INDEX_CURSOR, after.cursor);
    if (after.runEnd !== before.runEnd) set(META_INDEX_RUN_END, after.runEnd);
    if (after.runFrom !== before.runFrom) set(META_INDEX_RUN_FROM, after.runFrom);
  };
  const transaction = db.transaction(
    (batch: readonly LoggedEvent[], lines: LineColumns, cursor: number, control: IndexControl) => {
      events.insert(batch, lines);
      const before = readIndexState(readers);
      setIndexState(before, runs.step(lines, cursor, control, before), cursor);
      set(META_CURSOR, cursor);
      assert(readers.cursor.get() === cursor, 'cursor did not move');
    },
  );
  const indexRest = db.transaction((lines: LineColumns, cursor: number) => {
    setIndexState(readIndexState(readers), runs.indexRest(lines, cursor), cursor);
  });
  return {
    runs,
    setPlan: db.prepare(`INSERT INTO meta VALUES ('${META_PLAN}', ?)`),
    saveSnapshot: db.prepare(
      `INSERT INTO snapshot (id, seq, data) VALUES (1, ?, ?)
       ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, data = excluded.data`,
    ),
    // IMMEDIATE: take the write lock at BEGIN, so a busy database fails before any work.
    commit: (batch, lines, cursor, control) => transaction.immediate(batch, lines, cursor, control),
    indexRest: (lines, cursor) => indexRest.immediate(lines, cursor),
  };
}

/** RECENT_LINES_SQL in raw mode, its columns checked against RecentLineRow's order. */
function prepareRecentLines(db: Db): RecentLinesStatement {
  const statement = db.prepare<[RecentLinesParams], RecentLineRow>(RECENT_LINES_SQL).raw(true);
  const names = statement.columns().map((column) => column.name);
  assert(names.join() === RECENT_LINE_COLUMNS.join(), `recent lines columns: ${names.join()}`);
  return statement;
}

/** An order's ORDER_LINES blob (schema.ts) as its lines; [] for an order that paid nothing. */
function orderLinesOf(seq: number, blob: Buffer | null): LineRow[] {
  if (blob === null) return [];
  return readOrderLines(blob).map((line, ordinal) => {
    assertSafeInteger(line.amountCents, 'line amount');
    return { seq, ordinal, ...line };
  });
}

function fail(message: string): never {
  throw new AssertionError(message);
}

function assertBatchEvents(events: readonly LoggedEvent[], cursor: number, cursorSeq: number) {
  assertSafeInteger(cursorSeq, 'cursorSeq');
  assert(cursorSeq === cursor + events.length, `cursorSeq ${cursorSeq} != last event seq`);
  for (let index = 0; index < events.length; index++) {
    const event = events[index];
    assert(event !== undefined, 'events array has a hole');
    // Per event and per line below: messages are built only on failure (no string per row).
    if (event.seq !== cursor + 1 + index) fail(`event seq ${event.seq} does not continue the log`);
    assert(event.id.length >= 1 && event.id.length <= ID_LENGTH_MAX, 'event id length');
    assert(Number.isInteger(event.type), 'event type is not an integer');
    assert(event.type >= 0 && event.type < EVENT_TYPES.length, 'event type out of range');
    assertSafeInteger(event.at, 'event at');
    assert(event.at >= 0, 'event at is negative');
    assert(Number.isInteger(event.outcome), 'event outcome is not an integer');
    assert(event.outcome >= 0 && event.outcome <= RULE_REASONS.length, 'outcome out of range');
    assert(event.body instanceof Uint8Array && event.body.length > 0, 'event body is empty');
    const namesOrder = event.type === ORDER_EVENT_CODE || event.type === REFUND_EVENT_CODE;
    const orderId = event.orderId;
    if (namesOrder !== (orderId !== null)) fail(`order id of event ${event.seq}`);
    if (orderId !== null && !(orderId.length >= 1 && orderId.length <= ORDER_ID_LENGTH_MAX)) {
      fail(`order id length of event ${event.seq}`);
    }
  }
}

/**
 * One pass over the batch's lines: each belongs to an event of the batch, (seq, ordinal)
 * strictly increases with ordinals 0, 1, ... per seq, and amounts are non-zero safe integers.
 */
function assertBatchLines(lines: LineColumns, cursor: number, cursorSeq: number): void {
  assert(Number.isInteger(lines.count) && lines.count >= 0, 'lines count');
  for (const column of [lines.ordinal, lines.beneficiary, lines.type, lines.level, lines.source]) {
    assert(column.length >= lines.count, 'lines column shorter than count');
  }
  assert(lines.seq.length >= lines.count && lines.amountCents.length >= lines.count, 'columns');
  let seqPrevious = cursor;
  let ordinalPrevious = -1;
  for (let row = 0; row < lines.count; row++) {
    const seq = lines.seq[row] as number;
    const ordinal = lines.ordinal[row] as number;
    if (!(Number.isInteger(seq) && seq > cursor && seq <= cursorSeq)) fail(`line seq ${seq} range`);
    if (seq < seqPrevious) fail(`line seq ${seq} goes backwards`);
    const ordinalExpected = seq === seqPrevious ? ordinalPrevious + 1 : 0;
    if (ordinal !== ordinalExpected) fail(`line ${seq}/${ordinal}: expected ${ordinalExpected}`);
    seqPrevious = seq;
    ordinalPrevious = ordinal;
    assertLineValues(lines, row);
  }
}

/**
 * Lines recovery found unindexed: in strictly increasing (seq, ordinal) order, none that the
 * index holds already (a run a crash interrupted indexed some of its lines, not others).
 */
function assertUnindexedLines(lines: LineColumns, state: IndexState, cursor: number): void {
  let seqPrevious = 0;
  let ordinalPrevious = -1;
  for (let row = 0; row < lines.count; row++) {
    const seq = lines.seq[row] as number;
    const ordinal = lines.ordinal[row] as number;
    if (!(Number.isInteger(seq) && seq <= cursor)) fail(`line seq ${seq} range`);
    if (isIndexed(state, lines.beneficiary[row] as number, seq)) fail(`line ${seq} is indexed`);
    const increases = seq > seqPrevious || (seq === seqPrevious && ordinal > ordinalPrevious);
    if (!increases || !Number.isInteger(ordinal)) fail(`line ${seq}/${ordinal} out of order`);
    seqPrevious = seq;
    ordinalPrevious = ordinal;
    assertLineValues(lines, row);
  }
}

function assertLineValues(lines: LineColumns, row: number): void {
  const amount = lines.amountCents[row] as number;
  const type = lines.type[row] as number;
  assert((lines.beneficiary[row] as number) >= 1, 'line beneficiary must be >= 1');
  assert((lines.source[row] as number) >= 1, 'line source must be >= 1');
  if (type >= LINE_TYPES.length) fail(`line type ${type} out of range`);
  assertSafeInteger(amount, 'line amount');
  assert(amount !== 0, 'a line of 0 is never written');
  assert(type !== WITHDRAWAL || amount < 0, 'a withdrawal line must be negative');
}
