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
 *   KEY), so appending is a b-tree append and `eventsAfter` is a rowid range scan. The UNIQUE
 *   index on `id` is the duplicate check after a restart. `body` is the msgpack-encoded
 *   normalized event (see event-codec.ts): replay needs every field, and a blob keeps the
 *   table one shape for six event types.
 * - The ledger is the line index below: one row per line, keyed for the reads that matter (a
 *   distributor's newest lines, per distributor sums) and holding every column of the line
 *   (type, level, source, amount), so "my last 50 lines" is two bounded range scans with no
 *   lookup per line. A line is written once, as one row. There is no order id column: it is
 *   derived from the event at the line's seq (ledger-query.ts), which saves ~10-70 bytes a
 *   line. There are no CHECK constraints either: they would run per row on the write path;
 *   `commitBatch` asserts the same invariants once per line in JS before anything is written.
 *   The view `ledger` is both index levels, for exports, tests and operators.
 * - A refund reverses the lines of one order (SPEC 3.3), so an order's row of `events` also
 *   carries its lines, `lines`, an ORDER_LINES blob (native-layout/order-lines.ts; NULL for
 *   every other event and for an order that paid nothing). Schema v3 kept a second table,
 *   `lines` (seq, ordinal, beneficiary), clustered by seq for this lookup: a second b-tree row
 *   per line that cost the commit thread about a third of its time; the blob is a few bytes
 *   more in a row that is written anyway.
 * - The line index is kept as two WITHOUT ROWID tables on (beneficiary, seq, ordinal) rather
 *   than one. One big index takes a random b-tree insert per line, and every commit then
 *   rewrites every page it touched: at 15M lines that is tens of thousands of 4 KiB pages per
 *   batch, and throughput falls as the ledger grows (measured 99k lines/s over 15M lines,
 *   ending near 70k). So each batch's entries go into `line_index_hot`, which stays small (a
 *   commit touches few pages), and once it holds `HOT_INDEX_LINES_MAX` entries a sweep moves
 *   them into `line_index_cold` in key order: sorted bulk inserts that touch each cold page at
 *   most once per sweep (measured 180k lines/s, flat, over the same 15M). The sweep is spread
 *   over the following commits, each moving the next key range of about twice its own lines,
 *   so no single commit stalls for the whole hot index (a 1M-entry move took ~1 s and showed
 *   as a p99 ack latency of the same size). A query reads both levels, each a bounded range
 *   scan, newest first; an entry is in exactly one of them at every commit.
 * - `snapshot` is a single row (`CHECK (id = 1)`) holding the engine's state image at a seq,
 *   so recovery is "load snapshot, replay `events` after its seq".
 *
 * All tables are STRICT: a fractional or text amount can never be stored by mistake (STRICT
 * still converts an integral double, which is how better-sqlite3 binds JS numbers).
 */

/** Bump on any change to the DDL below; `Store.open` refuses a file with another version. */
export const SCHEMA_VERSION = 4;

/** Entries the hot index holds before a sweep starts moving it into the cold one. */
export const HOT_INDEX_LINES_MAX = 1_000_000;
/** Fewest entries one commit of a sweep moves. */
export const HOT_INDEX_MERGE_CHUNK_MIN = 4_096;

/** Written to the SQLite header (`PRAGMA application_id`) so a foreign file is recognised. */
export const APPLICATION_ID = 0x55504c4e; // 'UPLN'

export const META_SCHEMA_VERSION = 'schema_version';
export const META_CURSOR = 'cursor';
export const META_PLAN = 'plan';

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

/**
 * The two levels of the line index are one table definition under two names: the view
 * `ledger` and every sweep move rows between them column for column.
 */
function lineIndexLevelSql(table: string): string {
  return `CREATE TABLE ${table} (
  ${LINE_INDEX_COLUMNS.map((column) => `${column} INTEGER NOT NULL`).join(',\n  ')},
  PRIMARY KEY (beneficiary, seq, ordinal)
) STRICT, WITHOUT ROWID;`;
}

export const SCHEMA_SQL = `
CREATE TABLE meta (
  key TEXT PRIMARY KEY,
  value ANY
) STRICT, WITHOUT ROWID;

CREATE TABLE events (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  type INTEGER NOT NULL,
  at INTEGER NOT NULL,
  outcome INTEGER NOT NULL,
  body BLOB NOT NULL,
  lines BLOB
) STRICT;

${lineIndexLevelSql('line_index_hot')}

${lineIndexLevelSql('line_index_cold')}

CREATE VIEW ledger AS
  SELECT * FROM line_index_hot UNION ALL SELECT * FROM line_index_cold;

CREATE TABLE snapshot (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  seq INTEGER NOT NULL,
  data BLOB NOT NULL
) STRICT;
`;

/** Past every beneficiary id (ids are at most 2^31 - 1). */
export const BENEFICIARY_END = 2 ** 31;

/** Where a sweep step that starts at @from and moves about @offset entries ends (exclusive). */
export const SWEEP_END_SQL = `
SELECT beneficiary FROM line_index_hot WHERE beneficiary >= @from
ORDER BY beneficiary LIMIT 1 OFFSET @offset`;

/** One sweep step: the hot entries of beneficiaries [@from, @to), into the cold level in order. */
export const MOVE_HOT_RANGE_SQL = `
INSERT INTO line_index_cold (${LINE_INDEX_COLUMNS.join(', ')})
  SELECT ${LINE_INDEX_COLUMNS.join(', ')} FROM line_index_hot
  WHERE beneficiary >= @from AND beneficiary < @to ORDER BY beneficiary, seq, ordinal`;

export const DELETE_HOT_RANGE_SQL = `
DELETE FROM line_index_hot WHERE beneficiary >= @from AND beneficiary < @to`;

/** Moves the whole hot index into the cold one in key order (bulk ledger builds). */
export const MERGE_HOT_INDEX_SQL = `
INSERT INTO line_index_cold (${LINE_INDEX_COLUMNS.join(', ')})
  SELECT ${LINE_INDEX_COLUMNS.join(', ')} FROM line_index_hot ORDER BY beneficiary, seq, ordinal;
DELETE FROM line_index_hot;`;

/** Column order of `events` as the multi-row insert binds it. */
export const EVENT_COLUMNS = ['seq', 'id', 'type', 'at', 'outcome', 'body', 'lines'] as const;

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
  readonly body: Uint8Array;
}
