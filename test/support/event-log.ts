import { existsSync } from 'node:fs';
import * as assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { orderIdOf } from '../../src/events/types.js';
import { decodeEvent } from '../../src/store/event-codec.js';
import type { LedgerRow } from './pipeline.js';

/** A logged event as plain values: `[seq, id, type, at, outcome, order id, body as hex]`. */
export type EventLogRow = readonly [number, string, number, number, number, string | null, string];

/** The whole event log of a database in seq order (read-only connection). */
export function readEventLog(dbFile: string): EventLogRow[] {
  const db = new Database(dbFile, { readonly: true, fileMustExist: true });
  try {
    const rows = db
      .prepare('SELECT seq, id, type, at, outcome, order_id, hex(body) FROM events ORDER BY seq')
      .raw()
      .all() as [number, string, number, number, number, string | null, string][];
    return rows;
  } finally {
    db.close();
  }
}

/**
 * The ledger with each line's `seq` replaced by the id of the event at that seq, so two runs
 * whose seqs differ only because one had extra rule-rejected events (which take a seq but
 * write nothing) compare equal line for line: `[eventId, ordinal, beneficiary, type, ...]`.
 */
export function ledgerByEventId(
  ledger: readonly LedgerRow[],
  idAtSeq: ReadonlyMap<number, string>,
): (string | number)[][] {
  return ledger.map((row) => {
    const [seq, ...rest] = row;
    assert.ok(seq !== undefined, 'a ledger row has a seq');
    const id = idAtSeq.get(seq);
    assert.ok(id !== undefined, `ledger line at seq ${seq} has no logged event`);
    return [id, ...rest];
  });
}

/** `seq -> id` of a database's event log. */
export function idsBySeq(log: readonly EventLogRow[]): Map<number, string> {
  return new Map(log.map((row) => [row[0], row[1]]));
}

function scalar(db: Database.Database, sql: string): number | null {
  const value = db.prepare<[], number | null>(sql).pluck().get();
  assert.ok(value === null || typeof value === 'number', `${sql}: ${String(value)}`);
  return value;
}

/**
 * The store's crash invariants, read through a fresh read-only connection: the file is a
 * sound SQLite database, cursor == max(seq) of the log == its row count (no gap), no line
 * belongs to a seq past the cursor or to no logged event, each event's order_id is the one its
 * body names, the line index holds what its meta state says (schema.ts: every line up to
 * index_cursor, each event's ordinals 0, 1, ... without a hole; of a run being inserted,
 * beneficiaries below index_run_from only; nothing later), and a stored snapshot is not ahead
 * of the cursor. A missing file, or one killed before its schema existed, counts as an empty
 * log. Returns the cursor.
 */
export function assertLogInvariants(dbFile: string, label: string): number {
  if (!existsSync(dbFile)) return 0;
  const db = new Database(dbFile, { readonly: true, fileMustExist: true });
  try {
    assert.equal(db.pragma('integrity_check', { simple: true }), 'ok', `${label}: integrity`);
    const tables = scalar(db, "SELECT count(*) FROM sqlite_schema WHERE name = 'meta'");
    if (tables === 0) {
      assert.equal(scalar(db, 'SELECT count(*) FROM sqlite_schema'), 0, `${label}: half schema`);
      return 0;
    }
    const cursor = scalar(db, "SELECT value FROM meta WHERE key = 'cursor'");
    assert.ok(cursor !== null && Number.isSafeInteger(cursor), `${label}: cursor ${cursor}`);
    assert.equal(scalar(db, 'SELECT max(seq) FROM events') ?? 0, cursor, `${label}: max(seq)`);
    assert.equal(scalar(db, 'SELECT count(*) FROM events'), cursor, `${label}: log has a gap`);
    const past = scalar(db, `SELECT count(*) FROM ledger WHERE seq > ${cursor}`);
    assert.equal(past, 0, `${label}: lines past the cursor ${cursor}`);
    const orphans = scalar(
      db,
      'SELECT count(*) FROM ledger WHERE seq NOT IN (SELECT seq FROM events)',
    );
    assert.equal(orphans, 0, `${label}: lines without a logged event`);
    const orderIds = db.prepare<[], [number, string | null, Buffer]>(
      'SELECT seq, order_id, body FROM events',
    );
    for (const [seq, orderId, body] of orderIds.raw().iterate()) {
      assert.equal(orderId, orderIdOf(decodeEvent(body)), `${label}: order_id of ${seq}`);
    }
    const meta = (key: string): number => {
      const value = scalar(db, `SELECT value FROM meta WHERE key = '${key}'`);
      assert.ok(value !== null && Number.isSafeInteger(value), `${label}: ${key} ${value}`);
      return value;
    };
    const [indexCursor, runEnd, runFrom] = [
      meta('index_cursor'),
      meta('index_run_end'),
      meta('index_run_from'),
    ];
    assert.ok(indexCursor <= runEnd && runEnd <= cursor, `${label}: index state out of order`);
    const beyond = scalar(
      db,
      `SELECT count(*) FROM ledger WHERE seq > ${runEnd}
         OR (seq > ${indexCursor} AND beneficiary >= ${runFrom})`,
    );
    assert.equal(beyond, 0, `${label}: lines the index state does not cover`);
    const holes = scalar(
      db,
      `SELECT count(*) FROM (SELECT seq FROM ledger WHERE seq <= ${indexCursor} GROUP BY seq
         HAVING min(ordinal) != 0 OR max(ordinal) != count(*) - 1)`,
    );
    assert.equal(holes, 0, `${label}: an indexed event with partial lines`);
    const snapshots = scalar(db, "SELECT count(*) FROM sqlite_schema WHERE name = 'snapshot'");
    if (snapshots === 1) {
      const snapshotSeq = scalar(db, 'SELECT max(seq) FROM snapshot') ?? 0;
      assert.ok(snapshotSeq <= cursor, `${label}: snapshot at ${snapshotSeq} > cursor ${cursor}`);
    }
    return cursor;
  } finally {
    db.close();
  }
}

/** The line index's meta state (schema.ts) of a database, read-only. */
export function readIndexState(dbFile: string): {
  cursor: number;
  runEnd: number;
  runFrom: number;
} {
  const db = new Database(dbFile, { readonly: true, fileMustExist: true });
  try {
    const value = (key: string): number => {
      const read = scalar(db, `SELECT value FROM meta WHERE key = '${key}'`);
      assert.ok(read !== null, `meta ${key}`);
      return read;
    };
    return {
      cursor: value('index_cursor'),
      runEnd: value('index_run_end'),
      runFrom: value('index_run_from'),
    };
  } finally {
    db.close();
  }
}
