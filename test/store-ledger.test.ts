import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { test } from 'node:test';

import Database from 'better-sqlite3';

import { ruleReasonCode } from '../src/events/reasons.js';
import type { Line } from '../src/ledger/line.js';
import { emptyEarnings } from '../src/export/summary.js';
import { RECENT_LINES_SQL, type RecentLinesParams } from '../src/store/ledger-query.js';
import { LineBuffer } from '../src/ledger/line-buffer.js';
import { INDEX_ALL, INDEX_NOTHING, isIndexed } from '../src/store/index-runs.js';
import { BENEFICIARY_END } from '../src/store/schema.js';
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

test('recentLines searches the line index by key and reads no line table at all', () => {
  withLedger((_store, file) => {
    const db = new Database(file, { readonly: true });
    try {
      const plan = db
        .prepare<[RecentLinesParams], { detail: string }>(`EXPLAIN QUERY PLAN ${RECENT_LINES_SQL}`)
        .all({ beneficiary: 2, seq: Number.MAX_SAFE_INTEGER, ordinal: 0, limit: 50 })
        .map((row) => row.detail);
      const text = plan.join('\n');
      assert.match(text, /SEARCH line_index USING PRIMARY KEY \(beneficiary=\? AND/);
      // The index holds every column of a line: `lines` is not read at all.
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

test('runs reach the index over several commits, in key ranges, as the index state says', () => {
  withTempDir((dir) => {
    const plain = Store.open(path.join(dir, 'plain.db'));
    const runs = Store.open(path.join(dir, 'runs.db'), { indexChunkMin: 1 });
    const db = new Database(path.join(dir, 'runs.db'), { readonly: true });
    const indexed = () =>
      db.prepare('SELECT beneficiary, seq, ordinal FROM line_index ORDER BY seq, ordinal').all();
    const all = new LineBuffer();
    try {
      let cursor = 0;
      let partial = 0;
      for (let commit = 0; commit < 40; commit++) {
        const batch = syntheticBatch(cursor, 2, 3);
        cursor += 2;
        all.append(batch.lines);
        plain.commitBatch(batch.events, batch.lines, cursor);
        // A run sealed every 8th commit, inserted INDEX_RUN_PACE x 6 lines a commit after that.
        const control = commit === 39 ? INDEX_ALL : { seal: commit % 8 === 0, all: false };
        runs.commitBatch(batch.events, batch.lines, cursor, control);
        const state = runs.indexState();
        if (state.cursor < state.runEnd) partial++;
        const expected = [];
        for (let row = 0; row < all.count; row++) {
          const [beneficiary, seq] = [all.beneficiary[row]!, all.seq[row]!];
          if (isIndexed(state, beneficiary, seq)) {
            expected.push({ beneficiary, seq, ordinal: all.ordinal[row]! });
          }
        }
        assert.deepEqual(indexed(), expected, `commit ${commit}: the index is what the state says`);
      }
      assert.ok(partial >= 8, `runs spread over commits (${partial} commits mid-run)`);
      assert.deepEqual(runs.indexState(), { cursor, runEnd: cursor, runFrom: BENEFICIARY_END });
      for (const distributor of [1, 2, 3, 500, 997]) {
        assert.deepEqual(runs.recentLines(distributor, 50), plain.recentLines(distributor, 50));
      }
      assert.deepEqual([...runs.earningsByDistributor()], [...plain.earningsByDistributor()]);
      assert.equal(indexed().length, cursor * 3);
    } finally {
      db.close();
      plain.close();
      runs.close();
    }
  });
});

test('a commit with no events indexes what is gathered only when asked to', () => {
  withTempDir((dir) => {
    const store = Store.open(path.join(dir, 'a.db'));
    const batch = syntheticBatch(0, 4, 2);
    store.commitBatch(batch.events, batch.lines, 4, INDEX_NOTHING);
    assert.deepEqual(store.indexState(), { cursor: 0, runEnd: 0, runFrom: BENEFICIARY_END });
    assert.equal(store.recentLines(1, 50).length, 0, 'gathered lines are not indexed yet');
    store.commitBatch([], lineColumns([]), 4, INDEX_NOTHING);
    assert.equal(store.indexState().cursor, 0);
    store.commitBatch([], lineColumns([]), 4, INDEX_ALL);
    assert.deepEqual(store.indexState(), { cursor: 4, runEnd: 4, runFrom: BENEFICIARY_END });
    assert.equal([...store.earningsByDistributor()].length > 0, true);
    store.close();
  });
});
