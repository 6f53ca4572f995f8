/**
 * Read queries over the ledger: a distributor's newest lines (dashboard, API) and the per
 * distributor aggregation the export (SPEC 4) is built on.
 */
import type Database from 'better-sqlite3';

import { assert, assertSafeInteger } from '../core/assert.js';
import {
  EARNING_TYPES,
  lineTypeCode,
  lineTypeFromCode,
  orderOfLine,
  type EarningType,
  type Line,
} from '../ledger/line.js';
import { emptyEarnings } from '../export/summary.js';
import { EVENT_TYPES } from '../events/types.js';
import type { LineRow } from './schema.js';

/**
 * Newest first from the cursor (beforeSeq, beforeOrdinal), exclusive: at most LIMIT whole lines
 * from one range scan of the line index's primary key, each with a rowid lookup into `events`
 * for the event's type and order id (schema.ts: `order_id`), never its body.
 */
export const RECENT_LINES_SQL = `
WITH newest AS (
  SELECT seq, ordinal, beneficiary, type, level, source, amount FROM line_index
  WHERE beneficiary = @beneficiary AND (seq, ordinal) < (@seq, @ordinal)
  ORDER BY seq DESC, ordinal DESC LIMIT @limit)
SELECT n.seq AS seq, n.ordinal AS ordinal, n.beneficiary AS beneficiary, n.type AS type,
  n.level AS level, n.source AS source, n.amount AS amountCents, e.type AS eventType,
  e.order_id AS orderId
FROM newest AS n
JOIN events AS e ON e.seq = n.seq
ORDER BY n.seq DESC, n.ordinal DESC`;

/** The same two columns for lines the index does not hold yet (ledger-tail.ts). */
export const EVENT_ORDER_SQL =
  'SELECT type AS eventType, order_id AS orderId FROM events WHERE seq = ?';

export interface EventOrderRow {
  readonly eventType: number;
  readonly orderId: string | null;
}

export interface RecentLinesParams {
  readonly beneficiary: number;
  readonly seq: number;
  readonly ordinal: number;
  readonly limit: number;
}

/**
 * A row of RECENT_LINES_SQL, its columns in order: the statement runs in raw mode (arrays, not
 * objects), which at 50 rows a read takes ~25% off "my last 50 lines" (p50 0.31 -> 0.24 ms,
 * p99 0.42-0.72 -> 0.32-0.49 ms on 50M lines in a scratch test): fewer objects and property
 * definitions per row, and less for the young generation to collect.
 */
export type RecentLineRow = readonly [
  seq: number,
  ordinal: number,
  beneficiary: number,
  type: number,
  level: number,
  source: number,
  amountCents: number,
  eventType: number,
  orderId: string | null,
];

/** A line the index does not hold yet, with its event's columns, as RECENT_LINES_SQL's row. */
export function recentLineRow(line: LineRow, event: EventOrderRow): RecentLineRow {
  const { seq, ordinal, beneficiary, type, level, source, amountCents } = line;
  return [
    seq,
    ordinal,
    beneficiary,
    type,
    level,
    source,
    amountCents,
    event.eventType,
    event.orderId,
  ];
}

/** RecentLineRow's names, which `Store` checks against the statement's columns once. */
export const RECENT_LINE_COLUMNS = [
  'seq',
  'ordinal',
  'beneficiary',
  'type',
  'level',
  'source',
  'amountCents',
  'eventType',
  'orderId',
] as const;

export type RecentLinesStatement = Database.Statement<[RecentLinesParams], RecentLineRow>;

/** Lines from RecentLineRows, each with its order (docs/plan-semantics.md "Lines"). */
export function toLines(rows: readonly RecentLineRow[]): Line[] {
  const lines: Line[] = [];
  for (const row of rows) {
    const seq = row[0];
    const amountCents = row[6];
    const eventTypeCode = row[7];
    assertSafeInteger(amountCents, 'line amount');
    const type = lineTypeFromCode(row[3]);
    const eventType = EVENT_TYPES[eventTypeCode];
    assert(eventType !== undefined, `event ${seq} has type code ${eventTypeCode}`);
    lines.push({
      seq,
      ordinal: row[1],
      beneficiary: row[2],
      type,
      level: row[4],
      source: row[5],
      order: orderOfLine(eventType, row[8], type),
      amountCents,
    });
  }
  return lines;
}

/** One distributor's ledger totals; only distributors with at least one line appear. */
export interface DistributorEarnings {
  readonly distributor: number;
  /** Net per earning type, reversals included. */
  readonly earnedCents: Readonly<Record<EarningType, number>>;
  /** Positive total of all withdrawals. */
  readonly withdrawnCents: number;
  /** Sum of every line, withdrawals included. */
  readonly balanceCents: number;
}

export type EarningsRow = {
  readonly distributor: number;
  readonly withdrawn: number;
  readonly balance: number;
} & { readonly [K in EarningType as `earned_${K}`]: number };

const WITHDRAWAL = lineTypeCode('withdrawal');

/**
 * Built from EARNING_TYPES so the SQL and the line type codes cannot drift apart. The index is
 * summed in its own key order: a streaming scan, no sort of the whole ledger.
 */
export const EARNINGS_SQL = `
SELECT beneficiary AS distributor,
  ${EARNING_TYPES.map(
    (type) => `SUM(CASE type WHEN ${lineTypeCode(type)} THEN amount ELSE 0 END) AS earned_${type}`,
  ).join(',\n  ')},
  -SUM(CASE type WHEN ${WITHDRAWAL} THEN amount ELSE 0 END) AS withdrawn,
  SUM(amount) AS balance
FROM line_index
GROUP BY beneficiary
ORDER BY beneficiary`;

export function toEarnings(row: EarningsRow): DistributorEarnings {
  const earnedCents = emptyEarnings();
  let earnedTotal = 0;
  for (const type of EARNING_TYPES) {
    const amount = row[`earned_${type}`];
    assertSafeInteger(amount, `earned ${type} of ${row.distributor}`);
    earnedCents[type] = amount;
    earnedTotal += amount;
  }
  assertSafeInteger(row.withdrawn, `withdrawn of ${row.distributor}`);
  assertSafeInteger(row.balance, `balance of ${row.distributor}`);
  assert(row.withdrawn >= 0, `withdrawn of ${row.distributor} is negative`);
  // Every line type is an earning type or a withdrawal, so the totals must add up.
  assert(row.balance === earnedTotal - row.withdrawn, `balance of ${row.distributor} mismatch`);
  return {
    distributor: row.distributor,
    earnedCents,
    withdrawnCents: row.withdrawn,
    balanceCents: row.balance,
  };
}

/**
 * One distributor's net earnings by type from indexed lines of events up to `upto`
 * (inclusive): with the lines not indexed yet, the dashboard's figures as of a committed seq.
 */
export const EARNINGS_OF_SQL = `
SELECT type, SUM(amount) AS amount FROM line_index
WHERE beneficiary = @beneficiary AND seq <= @upto
GROUP BY type`;

export interface EarningsOfParams {
  readonly beneficiary: number;
  readonly upto: number;
}

export interface TypeTotalRow {
  readonly type: number;
  readonly amount: number;
}

export type EarningsOfStatement = Database.Statement<[EarningsOfParams], TypeTotalRow>;

/** Net earnings by type from per-type sums (withdrawals are not earnings and are left out). */
export function toEarningsOf(rows: readonly TypeTotalRow[]): Record<EarningType, number> {
  const earned = emptyEarnings();
  for (const row of rows) {
    assertSafeInteger(row.amount, 'earnings total');
    const type = lineTypeFromCode(row.type);
    if (type !== 'withdrawal') earned[type] = row.amount;
  }
  return earned;
}
