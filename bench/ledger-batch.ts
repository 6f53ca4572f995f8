/**
 * Ledger line batches for the insert benches (ledger-insert.bench.ts, micro.bench.ts): a
 * seeded stream of unilevel-like lines (8 per event, beneficiaries uniform over 1M
 * distributors) and a database with the real schema, pre-filled so its indexes are not
 * trivially small, to insert them into with a given number of rows per statement.
 */
import * as path from 'node:path';

import Database from 'better-sqlite3';

import { lineTypeCode } from '../src/ledger/line.js';
import { createLineColumns, type LineColumns } from '../src/ledger/line-columns.js';
import { LineInserter } from '../src/store/batch-insert.js';
import { applyPragmas, Store } from '../src/store/store.js';

const DISTRIBUTORS = 1_000_000;
const LINES_PER_EVENT = 8;
export const LINES_PER_BATCH = 16_384;

let randomState = 0x2545f491;
function randomDistributor(): number {
  // xorshift32: cheap and seeded, so every run inserts the same keys.
  randomState ^= randomState << 13;
  randomState ^= randomState >>> 17;
  randomState ^= randomState << 5;
  return 1 + ((randomState >>> 0) % DISTRIBUTORS);
}

/** Fills `lines` as the next batch after `seqNext - 1`; returns the seq after it. */
export function fillLineBatch(lines: LineColumns, seqNext: number): number {
  for (let row = 0; row < LINES_PER_BATCH; row++) {
    lines.seq[row] = seqNext + Math.floor(row / LINES_PER_EVENT);
    lines.ordinal[row] = row % LINES_PER_EVENT;
    lines.beneficiary[row] = randomDistributor();
    lines.type[row] = lineTypeCode('unilevel');
    lines.level[row] = 1 + (row % LINES_PER_EVENT);
    lines.source[row] = randomDistributor();
    lines.amountCents[row] = 100 + (row % 9_000);
  }
  lines.count = LINES_PER_BATCH;
  return seqNext + LINES_PER_BATCH / LINES_PER_EVENT;
}

export interface InsertVariant {
  readonly name: string;
  readonly db: Database.Database;
  readonly inserter: LineInserter;
  readonly lines: LineColumns;
  seqNext: number;
}

/**
 * A database in `dir` with the store's schema and pragmas (synchronous=FULL, its page cache),
 * holding `baseLines` lines, and an inserter of `rowsPerStatement` rows per statement.
 */
export function openInsertVariant(
  dir: string,
  name: string,
  rowsPerStatement: number,
  baseLines: number,
): InsertVariant {
  const file = path.join(dir, `${rowsPerStatement}.db`);
  Store.open(file).close(); // the real schema
  const db = new Database(file);
  applyPragmas(db, { synchronous: 'FULL', cacheSizeMiB: 256 });
  const variant: InsertVariant = {
    name,
    db,
    inserter: new LineInserter(db, rowsPerStatement),
    lines: createLineColumns(LINES_PER_BATCH),
    seqNext: 1,
  };
  // The base goes in as one transaction: cheap, since each index page is written once.
  const fill = new LineInserter(db, 64);
  db.transaction(() => {
    for (let count = 0; count < baseLines; count += LINES_PER_BATCH) {
      variant.seqNext = fillLineBatch(variant.lines, variant.seqNext);
      fill.insertAll(variant.lines);
    }
  })();
  return variant;
}

/** Lines in the variant's table so far (base included). */
export function insertedLines(variant: InsertVariant): number {
  return (variant.seqNext - 1) * LINES_PER_EVENT;
}
