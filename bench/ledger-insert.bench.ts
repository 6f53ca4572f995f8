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

import { Bench } from 'tinybench';

import {
  fillLineBatch,
  insertedLines,
  LINES_PER_BATCH,
  openInsertVariant,
  type InsertVariant,
} from './ledger-batch.js';

const BASE_LINES = 1_048_576;
const TIME_MS = 2_000;
const WARMUP_MS = 300;

function main(): void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'upline-bench-'));
  try {
    const variants = [
      openInsertVariant(dir, 'single-row INSERT (1 row/statement)', 1, BASE_LINES),
      openInsertVariant(dir, 'multi-row INSERT (64 rows/statement)', 64, BASE_LINES),
      openInsertVariant(dir, 'multi-row INSERT (256 rows/statement, the store)', 256, BASE_LINES),
    ];
    const bench = new Bench({ time: TIME_MS, warmupTime: WARMUP_MS, iterations: 4 });
    for (const variant of variants) {
      const insert = variant.db.transaction(() => variant.inserter.insertAll(variant.lines));
      bench.add(variant.name, () => insert(), {
        beforeEach: () => {
          variant.seqNext = fillLineBatch(variant.lines, variant.seqNext);
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

function report(bench: Bench, variants: readonly InsertVariant[]): void {
  const rates = bench.tasks.map((task) => {
    const result = task.result;
    const meanMs = 'latency' in result ? result.latency.mean : Number.NaN;
    return { task: task.name, 'lines/s': Math.round((LINES_PER_BATCH * 1000) / meanMs) };
  });
  console.table(rates);
  const lines = variants.map(insertedLines);
  console.log(`lines per batch ${LINES_PER_BATCH}, table sizes after run: ${lines.join(', ')}`);
}

main();
