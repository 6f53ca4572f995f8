import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import Database from 'better-sqlite3';

import { Engine } from '../src/engine/engine.js';
import { activeLine, order } from './support/events.js';
import { tempDir } from './support/pipeline.js';
import { referencePlan } from './support/plans.js';

/** Small batches and NORMAL sync: many commits quickly, on the sequencer thread alone. */
function openEngine(dbFile: string): Promise<Engine> {
  return Engine.open({
    plan: referencePlan(),
    dbFile,
    workers: 0,
    batchSize: 512,
    synchronous: 'NORMAL',
  });
}

/**
 * The engine's writer never checkpoints the WAL itself (a checkpoint inside a commit stalls
 * every caller waiting on it); the checkpoint thread copies committed pages into the database
 * file while the engine runs. Without it the file would not grow until the engine closed.
 */
test('committed pages reach the database file while the engine runs', async () => {
  const dir = tempDir('upline-checkpoint-');
  const dbFile = join(dir.path, 'upline.db');
  const engine = await openEngine(dbFile);
  try {
    const before = statSync(dbFile).size;
    await engine.submit(activeLine(8));
    const orders = Array.from({ length: 20_000 }, (_, i) => order(`c${i}`, `oc${i}`, 8, 1, 100));
    await engine.submit(orders);
    const wal = statSync(`${dbFile}-wal`).size;
    assert.ok(wal > 1024 * 1024, `the WAL holds the commits (${wal} bytes)`);
    // The WAL rewrites hot pages many times, so the file grows by less than the WAL's size;
    // without a checkpoint it would not grow at all before close.
    const grown = () => statSync(dbFile).size - before;
    const deadline = Date.now() + 5_000;
    while (grown() < 1024 * 1024 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.ok(grown() >= 1024 * 1024, `the checkpoint thread copied pages (${grown()} bytes)`);
  } finally {
    await engine.close();
    dir.dispose();
  }
});

/**
 * A RESTART checkpoint holds the write lock while it waits for readers and syncs: a commit
 * that gave up after the default 5 s busy timeout stopped the engine (seen once under load).
 * Here another connection holds the lock for 6 s; the commit must wait, not fail.
 */
test('a commit waits for a write lock held past the default busy timeout', async () => {
  const dir = tempDir('upline-writer-lock-');
  const dbFile = join(dir.path, 'upline.db');
  const engine = await openEngine(dbFile);
  const holder = new Database(dbFile);
  try {
    await engine.submit(activeLine(8));
    holder.exec('BEGIN IMMEDIATE');
    const heldMs = 6_000;
    const released = new Promise<void>((resolve) =>
      setTimeout(() => {
        holder.exec('COMMIT');
        resolve();
      }, heldMs),
    );
    const started = Date.now();
    const results = await engine.submit([order('w1', 'ow1', 8, 1, 100)]);
    await released;
    assert.equal(results[0]?.status, 'accepted');
    assert.ok(Date.now() - started >= heldMs - 100, 'the commit waited for the lock');
  } finally {
    holder.close();
    await engine.close();
    dir.dispose();
  }
});
