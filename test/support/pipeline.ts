import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Engine } from '../../src/engine/engine.js';
import type { EventResult } from '../../src/events/result.js';
import { lineTypeCode } from '../../src/ledger/line.js';
import type { Plan } from '../../src/plan/plan.js';
import { ReferenceEngine } from '../../src/reference/engine.js';

/** A ledger line as plain numbers, `[seq, ordinal, beneficiary, type, level, source, amount]`. */
export type LedgerRow = readonly number[];

export interface RunOutcome {
  readonly results: EventResult[];
  readonly exportText: string;
  readonly ledger: LedgerRow[];
}

/** A temp directory that is removed by `dispose`. */
export function tempDir(prefix = 'upline-test-'): { path: string; dispose: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, dispose: () => rmSync(path, { recursive: true, force: true }) };
}

/** The oracle: the serial reference over the same lines. */
export function runReference(plan: Plan, lines: readonly string[]): RunOutcome {
  const engine = new ReferenceEngine(plan);
  const results = lines.map((line) => engine.processLine(line));
  const ledger = engine.lines.map((line) => [
    line.seq,
    line.ordinal,
    line.beneficiary,
    lineTypeCode(line.type),
    line.level,
    line.source,
    line.amountCents,
  ]);
  return { results, exportText: engine.exportText(), ledger };
}

export interface PipelineRun {
  readonly workers: number;
  readonly batchSize: number;
  /** Lines per `submit` call (how a client would chunk its stream). */
  readonly submitSize: number;
  /** Line index runs (EngineOptions): small ones seal and index many runs mid-stream. */
  readonly indexRunLines?: number;
  readonly indexChunkMin?: number;
}

/** The fast pipeline over the same lines, into a fresh database file in `dir`. */
export async function runPipeline(
  plan: Plan,
  lines: readonly string[],
  dbFile: string,
  run: PipelineRun,
): Promise<RunOutcome> {
  const engine = await Engine.open({
    plan,
    dbFile,
    workers: run.workers,
    batchSize: run.batchSize,
    synchronous: 'NORMAL',
    ...(run.indexRunLines === undefined ? {} : { indexRunLines: run.indexRunLines }),
    ...(run.indexChunkMin === undefined ? {} : { indexChunkMin: run.indexChunkMin }),
  });
  const results: EventResult[] = [];
  try {
    for (let start = 0; start < lines.length; start += run.submitSize) {
      results.push(...(await engine.submit(lines.slice(start, start + run.submitSize))));
    }
  } finally {
    await engine.close();
  }
  return { results, ...(await readDatabase(dbFile)) };
}

/** Export and full ledger of a database, as `upline export` would see it after a restart. */
export async function readDatabase(
  dbFile: string,
): Promise<{ exportText: string; ledger: LedgerRow[] }> {
  const db = new Database(dbFile, { readonly: true });
  const ledger = db
    .prepare(
      'SELECT seq, ordinal, beneficiary, type, level, source, amount FROM ledger ' +
        'ORDER BY seq, ordinal',
    )
    .raw()
    .all() as number[][];
  const planJson = db.prepare("SELECT value FROM meta WHERE key = 'plan'").pluck().get() as string;
  db.close();
  const { parsePlan } = await import('../../src/plan/plan.js');
  const engine = await Engine.open({
    plan: parsePlan(JSON.parse(planJson)),
    dbFile,
    workers: 0,
    batchSize: 4096,
  });
  let exportText = '';
  try {
    for (const line of engine.ledger.exportLines()) exportText += line + '\n';
  } finally {
    await engine.close();
  }
  return { exportText, ledger };
}
