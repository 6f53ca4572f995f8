/**
 * The on-disk layout of an upline database: one SQLite file in WAL mode.
 *
 * Why each table looks the way it does:
 *
 * - `meta` holds a handful of scalars (schema version, cursor, plan). The cursor lives here and
 *   is updated in the same transaction as the batch it acknowledges, so "cursor = last seq in
 *   `events`" holds after any crash.
 * - `events` is the event log: every valid, non-duplicate event with the seq it was given and
 *   its outcome (0 accepted, else the rule reason code). `seq` is the rowid (INTEGER PRIMARY
 *   KEY), so appending is a b-tree append and `eventsAfter` is a rowid range scan. There is
 *   no index on `id`: the engine dedupes against its event-id table (fingerprint -> seq,
 *   restored by snapshot and log replay, each match confirmed by the event row at that seq),
 *   and nothing reads an event by id. Schema v5's UNIQUE index was a random b-tree insert per
 *   event that no read used: 3M events went in at 400k rows/s with it and 600k without, and
 *   with random (UUID) ids at 32k against 354k, since every commit rewrote the index pages
 *   it touched. `body` is the msgpack-encoded normalized event (see event-codec.ts): replay
 *   needs every field, and a blob keeps the table one shape for six event types. `order_id`
 *   repeats the order id of an order or a refund (NULL for other events) so that readers get
 *   it without the body: a line served with its order id, a refund confirming the order it
 *   names. Reading it from the body cost a Buffer and a decoded event per line: "my last 50
 *   lines" on the 50M-line bench, p99 0.90-1.62 ms with the body and 0.56-0.60 with the
 *   column, three paired runs. A refund's confirm on the sequencer thread cost ~14 us.
 * - The ledger is the line index below: one row per line, keyed for the reads that matter (a
 *   distributor's newest lines, per distributor sums) and holding every column of the line
 *   (type, level, source, amount), so "my last 50 lines" is one bounded range scan plus one
 *   rowid lookup per line for its order id. A line is written once, as one row. The order id
 *   is not a column of the index, which saves ~10-70 bytes a line. There are no CHECK
 *   constraints either: they would run per row on the write path; `commitBatch` asserts the
 *   same invariants once per line in JS before anything is written.
 *   The view `ledger` is the line index, for exports, tests and operators: it holds every line
 *   once the engine has closed (a close indexes what it holds in memory).
 * - A refund reverses the lines of one order (SPEC 3.3), so an order's row of `events` also
 *   carries its lines, `lines`, an ORDER_LINES blob (native-layout/order-lines.ts; NULL for
 *   every other event and for an order that paid nothing). Schema v3 kept a second table,
 *   `lines` (seq, ordinal, beneficiary), clustered by seq for this lookup: a second b-tree row
 *   per line that cost the commit thread about a third of its time; the blob is a few bytes
 *   more in a row that is written anyway.
 * - The line index is one WITHOUT ROWID table on (beneficiary, seq, ordinal), written in
 *   runs, never line by line. Every insert of a random beneficiary dirties a page of the
 *   index, and every commit then rewrites every page it dirtied: with one commit per batch
 *   that cost ~600 bytes of WAL and most of the commit thread's time per line (schema v4 kept
 *   a small "hot" index for this and swept it into the big one; the hot pages were still
 *   rewritten by every commit). So a commit writes no index rows (its lines follow from the
 *   log it does write), and the commit thread gathers them in memory into a run of
 *   about INDEX_RUN_LINES lines; the run is then sorted and inserted in key order over the
 *   following commits, one key range of about INDEX_RUN_PACE times the commit's own lines
 *   each, so every index page is touched at most once per run and no commit stalls for a
 *   whole run.
 *   Three meta values say what the index holds, in the same transactions as the rows:
 *   `index_cursor` c0 (every line of an event up to c0 is indexed), `index_run_end` c1 and
 *   `index_run_from` b (a run of the events (c0, c1] is being inserted, and its lines of
 *   beneficiaries below b already are). Lines of committed events not yet indexed are
 *   served from the engine's memory (src/ledger/ledger-tail.ts) and rebuilt from the log by
 *   recovery, so none is lost or indexed twice (docs/pipeline.md "The line index").
 * - `snapshot` is a single row (`CHECK (id = 1)`) holding the engine's state image at a seq,
 *   so recovery is "load snapshot, replay `events` after its seq".
 *
 * All tables are STRICT: a fractional or text amount can never be stored by mistake (STRICT
 * still converts an integral double, which is how better-sqlite3 binds JS numbers).
 */

/** Bump on any change to the DDL below; `Store.open` refuses a file with another version. */
export const SCHEMA_VERSION = 7;

/**
 * Lines gathered in memory before they are sealed into a run and indexed (see above). Bigger
 * runs touch each index page for more lines, but cost memory on two threads; 2^20 - 2^17
 * leaves room for the batch that completes a run within a 2^20-line buffer (LineBuffer
 * doubles), where 2^20 itself would double every run's buffers to 2^21.
 */
export const INDEX_RUN_LINES = (1 << 20) - (1 << 17);
/**
 * Fewest lines of a run one commit inserts (it inserts INDEX_RUN_PACE times its own lines when
 * that is more): small, so a server's small commits each carry a small share of a run, not a
 * latency spike.
 */
export const INDEX_RUN_CHUNK_MIN = 1_024;
/**
 * Lines of the open run a commit inserts per line it brings. Above 1, so a run is indexed
 * before the next one has gathered (a run sealed at R lines is done once about R / PACE more
 * have arrived, with room left for the commits in flight, whose lines the sequencer counts
 * but whose index chunks it has not seen committed). Close to 1, so a run's inserts are
 * spread over most of the commits until the next seal: at 2, half the commits of a replay
 * carried an index chunk and took 160-240 ms while the rest took 25-35 ms, and the sequencer
 * waited on the heavy ones while the commit thread idled through the light ones.
 */
export const INDEX_RUN_PACE = 1.5;

/**
 * 16 KiB database pages instead of SQLite's 4 KiB. A commit appends every page it dirtied to
 * the WAL, a frame (header, checksum, write) per page, and the checkpoint thread copies them
 * again; with bigger pages a batch's appends to `events` and its key range of the line index
 * take a quarter of the frames. Measured on a 3M-event replay (per-thread CPU profiles, three
 * runs each): the commit thread's transaction commits 2.9-3.1 s against 3.9-4.2 s, the
 * checkpoint thread 2.1-2.3 s against 3.5-4.0 s.
 */
export const PAGE_SIZE_BYTES = 16_384;

/** How far the WAL may grow before a checkpoint must rewind it, whatever the page size. */
export const WAL_BYTES_MAX = 256 * 1024 * 1024;

/** Written to the SQLite header (`PRAGMA application_id`) so a foreign file is recognised. */
export const APPLICATION_ID = 0x55504c4e; // 'UPLN'

export const META_SCHEMA_VERSION = 'schema_version';
export const META_CURSOR = 'cursor';
export const META_PLAN = 'plan';
export const META_INDEX_CURSOR = 'index_cursor';
export const META_INDEX_RUN_END = 'index_run_end';
export const META_INDEX_RUN_FROM = 'index_run_from';

/** Column order of the line index tables as the multi-row insert binds it. */
export const LINE_INDEX_COLUMNS = [
  'beneficiary',
  'seq',
  'ordinal',
  'type',
  'level',
  'source',
  'amount',
] as const;

export const SCHEMA_SQL = `
CREATE TABLE meta (
  key TEXT PRIMARY KEY,
  value ANY
) STRICT, WITHOUT ROWID;

CREATE TABLE events (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL,
  type INTEGER NOT NULL,
  at INTEGER NOT NULL,
  outcome INTEGER NOT NULL,
  order_id TEXT,
  body BLOB NOT NULL,
  lines BLOB
) STRICT;

CREATE TABLE line_index (
  ${LINE_INDEX_COLUMNS.map((column) => `${column} INTEGER NOT NULL`).join(',\n  ')},
  PRIMARY KEY (beneficiary, seq, ordinal)
) STRICT, WITHOUT ROWID;

CREATE VIEW ledger AS SELECT * FROM line_index;

CREATE TABLE snapshot (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  seq INTEGER NOT NULL,
  data BLOB NOT NULL
) STRICT;
`;

/** Past every beneficiary id (ids are at most 2^31 - 1): `index_run_from` when no run is open. */
export const BENEFICIARY_END = 2 ** 31;

/** Column order of `events` as the multi-row insert binds it. */
export const EVENT_COLUMNS = [
  'seq',
  'id',
  'type',
  'at',
  'outcome',
  'order_id',
  'body',
  'lines',
] as const;

/** A whole line, as the `ledger` view gives it with `amount AS amountCents`. */
export interface LineRow {
  readonly seq: number;
  readonly ordinal: number;
  readonly beneficiary: number;
  /** Index into LINE_TYPES. */
  readonly type: number;
  readonly level: number;
  readonly source: number;
  readonly amountCents: number;
}

/**
 * One event as the log stores it. `type` is its index in EVENT_TYPES; `outcome` is
 * OUTCOME_ACCEPTED (0) or a rule reason code (`ruleReasonCode`); `body` is `encodeEvent` of
 * the normalized event.
 */
export interface LoggedEvent {
  readonly seq: number;
  readonly id: string;
  readonly type: number;
  readonly at: number;
  readonly outcome: number;
  /** `orderIdOf` the event: the order id of an order or a refund, else null. */
  readonly orderId: string | null;
  readonly body: Uint8Array;
}
