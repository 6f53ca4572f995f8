/**
 * A real crash: a child process commits batches in a loop and is SIGKILLed at seeded random
 * moments (most land inside a commit: the child does nothing else). After each kill the
 * database must be exactly at a batch boundary, with every acknowledged batch in it.
 */
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

import Database from 'better-sqlite3';

import { Store } from '../src/store/store.js';
import {
  CRASH_LINES_PER_EVENT as LINES_PER_EVENT,
  seededRandom,
  snapshotBytes,
  withTempDirAsync,
} from './fixtures/store-helpers.js';

const WRITER = fileURLToPath(new URL('./fixtures/store-crash-writer.js', import.meta.url));
const ROUNDS = 6;

/** Runs the writer until it has acknowledged `acksBeforeKill` batches, waits, kills it. */
function runAndKill(file: string, seed: number, acksBeforeKill: number, delayMs: number) {
  return new Promise<number>((resolve, reject) => {
    const child = spawn(process.execPath, [WRITER, file, String(seed)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let lastAck = 0;
    let acks = 0;
    let pending = '';
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        lastAck = Number(line);
        acks++;
        if (acks === acksBeforeKill) setTimeout(() => child.kill('SIGKILL'), delayMs);
      }
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolve(lastAck);
      else reject(new Error(`writer exited with ${code}: ${stderr}`));
    });
  });
}

function count(db: Database.Database, sql: string): number {
  const value = db.prepare<[], number>(sql).pluck().get();
  assert.ok(typeof value === 'number', sql);
  return value;
}

function assertWholeBatches(file: string, lastAck: number): number {
  const store = Store.open(file); // asserts cursor == last event seq on open
  const cursor = store.cursor();
  const snapshot = store.loadSnapshot();
  store.close();
  assert.ok(cursor >= lastAck, `acknowledged seq ${lastAck} lost (cursor ${cursor})`);
  const db = new Database(file, { readonly: true });
  try {
    assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
    assert.equal(count(db, 'SELECT max(seq) FROM events'), cursor);
    assert.equal(count(db, 'SELECT count(*) FROM events'), cursor, 'events are contiguous');
    assert.equal(count(db, `SELECT count(*) FROM ledger WHERE seq > ${cursor}`), 0);
    assert.equal(count(db, 'SELECT count(*) FROM ledger'), cursor * LINES_PER_EVENT);
    const partial = `SELECT count(*) FROM (SELECT seq FROM ledger GROUP BY seq
      HAVING count(*) != ${LINES_PER_EVENT} OR min(ordinal) != 0
        OR max(ordinal) != ${LINES_PER_EVENT - 1})`;
    assert.equal(count(db, partial), 0, 'a partial event');
  } finally {
    db.close();
  }
  if (snapshot !== undefined) {
    assert.ok(snapshot.seq <= cursor);
    assert.deepEqual(snapshot.data, Buffer.from(snapshotBytes(snapshot.seq)));
  }
  return cursor;
}

test('SIGKILL at random moments leaves whole batches only', async () => {
  await withTempDirAsync(async (dir) => {
    const file = path.join(dir, 'crash.db');
    const random = seededRandom(20240611);
    let cursor = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const acksBeforeKill = 1 + Math.floor(random() * 12);
      const delayMs = Math.floor(random() * 20);
      const lastAck = await runAndKill(file, round + 1, acksBeforeKill, delayMs);
      const after = assertWholeBatches(file, lastAck);
      assert.ok(after > cursor, `round ${round} made progress`);
      cursor = after;
    }
  });
});
