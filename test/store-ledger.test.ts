import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { test } from 'node:test';

import Database from 'better-sqlite3';

import { ruleReasonCode } from '../src/events/reasons.js';
import type { Line } from '../src/ledger/line.js';
import { emptyEarnings } from '../src/export/summary.js';
import { RECENT_LINES_SQL, type RecentLinesParams } from '../src/store/ledger-query.js';
import { Store } from '../src/store/store.js';
import { lineColumns, logged, syntheticBatch, withTempDir } from './fixtures/store-helpers.js';

/**
 * A small ledger with every way a line gets (or does not get) an order id:
 *   1-3 enrollments (3 pays distributor 1 an incentive), 4 order o-1 by 3, 5 a withdrawal by 2,
 *   6 the refund of o-1, 7 a period close (binary, pool), 8 a rejected order (no lines).
 */
function fillLedger(store: Store): void {
  const enroll = (seq: number, distributor: number, sponsor: number | null) =>
    logged(seq, { id: `n${seq}`, type: 'enroll', at: seq, distributor, sponsor, placement: null });
  store.commitBatch(
    [enroll(1, 1, null), enroll(2, 2, 1), enroll(3, 3, 2)],
    lineColumns([[3, 0, 1, 'incentive', 0, 3, 5000]]),
    3,
  );
  store.commitBatch(
    [
      logged(4, { id: 'o4', type: 'order', at: 4, order: 'o-1', distributor: 3, pv: 1, cv: 1e4 }),
      logged(5, { id: 'w5', type: 'withdraw', at: 5, distributor: 2, amount: 3000 }),
    ],
    lineColumns([
      [4, 0, 2, 'rank_bonus', 1, 3, 5000],
      [4, 1, 2, 'fast_start', 0, 3, 2000],
      [4, 2, 2, 'unilevel', 1, 3, 1000],
      [4, 3, 1, 'unilevel', 2, 3, 500],
      [4, 4, 1, 'matching', 1, 2, 100],
      [5, 0, 2, 'withdrawal', 0, 2, -3000],
    ]),
    5,
  );
  const rejected = ruleReasonCode('order_taken');
  store.commitBatch(
    [
      logged(6, { id: 'r6', type: 'refund', at: 6, order: 'o-1' }),
      logged(7, { id: 'c7', type: 'period.close', at: 7 }),
      logged(
        8,
        { id: 'o8', type: 'order', at: 8, order: 'o-1', distributor: 3, pv: 1, cv: 1 },
        rejected,
      ),
    ],
    lineColumns([
      [6, 0, 2, 'fast_start', 0, 3, -2000],
      [6, 1, 2, 'unilevel', 1, 3, -1000],
      [6, 2, 1, 'unilevel', 2, 3, -500],
      [6, 3, 1, 'matching', 1, 2, -100],
      [7, 0, 1, 'binary', 0, 1, 700],
      [7, 1, 2, 'pool', 0, 2, 300],
    ]),
    8,
  );
}

function withLedger(fn: (store: Store, file: string) => void): void {
  withTempDir((dir) => {
    const file = path.join(dir, 'a.db');
    const store = Store.open(file);
    try {
      fillLedger(store);
      fn(store, file);
    } finally {
      store.close();
    }
  });
}

const key = (line: Line) => [line.seq, line.ordinal, line.type, line.amountCents, line.order];

test('recentLines: newest first, with the order id each line belongs to', () => {
  withLedger((store) => {
    assert.deepEqual(store.recentLines(2, 50).map(key), [
      [7, 1, 'pool', 300, null],
      [6, 1, 'unilevel', -1000, 'o-1'],
      [6, 0, 'fast_start', -2000, 'o-1'],
      [5, 0, 'withdrawal', -3000, null],
      [4, 2, 'unilevel', 1000, 'o-1'],
      [4, 1, 'fast_start', 2000, 'o-1'],
      [4, 0, 'rank_bonus', 5000, 'o-1'],
    ]);
    assert.deepEqual(store.recentLines(1, 50).map(key), [
      [7, 0, 'binary', 700, null],
      [6, 3, 'matching', -100, 'o-1'],
      [6, 2, 'unilevel', -500, 'o-1'],
      [4, 4, 'matching', 100, 'o-1'],
      [4, 3, 'unilevel', 500, 'o-1'],
      [3, 0, 'incentive', 5000, null],
    ]);
    const [matching] = store.recentLines(1, 1, 6);
    assert.deepEqual(matching, {
      seq: 4,
      ordinal: 4,
      beneficiary: 1,
      type: 'matching',
      level: 1,
      source: 2,
      order: 'o-1',
      amountCents: 100,
    });
    assert.deepEqual(store.recentLines(3, 50), []);
  });
});

test('recentLines pages by (seq, ordinal) without losing lines of one event', () => {
  withLedger((store) => {
    const first = store.recentLines(2, 2);
    assert.deepEqual(first.map(key), [
      [7, 1, 'pool', 300, null],
      [6, 1, 'unilevel', -1000, 'o-1'],
    ]);
    const last = first[1];
    assert.ok(last !== undefined);
    assert.deepEqual(store.recentLines(2, 2, last.seq, last.ordinal).map(key), [
      [6, 0, 'fast_start', -2000, 'o-1'],
      [5, 0, 'withdrawal', -3000, null],
    ]);
    assert.deepEqual(
      store.recentLines(2, 50, 6).map((line) => [line.seq, line.ordinal]),
      [
        [5, 0],
        [4, 2],
        [4, 1],
        [4, 0],
      ],
    );
  });
});

test('recentLines searches both index levels by key and reads no line table at all', () => {
  withLedger((_store, file) => {
    const db = new Database(file, { readonly: true });
    try {
      const plan = db
        .prepare<[RecentLinesParams], { detail: string }>(`EXPLAIN QUERY PLAN ${RECENT_LINES_SQL}`)
        .all({ beneficiary: 2, seq: Number.MAX_SAFE_INTEGER, ordinal: 0, limit: 50 })
        .map((row) => row.detail);
      const text = plan.join('\n');
      assert.match(text, /SEARCH line_index_hot USING PRIMARY KEY \(beneficiary=\? AND/);
      assert.match(text, /SEARCH line_index_cold USING PRIMARY KEY \(beneficiary=\? AND/);
      // The index levels hold every column of a line: `lines` is not read at all.
      assert.ok(!/\blines\b| l /.test(text), text);
      assert.match(text, /SEARCH e USING INTEGER PRIMARY KEY \(rowid=\?\)/);
      // No full scan of a table: only the bounded co-routine results are scanned.
      assert.ok(!plan.some((detail) => /^SCAN (l|e|lines|events|line_index)/.test(detail)), text);
    } finally {
      db.close();
    }
  });
});

test('earningsByDistributor nets reversals and reports withdrawals positive', () => {
  withLedger((store) => {
    const rows = [...store.earningsByDistributor()];
    assert.deepEqual(rows, [
      {
        distributor: 1,
        earnedCents: { ...emptyEarnings(), binary: 700, incentive: 5000 },
        withdrawnCents: 0,
        balanceCents: 5700,
      },
      {
        distributor: 2,
        earnedCents: { ...emptyEarnings(), rank_bonus: 5000, pool: 300 },
        withdrawnCents: 3000,
        balanceCents: 2300,
      },
    ]);
  });
});

test('earningsByDistributor agrees with a sum in JS over many lines', () => {
  withTempDir((dir) => {
    const store = Store.open(path.join(dir, 'a.db'));
    const batch = syntheticBatch(0, 3000, 4);
    store.commitBatch(batch.events, batch.lines, 3000);
    const expected = new Map<number, number>();
    for (let row = 0; row < batch.lines.count; row++) {
      const beneficiary = batch.lines.beneficiary[row] ?? 0;
      const amount = batch.lines.amountCents[row] ?? 0;
      expected.set(beneficiary, (expected.get(beneficiary) ?? 0) + amount);
    }
    const rows = [...store.earningsByDistributor()];
    assert.deepEqual(
      rows.map((row) => [row.distributor, row.balanceCents, row.earnedCents.unilevel]),
      [...expected].sort((a, b) => a[0] - b[0]).map(([id, sum]) => [id, sum, sum]),
    );
    store.close();
  });
});

test('recentLines gives the same pages whether entries sit in the hot or the cold index', () => {
  withTempDir((dir) => {
    const hotOnly = Store.open(path.join(dir, 'hot.db'));
    // Batches of 1, 6 and 6 lines: the second reaches 7 and merges, the third stays hot.
    const merged = Store.open(path.join(dir, 'merged.db'), { hotIndexLinesMax: 7 });
    try {
      fillLedger(hotOnly);
      fillLedger(merged);
      const db = new Database(path.join(dir, 'merged.db'), { readonly: true });
      const cold = db.prepare('SELECT count(*) FROM line_index_cold').pluck().get() as number;
      const hot = db.prepare('SELECT count(*) FROM line_index_hot').pluck().get() as number;
      db.close();
      assert.ok(cold > 0 && hot > 0, `both levels in use (hot ${hot}, cold ${cold})`);
      assert.equal(cold + hot, 13);
      for (const distributor of [1, 2, 3]) {
        for (const limit of [1, 2, 3, 50]) {
          for (const before of [undefined, 7, 6, 4]) {
            assert.deepEqual(
              merged.recentLines(distributor, limit, before),
              hotOnly.recentLines(distributor, limit, before),
              `distributor ${distributor}, limit ${limit}, before ${before}`,
            );
          }
        }
      }
      assert.equal(merged.recentLines(1, 50).length, 6);
    } finally {
      hotOnly.close();
      merged.close();
    }
  });
});

test('a sweep moves the hot index to the cold one over several commits, losing nothing', () => {
  withTempDir((dir) => {
    const plain = Store.open(path.join(dir, 'plain.db'));
    // Sweeps start at 40 hot entries and move about 2 x (the commit's lines) each commit.
    const swept = Store.open(path.join(dir, 'swept.db'), {
      hotIndexLinesMax: 40,
      hotIndexMergeChunkMin: 1,
    });
    const db = new Database(path.join(dir, 'swept.db'), { readonly: true });
    const count = (table: string) =>
      db.prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number;
    try {
      let cursor = 0;
      let partialSweeps = 0;
      for (let commit = 0; commit < 30; commit++) {
        const batch = syntheticBatch(cursor, 2, 3);
        cursor += 2;
        plain.commitBatch(batch.events, batch.lines, cursor);
        swept.commitBatch(batch.events, batch.lines, cursor);
        const [hot, cold] = [count('line_index_hot'), count('line_index_cold')];
        assert.equal(hot + cold, cursor * 3, 'every line is in exactly one level');
        if (hot > 0 && cold > 0) partialSweeps++;
        for (const distributor of [1, 2, 3, 500, 997]) {
          assert.deepEqual(swept.recentLines(distributor, 50), plain.recentLines(distributor, 50));
        }
      }
      assert.ok(count('line_index_cold') > 0, 'sweeps ran');
      assert.ok(partialSweeps >= 5, `sweeps spread over commits (${partialSweeps})`);
      assert.deepEqual([...swept.earningsByDistributor()], [...plain.earningsByDistributor()]);
      const ledger = (file: string): unknown[] => {
        const reader = new Database(path.join(dir, file), { readonly: true });
        try {
          return reader.prepare('SELECT * FROM ledger ORDER BY seq, ordinal').all();
        } finally {
          reader.close();
        }
      };
      assert.deepEqual(ledger('swept.db'), ledger('plain.db'));
      assert.equal(ledger('swept.db').length, cursor * 3);
    } finally {
      db.close();
      plain.close();
      swept.close();
    }
  });
});
