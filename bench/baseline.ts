/**
 * The peer baseline: the design most MLM back offices run today, measured on the same events
 * as upline so the speed-up is a ratio taken side by side (absolute times on a shared machine
 * drift; ratios hold).
 *
 * - Genealogy as an adjacency list, `distributors(id PRIMARY KEY, sponsor, balance)`.
 * - The upline of an order's buyer fetched per order with a recursive CTE.
 * - One transaction per order, synchronous=FULL in WAL mode (as upline's default): log the
 *   event (its id is the idempotency key), record the order, insert one commission row per
 *   paid ancestor and add it to that ancestor's balance.
 *
 * Simplified in the baseline's favour: it pays the reference plan's unilevel rates (1000, 500,
 * 500, 400, 300, 200, 100 bps of cv) to the 7 nearest sponsor ancestors, with no dynamic
 * compression, no ranks, no matching, fast start, binary or volumes; upline does all of that
 * on every order. Enrollments are loaded in bulk transactions before the clock starts (one
 * transaction each would take the baseline longer than the whole benchmark); only orders are
 * timed, so its rate is orders per second, and other event types are skipped. Parsing the
 * file is not timed either (upline's figure includes its parsing).
 */
import { performance } from 'node:perf_hooks';

import Database from 'better-sqlite3';

import { LineReader } from '../src/io/line-reader.js';
import type { EnrollEvent, OrderEvent } from '../src/events/types.js';
import { parseEventLine } from '../src/events/validate.js';
import { applyBps } from '../src/core/money.js';

/** The reference plan's unilevel bps, levels 1..7 (SPEC 3). */
export const BASELINE_UNILEVEL_BPS = [1000, 500, 500, 400, 300, 200, 100] as const;
const LEVELS = BASELINE_UNILEVEL_BPS.length;
const LINES_PER_READ = 65_536;
const ENROLLMENTS_PER_LOAD_TRANSACTION = 100_000;
/** The clock is read every this many orders: often enough to stop near the budget. */
const ORDERS_PER_CLOCK_READ = 64;

const SCHEMA = `
  CREATE TABLE events (id TEXT PRIMARY KEY, type TEXT NOT NULL, at INTEGER NOT NULL);
  CREATE TABLE distributors (
    id INTEGER PRIMARY KEY,
    sponsor INTEGER REFERENCES distributors (id),
    balance INTEGER NOT NULL DEFAULT 0
  );
  CREATE TABLE orders (id TEXT PRIMARY KEY, distributor INTEGER NOT NULL, cv INTEGER NOT NULL);
  CREATE TABLE commissions (
    id INTEGER PRIMARY KEY,
    order_id TEXT NOT NULL,
    beneficiary INTEGER NOT NULL,
    level INTEGER NOT NULL,
    amount INTEGER NOT NULL
  );
  CREATE INDEX commissions_by_beneficiary ON commissions (beneficiary, id);
`;

/** The buyer's sponsor line, nearest first, at most LEVELS deep. */
const UPLINE_SQL = `
  WITH RECURSIVE upline (id, level) AS (
    SELECT sponsor, 1 FROM distributors WHERE id = ?
    UNION ALL
    SELECT d.sponsor, upline.level + 1
      FROM distributors d JOIN upline ON d.id = upline.id
      WHERE upline.level < ${LEVELS}
  )
  SELECT id, level FROM upline WHERE id IS NOT NULL ORDER BY level`;

interface UplineRow {
  readonly id: number;
  readonly level: number;
}

export interface BaselineResult {
  readonly enrollments: number;
  readonly enrollLoadMs: number;
  readonly orders: number;
  readonly commissionRows: number;
  readonly orderSeconds: number;
  readonly ordersPerSecond: number;
  /** True when the time budget ended the run before the file's orders ran out. */
  readonly budgetReached: boolean;
}

export class AdjacencyListBaseline {
  private readonly db: Database.Database;
  private readonly upline: Database.Statement<[number], UplineRow>;
  private readonly insertEvent: Database.Statement<[string, string, number]>;
  private readonly insertOrder: Database.Statement<[string, number, number]>;
  private readonly insertCommission: Database.Statement<[string, number, number, number]>;
  private readonly addBalance: Database.Statement<[number, number]>;
  private readonly insertDistributor: Database.Statement<[number, number | null]>;
  readonly order: (event: OrderEvent) => number;
  commissionRows = 0;

  constructor(file: string) {
    const db = new Database(file);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    // 256 MiB: at least upline's writer cache (CACHE_SIZE_MIB_DEFAULT), never a starved baseline.
    db.pragma('cache_size = -262144');
    db.exec(SCHEMA);
    this.db = db;
    this.upline = db.prepare<[number], UplineRow>(UPLINE_SQL);
    this.insertEvent = db.prepare('INSERT INTO events (id, type, at) VALUES (?, ?, ?)');
    this.insertOrder = db.prepare('INSERT INTO orders (id, distributor, cv) VALUES (?, ?, ?)');
    this.insertCommission = db.prepare(
      'INSERT INTO commissions (order_id, beneficiary, level, amount) VALUES (?, ?, ?, ?)',
    );
    this.addBalance = db.prepare('UPDATE distributors SET balance = balance + ? WHERE id = ?');
    this.insertDistributor = db.prepare('INSERT INTO distributors (id, sponsor) VALUES (?, ?)');
    // One transaction per order: what a request handler that pays an order does.
    this.order = db.transaction((event: OrderEvent): number => {
      this.insertEvent.run(event.id, event.type, event.at);
      this.insertOrder.run(event.order, event.distributor, event.cv);
      let written = 0;
      for (const ancestor of this.upline.all(event.distributor)) {
        const amount = applyBps(event.cv, BASELINE_UNILEVEL_BPS[ancestor.level - 1]!);
        if (amount === 0) continue;
        this.insertCommission.run(event.order, ancestor.id, ancestor.level, amount);
        this.addBalance.run(amount, ancestor.id);
        written++;
      }
      this.commissionRows += written;
      return written;
    });
  }

  /** Setup, not timed: enrollments in big transactions. */
  loadEnrollments(enrollments: readonly EnrollEvent[]): void {
    const load = this.db.transaction((chunk: readonly EnrollEvent[]) => {
      for (const event of chunk) {
        this.insertEvent.run(event.id, event.type, event.at);
        this.insertDistributor.run(event.distributor, event.sponsor);
      }
    });
    for (let from = 0; from < enrollments.length; from += ENROLLMENTS_PER_LOAD_TRANSACTION) {
      load(enrollments.slice(from, from + ENROLLMENTS_PER_LOAD_TRANSACTION));
    }
  }

  close(): void {
    this.db.close();
  }
}

/**
 * Runs the baseline on `eventsFile` into a fresh `dbFile`: every enrollment loaded, then
 * orders one transaction each, in file order, until the file ends or `budgetMs` is spent.
 * Duplicates and orders the baseline cannot take (an unknown buyer) are skipped untimed.
 */
export function runBaseline(eventsFile: string, dbFile: string, budgetMs: number): BaselineResult {
  const baseline = new AdjacencyListBaseline(dbFile);
  const reader = new LineReader(eventsFile);
  const enrollments: EnrollEvent[] = [];
  const seen = new Set<string>();
  let orders = 0;
  let orderMs = 0;
  let enrollLoadMs = 0;
  let loaded = false;
  let budgetReached = false;
  try {
    for (let lines = reader.next(LINES_PER_READ); lines.length > 0 && !budgetReached;) {
      const orderEvents: OrderEvent[] = [];
      for (const line of lines) {
        const validated = parseEventLine(line);
        if (!validated.ok || seen.has(validated.event.id)) continue;
        seen.add(validated.event.id);
        const event = validated.event;
        if (event.type === 'enroll') enrollments.push(event);
        if (event.type === 'order') orderEvents.push(event);
      }
      if (!loaded && orderEvents.length > 0) {
        const started = performance.now();
        baseline.loadEnrollments(enrollments);
        enrollLoadMs = performance.now() - started;
        loaded = true;
      }
      const started = performance.now();
      for (let index = 0; index < orderEvents.length; index++) {
        tryOrder(baseline, orderEvents[index]!);
        orders++;
        if (index % ORDERS_PER_CLOCK_READ !== 0) continue;
        if (orderMs + (performance.now() - started) >= budgetMs) {
          budgetReached = true;
          break;
        }
      }
      orderMs += performance.now() - started;
      lines = reader.next(LINES_PER_READ);
    }
  } finally {
    reader.close();
    baseline.close();
  }
  const orderSeconds = orderMs / 1000;
  return {
    enrollments: enrollments.length,
    enrollLoadMs: Math.round(enrollLoadMs),
    orders,
    commissionRows: baseline.commissionRows,
    orderSeconds: Math.round(orderSeconds * 1000) / 1000,
    ordersPerSecond: Math.round(orders / Math.max(orderSeconds, 1e-9)),
    budgetReached,
  };
}

/** An order whose buyer the baseline lacks (its enrollment was bad data) is not paid. */
function tryOrder(baseline: AdjacencyListBaseline, event: OrderEvent): void {
  try {
    baseline.order(event);
  } catch (error) {
    if (!(error instanceof Database.SqliteError)) throw error;
  }
}
