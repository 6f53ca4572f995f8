/**
 * Ledger insert throughput: single-row prepared INSERTs against multi-row VALUES INSERTs
 * (64 and 256 rows per statement), each iteration one transaction of LINES_PER_BATCH lines
 * into the real `lines` table and its hot line index, beneficiaries uniformly
 * random over 1M distributors, synchronous=FULL (the commit's fsync is in the measurement).
 * Each variant gets its own database, pre-filled with BASE_LINES lines so the index is not
 * trivially small. Run: node dist/bench/ledger-insert.bench.js
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import Database from 'better-sqlite3';
import { Bench } from 'tinybench';

import { lineTypeCode } from '../src/ledger/line.js';
import { createLineColumns, type LineColumns } from '../src/ledger/line-columns.js';
import { LineInserter } from '../src/store/batch-insert.js';
import { applyPragmas, Store } from '../src/store/store.js';

const DISTRIBUTORS = 1_000_000;
const LINES_PER_EVENT = 8;
const LINES_PER_BATCH = 16_384;
const BASE_LINES = 1_048_576;
const TIME_MS = 2_000;
const WARMUP_MS = 300;

let randomState = 0x2545f491;
function randomDistributor(): number {
  // xorshift32: cheap and seeded, so every run inserts the same keys.
  randomState ^= randomState << 13;
  randomState ^= randomState >>> 17;
  randomState ^= randomState << 5;
  return 1 + ((randomState >>> 0) % DISTRIBUTORS);
}

/** Fills `lines` as the next batch after `seqNext - 1`; returns the seq after it. */
function fillBatch(lines: LineColumns, seqNext: number): number {
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

interface Variant {
  readonly name: string;
  readonly db: Database.Database;
  readonly inserter: LineInserter;
  readonly lines: LineColumns;
  seqNext: number;
}

function openVariant(dir: string, name: string, rowsPerStatement: number): Variant {
  const file = path.join(dir, `${rowsPerStatement}.db`);
  Store.open(file).close(); // the real schema
  const db = new Database(file);
  applyPragmas(db, { synchronous: 'FULL', cacheSizeMiB: 256 });
  const variant: Variant = {
    name,
    db,
    inserter: new LineInserter(db, rowsPerStatement),
    lines: createLineColumns(LINES_PER_BATCH),
    seqNext: 1,
  };
  // The base goes in as one transaction: cheap, since each index page is written once.
  const fill = new LineInserter(db, 64);
  db.transaction(() => {
    for (let count = 0; count < BASE_LINES; count += LINES_PER_BATCH) {
      variant.seqNext = fillBatch(variant.lines, variant.seqNext);
      fill.insert(variant.lines);
    }
  })();
  return variant;
}

function main(): void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'upline-bench-'));
  try {
    const variants = [
      openVariant(dir, 'single-row INSERT (1 row/statement)', 1),
      openVariant(dir, 'multi-row INSERT (64 rows/statement)', 64),
      openVariant(dir, 'multi-row INSERT (256 rows/statement, the store)', 256),
    ];
    const bench = new Bench({ time: TIME_MS, warmupTime: WARMUP_MS, iterations: 4 });
    for (const variant of variants) {
      const insert = variant.db.transaction(() => variant.inserter.insert(variant.lines));
      bench.add(variant.name, () => insert(), {
        beforeEach: () => {
          variant.seqNext = fillBatch(variant.lines, variant.seqNext);
        },
      });
    }
    bench.runSync();
    console.table(bench.table());
    report(bench, variants);
    for (const variant of variants) variant.db.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function report(bench: Bench, variants: readonly Variant[]): void {
  const rates = bench.tasks.map((task) => {
    const result = task.result;
    const meanMs = 'latency' in result ? result.latency.mean : Number.NaN;
    return { task: task.name, 'lines/s': Math.round((LINES_PER_BATCH * 1000) / meanMs) };
  });
  console.table(rates);
  const lines = variants.map((variant) => (variant.seqNext - 1) * LINES_PER_EVENT);
  console.log(`lines per batch ${LINES_PER_BATCH}, table sizes after run: ${lines.join(', ')}`);
}

main();
