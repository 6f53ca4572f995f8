import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';

import Database from 'better-sqlite3';

import { UplineError } from '../src/core/errors.js';
import { APPLICATION_ID, PAGE_SIZE_BYTES, SCHEMA_VERSION } from '../src/store/schema.js';
import { Store } from '../src/store/store.js';
import { syntheticBatch, withTempDir } from './fixtures/store-helpers.js';

function isMismatch(error: unknown): boolean {
  return error instanceof UplineError && error.code === 'UPLINE_DB_MISMATCH';
}

test('a new database gets the schema, version, application id, cursor 0', () => {
  withTempDir((dir) => {
    const file = path.join(dir, 'a.db');
    Store.open(file).close();
    const db = new Database(file, { readonly: true });
    try {
      const tables = db
        .prepare<[], string>("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
        .pluck()
        .all();
      assert.deepEqual(tables, ['events', 'line_index', 'meta', 'snapshot']);
      const meta = db.prepare<[], { key: string; value: unknown }>('SELECT * FROM meta').all();
      assert.deepEqual(
        new Map(meta.map((row) => [row.key, row.value])),
        new Map<string, unknown>([
          ['cursor', 0],
          ['index_cursor', 0],
          ['index_run_end', 0],
          ['index_run_from', 2 ** 31],
          ['schema_version', SCHEMA_VERSION],
        ]),
      );
      assert.equal(db.pragma('application_id', { simple: true }), APPLICATION_ID);
      assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
      assert.equal(db.pragma('page_size', { simple: true }), PAGE_SIZE_BYTES);
    } finally {
      db.close();
    }
  });
});

test('pragmas are set explicitly', () => {
  withTempDir((dir) => {
    const file = path.join(dir, 'a.db');
    const normal = Store.open(file, { synchronous: 'NORMAL', cacheSizeMiB: 8, busyTimeoutMs: 77 });
    assert.deepEqual(normal.settings(), {
      journalMode: 'wal',
      synchronous: 1,
      cacheSize: -8 * 1024,
      tempStore: 2,
      foreignKeys: 0,
      busyTimeoutMs: 77,
    });
    normal.close();
    const full = Store.open(file);
    assert.equal(full.settings().synchronous, 2, 'FULL is the default');
    full.close();
  });
});

test('a database with another schema version is refused', () => {
  withTempDir((dir) => {
    const file = path.join(dir, 'a.db');
    Store.open(file).close();
    const db = new Database(file);
    db.prepare("UPDATE meta SET value = ? WHERE key = 'schema_version'").run(SCHEMA_VERSION + 1);
    db.close();
    assert.throws(() => Store.open(file), isMismatch);
    assert.throws(() => Store.open(file, { readonly: true }), isMismatch);
  });
});

test('a foreign SQLite file and a non-database file are refused', () => {
  withTempDir((dir) => {
    const foreign = path.join(dir, 'foreign.db');
    const db = new Database(foreign);
    db.exec('CREATE TABLE t (x)');
    db.close();
    assert.throws(() => Store.open(foreign), isMismatch);

    const text = path.join(dir, 'text.db');
    fs.writeFileSync(text, 'this is not a database, just a text file of some length\n'.repeat(20));
    assert.throws(() => Store.open(text), isMismatch);
  });
});

test('read-only open of a missing file is an IO error, and creates nothing', () => {
  withTempDir((dir) => {
    const file = path.join(dir, 'missing.db');
    assert.throws(
      () => Store.open(file, { readonly: true }),
      (error: unknown) => error instanceof UplineError && error.code === 'UPLINE_IO',
    );
    assert.equal(fs.existsSync(file), false);
  });
});

test('reopen after close keeps events, lines, cursor, plan and snapshot', () => {
  withTempDir((dir) => {
    const file = path.join(dir, 'a.db');
    const first = Store.open(file);
    const batch = syntheticBatch(0, 10, 3);
    first.commitBatch(batch.events, batch.lines, 10);
    first.setPlan('{"name":"reference"}');
    first.saveSnapshot(10, new Uint8Array([1, 2, 3]));
    first.close();

    for (const readonly of [false, true]) {
      const again = Store.open(file, { readonly });
      assert.equal(again.cursor(), 10);
      assert.equal([...again.eventsAfter(0)].length, 10);
      assert.equal(again.orderLinesAt(7).length, 3);
      assert.equal(again.plan(), '{"name":"reference"}');
      assert.deepEqual(again.loadSnapshot(), { seq: 10, data: Buffer.from([1, 2, 3]) });
      again.close();
    }
  });
});

test('a read-only store refuses writes', () => {
  withTempDir((dir) => {
    const file = path.join(dir, 'a.db');
    Store.open(file).close();
    const store = Store.open(file, { readonly: true });
    const batch = syntheticBatch(0, 1, 1);
    assert.throws(() => store.commitBatch(batch.events, batch.lines, 1), /read-only/);
    assert.throws(() => store.saveSnapshot(0, new Uint8Array([1])), /read-only/);
    store.close();
  });
});

test('the plan is set once; the same text is a no-op, another plan is refused', () => {
  withTempDir((dir) => {
    const store = Store.open(path.join(dir, 'a.db'));
    assert.equal(store.plan(), undefined);
    store.setPlan('{"a":1}');
    store.setPlan('{"a":1}');
    assert.throws(() => store.setPlan('{"a":2}'), isMismatch);
    assert.equal(store.plan(), '{"a":1}');
    store.close();
  });
});

test('snapshot round trip; it may not run ahead of the cursor or go backwards', () => {
  withTempDir((dir) => {
    const store = Store.open(path.join(dir, 'a.db'));
    assert.equal(store.loadSnapshot(), undefined);
    const batch = syntheticBatch(0, 5, 1);
    store.commitBatch(batch.events, batch.lines, 5);
    const image = new Uint8Array(1 << 20).map((_, index) => index * 31);
    store.saveSnapshot(3, image);
    assert.deepEqual(store.loadSnapshot(), { seq: 3, data: Buffer.from(image) });
    store.saveSnapshot(5, new Uint8Array([9]));
    assert.deepEqual(store.loadSnapshot(), { seq: 5, data: Buffer.from([9]) });
    assert.throws(() => store.saveSnapshot(6, new Uint8Array([1])), /ahead of the cursor/);
    assert.throws(() => store.saveSnapshot(4, new Uint8Array([1])), /backwards/);
    assert.deepEqual(store.loadSnapshot(), { seq: 5, data: Buffer.from([9]) });
    store.close();
  });
});

test('a file keeps the page size it was made with', () => {
  withTempDir((dir) => {
    const file = path.join(dir, 'a.db');
    // A database made before pages were 16 KiB: the store opens it as it is.
    const old = new Database(file);
    old.pragma('page_size = 4096');
    old.pragma('journal_mode = WAL');
    old.close();
    const store = Store.open(file);
    const { events, lines } = syntheticBatch(0, 3, 2);
    store.commitBatch(events, lines, 3);
    assert.equal(store.cursor(), 3);
    store.close();
    const db = new Database(file, { readonly: true });
    try {
      assert.equal(db.pragma('page_size', { simple: true }), 4096);
    } finally {
      db.close();
    }
  });
});
