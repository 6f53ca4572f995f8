import * as assert from 'node:assert/strict';
import { copyFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import fc from 'fast-check';

import Database from 'better-sqlite3';

import { Engine } from '../src/engine/engine.js';
import { readSnapshot, snapshotPathFor } from '../src/engine/snapshot.js';
import { readDatabase, runReference, tempDir } from './support/pipeline.js';
import { referencePlan } from './support/plans.js';
import { eventLines } from './support/random-stream.js';

const dir = tempDir();
after(() => dir.dispose());

/**
 * Accepts `lines` in chunks of 13 with a snapshot due every `snapshotEveryEvents` events, while
 * batches of 7 are still in flight (accept does not wait for durability), and watches the
 * published snapshot between chunks: it is never ahead of the log or of the line index. Then
 * restarts from the second mid-stream snapshot seen: recovery must use it, replay the log after
 * it and agree with the reference. Returns the seqs of the snapshots seen mid-stream.
 */
async function publishedMidstream(
  name: string,
  lines: readonly string[],
  options: { snapshotEveryEvents: number; indexRunLines: number },
): Promise<Set<number>> {
  const plan = referencePlan();
  const dbFile = join(dir.path, `${name}.db`);
  const snapshotFile = snapshotPathFor(dbFile);
  const midstreamCopy = join(dir.path, `${name}.snapshot.copy`);
  const engine = await Engine.open({
    plan,
    dbFile,
    workers: 1,
    batchSize: 7,
    synchronous: 'NORMAL',
    indexChunkMin: 1,
    ...options,
  });
  const db = new Database(dbFile, { readonly: true });
  const meta = db.prepare<[string], number>('SELECT value FROM meta WHERE key = ?').pluck();
  const durable: Promise<void>[] = [];
  const seen = new Set<number>();
  try {
    for (let start = 0; start < lines.length; start += 13) {
      const accepted = await engine.accept(lines.slice(start, start + 13));
      durable.push(accepted.durable);
      if (!existsSync(snapshotFile)) continue;
      const seq = readSnapshot(snapshotFile)?.scalars.lastSeq ?? 0;
      if (seq === 0 || seen.has(seq)) continue;
      seen.add(seq);
      // A published snapshot is never ahead of the log or of the line index.
      assert.ok(seq <= (meta.get('cursor') ?? 0), `snapshot at ${seq} ahead of the log`);
      assert.ok(seq <= (meta.get('index_cursor') ?? 0), `snapshot at ${seq} ahead of the index`);
      if (seen.size === 2) copyFileSync(snapshotFile, midstreamCopy);
    }
    await Promise.all(durable);
  } finally {
    db.close();
    await engine.close();
  }
  assert.ok(seen.size >= 2, `snapshots published mid-stream: ${seen.size}`);

  const reference = runReference(plan, lines);
  const fromClose = await readDatabase(dbFile);
  assert.equal(fromClose.exportText, reference.exportText);
  // Back to the second mid-stream snapshot: recovery must use it and replay the log after it.
  copyFileSync(midstreamCopy, snapshotFile);
  const warnings: string[] = [];
  const reopened = await Engine.open({
    plan,
    dbFile,
    workers: 0,
    batchSize: 4096,
    warn: (message) => warnings.push(message),
  });
  let exportText = '';
  try {
    for (const line of reopened.ledger.exportLines()) exportText += line + '\n';
  } finally {
    await reopened.close();
  }
  assert.deepEqual(warnings, [], 'the mid-stream snapshot was usable');
  assert.equal(exportText, reference.exportText);
  assert.deepEqual((await readDatabase(dbFile)).ledger, fromClose.ledger);
  return seen;
}

const stream = (): string[] => fc.sample(eventLines(400), { seed: 20261206, numRuns: 1 })[0]!;

test('a mid-stream snapshot is published once the index runs reach it', async () => {
  // Runs of 5 lines seal and finish within a few batches, long before the next snapshot.
  const seen = await publishedMidstream('runs', stream(), {
    snapshotEveryEvents: 40,
    indexRunLines: 5,
  });
  assert.ok(seen.size >= 3, `snapshots published mid-stream: ${seen.size}`);
});

test('a snapshot due while the last waits for the index indexes everything first', async () => {
  // No run ever seals: without the fallback, no snapshot would be published before close.
  await publishedMidstream('fallback', stream(), {
    snapshotEveryEvents: 20,
    indexRunLines: 1_000_000,
  });
});
