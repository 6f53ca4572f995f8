/**
 * Builds a synthetic ledger of L lines for ledger-query.bench.ts, cached in WORK_DIR.
 *
 * Shape: L / LINES_PER_EVENT order events, each with LINES_PER_EVENT lines whose beneficiaries
 * are uniform random over distributors 1..D (so each distributor's lines are scattered over
 * the whole file, the worst case for "my last N lines"), line types cycling over the order
 * line types (each served line reads its order id from its event's row).
 *
 * Two ways in, the same schema (Store.open creates it) and the same rows:
 * - `commit`: the engine's own write path, `Store.commitBatch` with large batches.
 * - `bulk`: events and lines are inserted in (seq, ordinal) order with the store's own
 *   multi-row inserters in big transactions with synchronous=NORMAL, and the lines go into
 *   the line index in runs of INDEX_RUN_LINES, each in key order, as the engine's commit
 *   thread does. Same contents as the commit path, without a commit per batch.
 */
import * as fs from 'node:fs';
import { performance } from 'node:perf_hooks';

import Database from 'better-sqlite3';

import { createLineColumns, type LineColumns } from '../src/ledger/line-columns.js';
import { lineTypeCode } from '../src/ledger/line.js';
import { EventInserter, LineInserter } from '../src/store/batch-insert.js';
import { encodeEvent, eventTypeCode } from '../src/store/event-codec.js';
import { LineBuffer } from '../src/ledger/line-buffer.js';
import {
  INDEX_RUN_LINES,
  PAGE_SIZE_BYTES,
  SCHEMA_VERSION,
  type LoggedEvent,
} from '../src/store/schema.js';
import { applyPragmas, Store } from '../src/store/store.js';
import { removeDatabase } from './support.js';

export type BuildMethod = 'commit' | 'bulk';

export interface LedgerParams {
  readonly lines: number;
  readonly distributors: number;
  readonly method: BuildMethod;
  readonly seed: number;
}

export interface LedgerBuild {
  readonly ms: number;
  readonly lines: number;
  readonly events: number;
}

/** What a cached file must have been built with to stand for this revision's ledger. */
interface BuildLayout {
  readonly schemaVersion: number;
  readonly pageSize: number;
}

const LAYOUT: BuildLayout = { schemaVersion: SCHEMA_VERSION, pageSize: PAGE_SIZE_BYTES };

export const LINES_PER_EVENT = 8;
/** Events per transaction (x LINES_PER_EVENT lines): large, as the brief asks. */
const EVENTS_PER_BATCH = 16_384;
/** A bigger page cache than the engine's while building; queries open with the default. */
const BUILD_CACHE_MIB = 2_048;
const START_AT_MS = 1_735_689_600_000;
const ORDER = eventTypeCode('order');
const ORDER_LINE_TYPES = ['fast_start', 'unilevel', 'matching', 'rank_bonus'] as const;

class Random {
  constructor(private state: number) {}
  /** xorshift32: seeded, so the same parameters give the same ledger. */
  below(count: number): number {
    let x = this.state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.state = x;
    return (x >>> 0) % count;
  }
}

/** Fills events and lines for seqs first..first+count-1. */
function fillBatch(
  random: Random,
  params: LedgerParams,
  first: number,
  count: number,
  lines: LineColumns,
): LoggedEvent[] {
  const events: LoggedEvent[] = new Array<LoggedEvent>(count);
  let row = 0;
  for (let index = 0; index < count; index++) {
    const seq = first + index;
    const buyer = 1 + random.below(params.distributors);
    const at = START_AT_MS + seq * 1000;
    const event = { id: `e-${seq}`, type: 'order' as const, at, order: `o-${seq}` };
    const body = encodeEvent({ ...event, distributor: buyer, pv: 100, cv: 10_000 });
    events[index] = { seq, id: event.id, type: ORDER, at, outcome: 0, orderId: event.order, body };
    for (let ordinal = 0; ordinal < LINES_PER_EVENT; ordinal++, row++) {
      lines.seq[row] = seq;
      lines.ordinal[row] = ordinal;
      lines.beneficiary[row] = 1 + random.below(params.distributors);
      lines.type[row] = lineTypeCode(ORDER_LINE_TYPES[ordinal % ORDER_LINE_TYPES.length]!);
      lines.level[row] = ordinal + 1;
      lines.source[row] = buyer;
      lines.amountCents[row] = 100 + random.below(10_000);
    }
  }
  lines.count = row;
  return events;
}

function progress(done: number, total: number, started: number): void {
  const seconds = (performance.now() - started) / 1000;
  const rate = Math.round(done / Math.max(seconds, 1e-9));
  console.error(`  ${done}/${total} lines, ${seconds.toFixed(0)} s, ${rate} lines/s`);
}

function buildByCommit(file: string, params: LedgerParams, eventCount: number): void {
  const store = Store.open(file, { synchronous: 'NORMAL', cacheSizeMiB: BUILD_CACHE_MIB });
  const random = new Random(params.seed | 1);
  const lines = createLineColumns(EVENTS_PER_BATCH * LINES_PER_EVENT);
  const started = performance.now();
  try {
    for (let first = 1; first <= eventCount; first += EVENTS_PER_BATCH) {
      const count = Math.min(EVENTS_PER_BATCH, eventCount - first + 1);
      const events = fillBatch(random, params, first, count, lines);
      store.commitBatch(events, lines, first + count - 1);
      if ((first - 1) % (EVENTS_PER_BATCH * 32) === 0) {
        progress((first - 1 + count) * LINES_PER_EVENT, params.lines, started);
      }
    }
  } finally {
    store.close();
  }
}

function buildByBulk(file: string, params: LedgerParams, eventCount: number): void {
  Store.open(file).close(); // the real schema, meta rows included
  const db = new Database(file);
  applyPragmas(db, { synchronous: 'NORMAL', cacheSizeMiB: BUILD_CACHE_MIB });
  const random = new Random(params.seed | 1);
  const lines = createLineColumns(EVENTS_PER_BATCH * LINES_PER_EVENT);
  const eventInserter = new EventInserter(db);
  const lineInserter = new LineInserter(db);
  const started = performance.now();
  const run = new LineBuffer();
  try {
    const insert = db.transaction((events: LoggedEvent[], last: boolean) => {
      eventInserter.insert(events, lines);
      run.append(lines);
      if (run.count >= INDEX_RUN_LINES || last) {
        lineInserter.insertAll(run);
        run.clear();
      }
    });
    for (let first = 1; first <= eventCount; first += EVENTS_PER_BATCH) {
      const count = Math.min(EVENTS_PER_BATCH, eventCount - first + 1);
      insert(fillBatch(random, params, first, count, lines), first + count > eventCount);
      if ((first - 1) % (EVENTS_PER_BATCH * 32) === 0) {
        progress((first - 1 + count) * LINES_PER_EVENT, params.lines, started);
      }
    }
    console.error(`  lines in after ${((performance.now() - started) / 1000).toFixed(0)} s`);
    db.prepare(
      "UPDATE meta SET value = ? WHERE key IN ('cursor', 'index_cursor', 'index_run_end')",
    ).run(eventCount);
    db.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    db.close();
  }
}

/**
 * Builds `file` unless a finished build of the same parameters is there, made with this
 * revision's schema and page size: a file left by an older layout would measure that layout.
 */
export function ensureLedger(
  file: string,
  params: LedgerParams,
): LedgerBuild & { cached: boolean } {
  const doneFile = `${file}.done.json`;
  if (fs.existsSync(file) && fs.existsSync(doneFile)) {
    const done = JSON.parse(fs.readFileSync(doneFile, 'utf8')) as Partial<BuildLayout> &
      LedgerBuild;
    if (done.schemaVersion === LAYOUT.schemaVersion && done.pageSize === LAYOUT.pageSize) {
      console.error(`using cached ledger ${file}`);
      return { ms: done.ms, lines: done.lines, events: done.events, cached: true };
    }
    console.error(`cached ledger ${file} has another layout: rebuilding`);
  }
  fs.rmSync(doneFile, { force: true });
  removeDatabase(file);
  const eventCount = Math.ceil(params.lines / LINES_PER_EVENT);
  console.error(`building ${eventCount * LINES_PER_EVENT} lines by ${params.method} ...`);
  const started = performance.now();
  if (params.method === 'commit') buildByCommit(file, params, eventCount);
  else buildByBulk(file, params, eventCount);
  const build = {
    ms: Math.round(performance.now() - started),
    lines: eventCount * LINES_PER_EVENT,
    events: eventCount,
  };
  fs.writeFileSync(doneFile, JSON.stringify({ ...build, ...LAYOUT }));
  return { ...build, cached: false };
}
