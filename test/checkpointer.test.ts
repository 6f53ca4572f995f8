import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { Engine } from '../src/engine/engine.js';
import { activeLine, order } from './support/events.js';
import { tempDir } from './support/pipeline.js';
import { referencePlan } from './support/plans.js';

/**
 * The engine's writer never checkpoints the WAL itself (a checkpoint inside a commit stalls
 * every caller waiting on it); the checkpoint thread copies committed pages into the database
 * file while the engine runs. Without it the file would not grow until the engine closed.
 */
test('committed pages reach the database file while the engine runs', async () => {
  const dir = tempDir('upline-checkpoint-');
  const dbFile = join(dir.path, 'upline.db');
  const engine = await Engine.open({
    plan: referencePlan(),
    dbFile,
    workers: 0,
    batchSize: 512,
    synchronous: 'NORMAL',
  });
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
