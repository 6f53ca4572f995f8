import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { test } from 'node:test';

import Database from 'better-sqlite3';

import { AssertionError } from '../src/core/assert.js';
import { createLineColumns } from '../src/ledger/line-columns.js';
import { lineTypeCode } from '../src/ledger/line.js';
import { decodeEvent } from '../src/store/event-codec.js';
import { Store } from '../src/store/store.js';
import {
  lineColumns,
  logged,
  syntheticBatch,
  withTempDir,
  withdrawal,
} from './fixtures/store-helpers.js';

/** Everything a batch could touch, read through a second connection. */
function dump(file: string): unknown {
  const db = new Database(file, { readonly: true });
  try {
    return {
      meta: db.prepare('SELECT * FROM meta ORDER BY key').all(),
      events: db.prepare('SELECT * FROM events ORDER BY seq').all(),
      lines: db.prepare('SELECT * FROM ledger ORDER BY seq, ordinal').all(),
    };
  } finally {
    db.close();
  }
}

function withStore(fn: (store: Store, file: string) => void): void {
  withTempDir((dir) => {
    const file = path.join(dir, 'a.db');
    const store = Store.open(file);
    try {
      fn(store, file);
    } finally {
      store.close();
    }
  });
}

test('a batch lands whole: events, lines (chunks and tail) and cursor', () => {
  withStore((store) => {
    // 300 events x 3 lines = 900 lines: three 256-row statements and a 132-row tail.
    const first = syntheticBatch(0, 300, 3);
    store.commitBatch(first.events, first.lines, 300);
    assert.equal(store.cursor(), 300);
    const second = syntheticBatch(300, 2, 0);
    store.commitBatch(second.events, second.lines, 302);
    assert.equal(store.cursor(), 302);
    const lines = store.orderLinesAt(300);
    assert.deepEqual(
      lines.map((line) => [line.seq, line.ordinal, line.level, line.amountCents]),
      [
        [300, 0, 1, 100],
        [300, 1, 2, 101],
        [300, 2, 3, 102],
      ],
    );
    assert.equal(lines[0]?.beneficiary, first.lines.beneficiary[897]);
    assert.deepEqual(store.orderLinesAt(301), []);
  });
});

test('orderLinesAt reads back the lines of orders only: nothing else is ever reversed', () => {
  withStore((store) => {
    const lines = lineColumns([
      [1, 0, 5, 'unilevel', 1, 9, 120],
      [2, 0, 5, 'withdrawal', 0, 5, -100],
    ]);
    store.commitBatch([syntheticBatch(0, 1, 0).events[0]!, withdrawal(2, 5)], lines, 2);
    assert.deepEqual(store.orderLinesAt(1), [
      {
        seq: 1,
        ordinal: 0,
        beneficiary: 5,
        type: lineTypeCode('unilevel'),
        level: 1,
        source: 9,
        amountCents: 120,
      },
    ]);
    assert.deepEqual(store.orderRowAt(1), { orderId: 'o1', lines: store.orderLinesAt(1) });
    assert.throws(() => store.orderLinesAt(2), AssertionError);
    assert.throws(() => store.orderLinesAt(3), AssertionError);
  });
});

test('an empty batch is a no-op', () => {
  withStore((store) => {
    store.commitBatch([], createLineColumns(1), 0);
    assert.equal(store.cursor(), 0);
    assert.throws(() => store.commitBatch([], createLineColumns(1), 1), AssertionError);
  });
});

test('eventsAfter streams the log in seq order, bodies intact', () => {
  withStore((store) => {
    const batch = syntheticBatch(0, 100, 1);
    store.commitBatch(batch.events.slice(0, 60), lineColumns([]), 60);
    store.commitBatch(batch.events.slice(60), lineColumns([]), 100);
    const seqs = [...store.eventsAfter(37)].map((event) => event.seq);
    assert.deepEqual(
      seqs,
      Array.from({ length: 63 }, (_, index) => 38 + index),
    );
    const [event] = store.eventsAfter(99);
    assert.ok(event !== undefined);
    assert.deepEqual(decodeEvent(event.body), {
      id: 'e100',
      type: 'order',
      at: 100,
      order: 'o100',
      distributor: 1,
      pv: 1,
      cv: 1,
    });
    assert.deepEqual([...store.eventsAfter(100)], []);
  });
});

test('reads are allowed while eventsAfter is open (replay looks up refunded orders)', () => {
  withStore((store) => {
    const batch = syntheticBatch(0, 3, 2);
    store.commitBatch(batch.events, batch.lines, 3);
    let reads = 0;
    for (const event of store.eventsAfter(0)) reads += store.orderLinesAt(event.seq).length;
    assert.equal(reads, 6);
  });
});

test('a write that fails mid-batch rolls the whole batch back', () => {
  withStore((store, file) => {
    const first = syntheticBatch(0, 10, 2);
    store.commitBatch(first.events, first.lines, 10);
    // SQLite itself refuses event 90, after chunks of 32 events have gone in: the failure the
    // JS asserts cannot see (a full disk, an I/O error) is stood in for by a trigger.
    const db = new Database(file);
    db.exec(`CREATE TRIGGER refuse_90 BEFORE INSERT ON events WHEN NEW.seq = 90
      BEGIN SELECT RAISE(ABORT, 'injected failure'); END`);
    const before = dump(file);
    const second = syntheticBatch(10, 100, 5);
    assert.throws(
      () => store.commitBatch(second.events, second.lines, 110),
      (error: unknown) => error instanceof Error && /injected failure/.test(error.message),
    );
    assert.deepEqual(dump(file), before);
    assert.equal(store.cursor(), 10);
    // The store is still usable, and the batch goes in once the cause is gone.
    db.exec('DROP TRIGGER refuse_90');
    db.close();
    store.commitBatch(second.events, second.lines, 110);
    assert.equal(store.cursor(), 110);
  });
});

test('an invariant broken late in the batch changes nothing', () => {
  withStore((store, file) => {
    const first = syntheticBatch(0, 4, 1);
    store.commitBatch(first.events, first.lines, 4);
    const before = dump(file);
    const cases: Array<[string, () => void, RegExp]> = [];
    const gap = syntheticBatch(4, 50, 3);
    gap.lines.ordinal[140] = 5;
    cases.push(['ordinal gap', () => store.commitBatch(gap.events, gap.lines, 54), /expected/]);
    const zero = syntheticBatch(4, 50, 3);
    zero.lines.amountCents[149] = 0;
    cases.push(['zero amount', () => store.commitBatch(zero.events, zero.lines, 54), /of 0/]);
    const beyond = syntheticBatch(4, 50, 3);
    beyond.lines.seq[149] = 55;
    const commitBeyond = () => store.commitBatch(beyond.events, beyond.lines, 54);
    cases.push(['line after cursor', commitBeyond, /range/]);
    const old = syntheticBatch(4, 2, 1);
    old.lines.seq[0] = 4;
    cases.push(['line of an old seq', () => store.commitBatch(old.events, old.lines, 6), /range/]);
    const skip = syntheticBatch(4, 50, 1);
    skip.events[30] = withdrawal(36);
    cases.push(['seq gap', () => store.commitBatch(skip.events, skip.lines, 54), /continue/]);
    const cursor = syntheticBatch(4, 3, 1);
    cases.push(['cursor', () => store.commitBatch(cursor.events, cursor.lines, 8), /cursorSeq/]);
    const positive = syntheticBatch(4, 1, 1);
    positive.lines.type[0] = lineTypeCode('withdrawal');
    const commitPositive = () => store.commitBatch(positive.events, positive.lines, 5);
    cases.push(['withdrawal', commitPositive, /negative/]);
    const fraction = syntheticBatch(4, 1, 1);
    fraction.lines.amountCents[0] = 1.5;
    const commitFraction = () => store.commitBatch(fraction.events, fraction.lines, 5);
    cases.push(['fraction', commitFraction, /safe integer/]);
    const unnamed = syntheticBatch(4, 50, 1);
    unnamed.events[49] = { ...unnamed.events[49]!, orderId: null };
    const commitUnnamed = () => store.commitBatch(unnamed.events, unnamed.lines, 54);
    cases.push(['order without its order id', commitUnnamed, /order id of event 54/]);
    const empty = syntheticBatch(4, 50, 1);
    empty.events[49] = { ...empty.events[49]!, orderId: '' };
    const commitEmpty = () => store.commitBatch(empty.events, empty.lines, 54);
    cases.push(['order with an empty order id', commitEmpty, /order id length of event 54/]);
    const named = syntheticBatch(4, 50, 0);
    named.events[49] = { ...withdrawal(54), orderId: 'o-1' };
    const commitNamed = () => store.commitBatch(named.events, named.lines, 54);
    cases.push(['withdrawal with an order id', commitNamed, /order id of event 54/]);
    for (const [name, commit, message] of cases) {
      assert.throws(commit, (error: unknown) => {
        assert.ok(error instanceof AssertionError, name);
        assert.match(error.message, message, name);
        return true;
      });
      assert.deepEqual(dump(file), before, name);
    }
  });
});

test('ids of every event type survive the codec', () => {
  withStore((store) => {
    const events = [
      logged(1, { id: 'a', type: 'enroll', at: 1, distributor: 1, sponsor: null, placement: null }),
      logged(2, {
        id: 'b',
        type: 'enroll',
        at: 2,
        distributor: 2,
        sponsor: 1,
        placement: { parent: 1, leg: 'R' },
      }),
      logged(3, { id: 'c', type: 'order', at: 3, order: 'o-1', distributor: 2, pv: 5, cv: 1e12 }),
      logged(4, { id: 'd', type: 'refund', at: 4, order: 'o-1' }),
      logged(5, { id: 'e', type: 'terminate', at: 5, distributor: 2 }),
      logged(6, { id: 'f', type: 'period.close', at: 2 ** 52 }),
    ];
    store.commitBatch(events, lineColumns([]), 6);
    const stored = [...store.eventsAfter(0)];
    assert.deepEqual(
      stored.map((event) => decodeEvent(event.body)),
      events.map((event) => decodeEvent(event.body)),
    );
    assert.deepEqual(
      stored.map((event) => [event.type, event.at]),
      [
        [0, 1],
        [0, 2],
        [1, 3],
        [2, 4],
        [4, 5],
        [5, 2 ** 52],
      ],
    );
    const orderIds = [null, null, 'o-1', 'o-1', null, null];
    assert.deepEqual(
      stored.map((event) => event.orderId),
      orderIds,
    );
    assert.deepEqual(
      stored.map((event) => store.orderRowAt(event.seq)),
      orderIds.map((orderId, index) => ({ orderId, lines: index === 2 ? [] : null })),
    );
    assert.equal(store.orderRowAt(7), undefined);
  });
});
