import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chain, order } from './support/events.js';
import { runPipeline, tempDir } from './support/pipeline.js';
import { referencePlan } from './support/plans.js';

const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));

/**
 * Regression: `upline export --db x | head -1` died with an unhandled EPIPE stack trace once
 * head had closed the pipe. A reader that stops early is not an error: exit 0, say nothing.
 */
test('export ends quietly when its reader closes the pipe early', async () => {
  const dir = tempDir('upline-export-pipe-');
  try {
    const ids = Array.from({ length: 3000 }, (_, index) => index + 1);
    const events = [...chain('c', ids), order('o', 'o1', 3000, 100, 10_000)];
    const dbFile = join(dir.path, 'x.db');
    const lines = events.map((event) => JSON.stringify(event));
    await runPipeline(referencePlan(), lines, dbFile, {
      workers: 0,
      batchSize: 512,
      submitSize: 4096,
    });
    const child = spawn(process.execPath, [CLI, 'export', '--db', dbFile], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const [first] = (await once(child.stdout, 'data')) as [Buffer];
    assert.match(first.toString(), /^\{"distributor":1,/);
    child.stdout.destroy();
    const [code] = (await once(child, 'exit')) as [number | null];
    assert.equal(code, 0);
    assert.doesNotMatch(stderr, /EPIPE|Error/);
  } finally {
    dir.dispose();
  }
});
