import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Packr, unpack } from 'msgpackr';

import * as fc from 'fast-check';
import { EARNING_TYPES, LINE_TYPES, type EarningType } from '../src/ledger/line.js';
import type { DistributorFigures, ViewLine } from '../src/server/distributor-view.js';
import { distributorJson, lineJson } from '../src/server/live-hub.js';
import { ReferenceEngine } from '../src/reference/engine.js';
import { distributorToken } from '../src/server/tokens.js';
import { activeLine, order } from './support/events.js';
import {
  ADMIN_TOKEN,
  INGEST_KEY,
  TestSocket,
  startTestServer,
  type TestServer,
} from './support/server.js';

/**
 * The WebSocket side of SPEC 6: live feeds (snapshot, then one coalesced update per commit
 * with exact figures), the admin feed, token checks on upgrade, and ingest over MessagePack.
 */

interface FeedMessage {
  readonly type: string;
  readonly seq: number;
  readonly distributor: {
    readonly id: number;
    readonly balanceCents: number;
    readonly paidRank: number;
    readonly gv: number;
    readonly earningsCents: Record<string, number>;
  };
  readonly lines: readonly { readonly seq: number; readonly amountCents: number }[];
}

describe('live feeds', () => {
  let t: TestServer;
  let oracle: ReferenceEngine;

  before(async () => {
    t = await startTestServer();
    oracle = new ReferenceEngine(t.plan);
    await post(activeLine(8));
  });
  after(async () => t.close());

  async function post(events: readonly object[]): Promise<void> {
    const response = await t.post(events);
    assert.equal(response.status, 200);
    const results = await response.json();
    assert.deepEqual(
      results,
      events.map((event) => oracle.processLine(JSON.stringify(event))),
    );
  }

  function assertMatchesOracle(message: FeedMessage, id: number): void {
    const want = oracle.distributor(id)!;
    assert.equal(message.seq, oracle.seq);
    assert.equal(message.distributor.balanceCents, want.balanceCents);
    assert.equal(message.distributor.paidRank, want.paidRank);
    assert.equal(message.distributor.gv, want.gv);
    const mine = oracle.lines.filter((line) => line.beneficiary === id);
    for (const type of EARNING_TYPES) {
      const sum = mine.filter((l) => l.type === type).reduce((s, l) => s + l.amountCents, 0);
      assert.equal(message.distributor.earningsCents[type], sum, type);
    }
  }

  test('a distributor gets a snapshot, then one exact update per commit', async () => {
    const feed = await TestSocket.open(`${t.wsBase}/v1/live?token=${t.tokenFor(3)}`);
    const snapshot = (await feed.next()) as FeedMessage;
    assert.equal(snapshot.type, 'snapshot');
    assert.equal(snapshot.distributor.id, 3);
    assertMatchesOracle(snapshot, 3);
    const linesBefore = oracle.lines.length;
    // Three orders by 3's first level (an Associate is paid level 1 only), one body: one
    // commit, so one message carrying all three lines.
    await post([
      order('b1', 'ob1', 4, 50, 20_000),
      order('b2', 'ob2', 4, 50, 30_000),
      order('b3', 'ob3', 4, 50, 40_000),
    ]);
    const update = (await feed.next()) as FeedMessage;
    assert.equal(update.type, 'update');
    assertMatchesOracle(update, 3);
    const newLines = oracle.lines.slice(linesBefore).filter((line) => line.beneficiary === 3);
    assert.equal(newLines.length, 3, 'each order paid distributor 3 once');
    assert.deepEqual(
      update.lines.map((line) => [line.seq, line.amountCents]),
      newLines.map((line) => [line.seq, line.amountCents]),
    );
    // Coalesced: nothing more for that commit.
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(feed.messages.length, 0);
    feed.close();
  });

  test('a big commit sends the newest 50 lines, counts the rest, and stays exact', async () => {
    const feed = await TestSocket.open(`${t.wsBase}/v1/live?token=${t.tokenFor(3)}`);
    await feed.next();
    const linesBefore = oracle.lines.length;
    await post(Array.from({ length: 60 }, (_, i) => order(`big-${i}`, `obig-${i}`, 4, 1, 1_000)));
    const update = (await feed.next()) as FeedMessage & { linesOmitted: number };
    assertMatchesOracle(update, 3);
    const paid = oracle.lines.slice(linesBefore).filter((line) => line.beneficiary === 3);
    assert.equal(paid.length, 60);
    assert.equal(update.linesOmitted, 10);
    assert.deepEqual(
      update.lines.map((line) => line.seq),
      paid.slice(10).map((line) => line.seq),
    );
    feed.close();
  });

  test('a change without a line of its own (group volume) is pushed too', async () => {
    const feed = await TestSocket.open(`${t.wsBase}/v1/live?token=${t.tokenFor(1)}`);
    await feed.next();
    // cv 0 pays nobody, but the pv still raises the group volume of every sponsor above.
    await post([order('c1', 'oc1', 8, 30, 0)]);
    const update = (await feed.next()) as FeedMessage;
    assertMatchesOracle(update, 1);
    assert.deepEqual(update.lines, []);
    feed.close();
  });

  test('feeds are bound to their token: forged and foreign tokens get nothing', async () => {
    const forged = `d.3.${t.tokenFor(4).split('.')[2]}`;
    for (const token of [forged, distributorToken('another-secret-0123456789', 3), 'nope', '']) {
      await assert.rejects(
        TestSocket.open(`${t.wsBase}/v1/live?token=${encodeURIComponent(token)}`),
        /upgrade refused: 401/,
      );
    }
    const nobody = await TestSocket.open(`${t.wsBase}/v1/live?token=${t.tokenFor(424_242)}`);
    assert.equal(await nobody.closed(), 4404);
    assert.equal(nobody.messages.length, 0);
  });

  test('the admin feed carries engine figures every second', async () => {
    const feed = await TestSocket.open(`${t.wsBase}/v1/live?token=${ADMIN_TOKEN}`);
    const first = (await feed.next()) as Record<string, number | string>;
    assert.equal(first.type, 'admin');
    assert.equal(first.distributors, 8);
    const second = (await feed.next(3_000)) as Record<string, number | string>;
    assert.equal(second.type, 'admin');
    assert.equal(second.seq, oracle.seq);
    assert.ok((second.liveConnections as number) >= 1);
    feed.close();
  });
});

describe('WebSocket ingest', () => {
  let t: TestServer;
  let oracle: ReferenceEngine;

  before(async () => {
    t = await startTestServer();
    oracle = new ReferenceEngine(t.plan);
  });
  after(async () => t.close());

  test('MessagePack batches with records are answered in order, like the reference', async () => {
    const socket = await TestSocket.open(`${t.wsBase}/v1/ingest`, {
      authorization: `Bearer ${INGEST_KEY}`,
    });
    const packr = new Packr({ useRecords: true });
    const frames = [
      activeLine(8).slice(0, 8),
      activeLine(8).slice(8),
      [order('w1', 'ow1', 5, 10, 999)],
    ];
    // All frames in flight at once: answers still come back in frame order.
    for (const frame of frames) socket.socket.send(packr.pack(frame));
    for (const frame of frames) {
      const answer = unpack((await socket.next()) as Buffer);
      assert.deepEqual(
        answer,
        frame.map((event) => oracle.processLine(JSON.stringify(event))),
      );
    }
    socket.close();
  });

  test('a bad frame gets an error answer and the connection keeps working', async () => {
    const socket = await TestSocket.open(`${t.wsBase}/v1/ingest?key=${INGEST_KEY}`);
    socket.socket.send(new Uint8Array([0x92, 0xc1]));
    const bad = unpack((await socket.next()) as Buffer) as { error: { code: string } };
    assert.equal(bad.error.code, 'malformed_body');
    socket.socket.send(JSON.stringify([{ id: 'x', type: 'order', at: 1 }]));
    const invalid = (await socket.next()) as { error: { code: string; index: number } };
    assert.deepEqual([invalid.error.code, invalid.error.index], ['invalid_event', 0]);
    const event = order('w2', 'ow2', 5, 10, 1_000);
    socket.socket.send(JSON.stringify([event]));
    assert.deepEqual(await socket.next(), [oracle.processLine(JSON.stringify(event))]);
    socket.close();
  });

  test('ingest sockets need the ingest key', async () => {
    const headerSets: Record<string, string>[] = [
      {},
      { authorization: 'Bearer wrong-key-0000' },
      { authorization: `Bearer ${ADMIN_TOKEN}` },
    ];
    for (const headers of headerSets) {
      await assert.rejects(
        TestSocket.open(`${t.wsBase}/v1/ingest`, headers),
        /upgrade refused: 401/,
      );
    }
  });
});

describe('a slow live subscriber', () => {
  let t: TestServer;

  before(async () => {
    t = await startTestServer({ server: { liveBackpressureBytes: 64 * 1024 } });
    const response = await t.post(activeLine(8));
    assert.equal(response.status, 200);
  });
  after(async () => t.close());

  test('is dropped past its buffer limit while the engine goes on', async () => {
    const slow = await TestSocket.open(`${t.wsBase}/v1/live?token=${t.tokenFor(1)}`);
    await slow.next();
    // Stop reading: the kernel buffers fill, then uWS's, then the server must let go.
    slow.socket.pause();
    const watchedBefore = t.server.live.watchedCount;
    assert.equal(watchedBefore, 1);
    // Each body pays distributor 1 a line per order: a full update (50 lines) per commit,
    // until the kernel's socket buffers and then the server's are full.
    for (let body = 0; body < 5_000 && t.server.live.watchedCount > 0; body++) {
      const orders = Array.from({ length: 60 }, (_, i) =>
        order(`slow-${body}-${i}`, `os-${body}-${i}`, 2, 1, 1_000),
      );
      const response = await t.post(orders);
      assert.equal(response.status, 200, 'ingest goes on while the subscriber does not read');
    }
    assert.equal(t.server.live.watchedCount, 0, 'the slow subscriber was dropped');
    slow.socket.resume();
    assert.notEqual(await slow.closed(), null);
  });
});

test('lineJson writes exactly what JSON.stringify writes for a line', () => {
  const line = fc.record({
    seq: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
    ordinal: fc.nat(),
    type: fc.constantFrom(...LINE_TYPES),
    level: fc.nat({ max: 255 }),
    source: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
    // Order ids are free text: quotes, backslashes, control characters, lone surrogates.
    order: fc.option(fc.string({ unit: 'binary', maxLength: 64 })),
    amountCents: fc.integer({ min: -Number.MAX_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }),
  });
  fc.assert(
    fc.property(line, (value: ViewLine) => {
      assert.equal(lineJson(value), JSON.stringify(value));
    }),
    { seed: 20261125, numRuns: 2000 },
  );
});

test('distributorJson writes exactly what JSON.stringify writes for an update', () => {
  const count = fc.nat({ max: 2 ** 31 - 1 });
  const cents = fc.integer({ min: -Number.MAX_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER });
  // Rank names come from a plan file: any text.
  const name = fc.string({ unit: 'binary', maxLength: 20 });
  const figures: fc.Arbitrary<DistributorFigures> = fc.record({
    id: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
    balanceCents: cents,
    paidRank: fc.nat({ max: 255 }),
    paidRankName: name,
    title: fc.nat({ max: 255 }),
    titleName: name,
    pv: count,
    gv: count,
    legs: count,
    legVolumeLCents: cents,
    legVolumeRCents: cents,
    active: fc.boolean(),
    terminated: fc.boolean(),
    period: count,
    nextRank: fc.option(
      fc.record({ rank: fc.nat({ max: 255 }), name, pv: count, gv: count, legs: count }),
    ),
  });
  const earnings = fc.record(
    Object.fromEntries(EARNING_TYPES.map((type) => [type, cents])) as Record<
      EarningType,
      fc.Arbitrary<number>
    >,
  );
  fc.assert(
    fc.property(figures, earnings, (value, earningsCents) => {
      const json = distributorJson(value, earningsCents);
      assert.equal(json, JSON.stringify({ ...value, earningsCents }));
    }),
    { seed: 20261125, numRuns: 2000 },
  );
});
