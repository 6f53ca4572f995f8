import * as assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';

import { Engine } from '../src/engine/engine.js';
import { chain, order, refund } from './support/events.js';
import { readDatabase, runReference, tempDir } from './support/pipeline.js';
import { referencePlan } from './support/plans.js';

const ORDERS = 20;

/**
 * A refund of an order that is committed and no longer among the recent events reads the
 * order's row of the log once: the read that confirms the order id also brings the lines the
 * refund reverses (Engine.committedOrderIdAt). The ledger must still equal the reference's.
 */
test('a refund of a committed order reads its row once and reverses its lines', async () => {
  const dir = tempDir('upline-refund-reads-');
  try {
    const plan = referencePlan();
    const orders = Array.from({ length: ORDERS }, (_, at) =>
      order(`b${at}`, `o${at}`, 4, 100, 5_000),
    );
    const refunds = orders.map((ordered, at) => refund(`r${at}`, ordered.order));
    const lines = [...chain('c', [1, 2, 3, 4]), ...orders, ...refunds].map((event) =>
      JSON.stringify(event),
    );
    const expected = runReference(plan, lines);
    const dbFile = join(dir.path, 'r.db');
    const placed = lines.length - refunds.length;
    // One event per batch: the recent events hold five, so every order is read from the log.
    const engine = await Engine.open({ plan, dbFile, workers: 0, batchSize: 1 });
    const store = engine.store;
    const reads = { rows: 0, lines: 0 };
    const orderRowAt = store.orderRowAt.bind(store);
    const orderLinesAt = store.orderLinesAt.bind(store);
    store.orderRowAt = (seq) => (reads.rows++, orderRowAt(seq));
    store.orderLinesAt = (seq) => (reads.lines++, orderLinesAt(seq));
    try {
      const placedAll = await engine.accept(lines.slice(0, placed));
      await placedAll.durable;
      const refunded = await engine.accept(lines.slice(placed));
      await refunded.durable;
      assert.deepEqual(
        refunded.results.map((result) => result.status),
        refunds.map(() => 'accepted'),
      );
    } finally {
      await engine.close();
    }
    assert.deepEqual(reads, { rows: ORDERS, lines: 0 });
    const actual = await readDatabase(dbFile);
    const reversals = expected.ledger.filter((line) => line[0]! > placed);
    assert.ok(reversals.length > 0, 'the refunds reverse lines');
    assert.equal(2 * reversals.length, expected.ledger.length, 'every order line is reversed');
    assert.deepEqual(actual.ledger, expected.ledger);
    assert.equal(actual.exportText, expected.exportText);
  } finally {
    dir.dispose();
  }
});
