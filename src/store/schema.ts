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
 * - `lines` is the ledger. WITHOUT ROWID clusters it on (seq, ordinal): appends go to the
 *   right edge, and "the lines of the event at seq S" (refund reversal) is one range scan.
 *   There is no order id column: it is derived from the event at the line's seq (ledger-query.ts),
 *   which saves ~10-70 bytes a line on the hottest table. There are no CHECK constraints
 *   either: they would run per row on the write path; `commitBatch` asserts the same
 *   invariants once per line in JS before anything is written.
 * - `lines_by_beneficiary(beneficiary, seq DESC, ordinal DESC)` makes "my newest N lines" a
 *   range scan that stops after N entries. In a WITHOUT ROWID table an index entry already
 *   carries the primary key, so listing seq and ordinal costs nothing extra and gives the
 *   order. It is the only secondary index on `lines`: each one costs a random b-tree insert
 *   per line, which is most of the commit cost (see bench/ledger-insert.bench.ts).
 * - `snapshot` is a single row (`CHECK (id = 1)`) holding the engine's state image at a seq,
 *   so recovery is "load snapshot, replay `events` after its seq".
 *
 * All tables are STRICT: a fractional or text amount can never be stored by mistake (STRICT
 * still converts an integral double, which is how better-sqlite3 binds JS numbers).
 */

/** Bump on any change to the DDL below; `Store.open` refuses a file with another version. */
export const SCHEMA_VERSION = 1;

/** Written to the SQLite header (`PRAGMA application_id`) so a foreign file is recognised. */
export const APPLICATION_ID = 0x55504c4e; // 'UPLN'

export const META_SCHEMA_VERSION = 'schema_version';
export const META_CURSOR = 'cursor';
export const META_PLAN = 'plan';

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
  body BLOB NOT NULL
) STRICT;

CREATE TABLE lines (
  seq INTEGER NOT NULL,
  ordinal INTEGER NOT NULL,
  beneficiary INTEGER NOT NULL,
  type INTEGER NOT NULL,
  level INTEGER NOT NULL,
  source INTEGER NOT NULL,
  amount INTEGER NOT NULL,
  PRIMARY KEY (seq, ordinal)
) STRICT, WITHOUT ROWID;

CREATE INDEX lines_by_beneficiary ON lines (beneficiary, seq DESC, ordinal DESC);

CREATE TABLE snapshot (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  seq INTEGER NOT NULL,
  data BLOB NOT NULL
) STRICT;
`;

/** Column order of `lines` as the multi-row insert binds it. */
export const LINE_COLUMNS = [
  'seq',
  'ordinal',
  'beneficiary',
  'type',
  'level',
  'source',
  'amount',
] as const;

/** Column order of `events` as the multi-row insert binds it. */
export const EVENT_COLUMNS = ['seq', 'id', 'type', 'at', 'outcome', 'body'] as const;

/** A row of `lines` as SELECTed with `amount AS amountCents`. */
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
