import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { connect } from 'node:net';
import { pack } from 'msgpackr';

import { generateEvents } from '../src/generate/generate.js';
import { EARNING_TYPES } from '../src/ledger/line.js';
import { ReferenceEngine } from '../src/reference/engine.js';
import { distributorToken } from '../src/server/tokens.js';
import { chain, order, toNdjson } from './support/events.js';
import { ADMIN_TOKEN, INGEST_KEY, startTestServer, type TestServer } from './support/server.js';

/**
 * The HTTP side of SPEC 6: every endpoint's happy path and each of its errors, with the
 * numbers a distributor sees checked against the serial reference.
 */

const MAX_BODY_BYTES = 64 * 1024;
const MAX_EVENTS_PER_BODY = 500;

function generated(distributors: number, orders: number, seed: number): string[] {
  let text = '';
  generateEvents({ distributors, orders, seed }, (chunk) => (text += chunk));
  return text.split('\n').filter((line) => line !== '');
}

async function postRaw(
  t: TestServer,
  body: string | Uint8Array,
  contentType: string,
  key = INGEST_KEY,
): Promise<Response> {
  const headers: Record<string, string> = { 'content-type': contentType };
  if (key !== '') headers.authorization = `Bearer ${key}`;
  return fetch(`${t.base}/v1/events`, { method: 'POST', headers, body });
}

async function getDistributor(t: TestServer, id: number | string, token: string) {
  return fetch(`${t.base}/v1/distributors/${id}`, {
    headers: token === '' ? {} : { authorization: `Bearer ${token}` },
  });
}

interface ErrorAnswer {
  readonly error: { readonly code: string; readonly index?: number; readonly reason?: string };
}

describe('HTTP API', () => {
  let t: TestServer;
  let oracle: ReferenceEngine;

  before(async () => {
    t = await startTestServer({
      server: { maxBodyBytes: MAX_BODY_BYTES, maxEventsPerBody: MAX_EVENTS_PER_BODY },
    });
    oracle = new ReferenceEngine(t.plan);
  });
  after(async () => t.close());

  /** Posts `lines` (NDJSON text lines) and feeds the oracle the same, in the same order. */
  async function ingest(lines: readonly string[], format: 'json' | 'ndjson' | 'msgpack') {
    const events = lines.map((line) => JSON.parse(line) as unknown);
    const response =
      format === 'json'
        ? await postRaw(t, JSON.stringify(events), 'application/json')
        : format === 'ndjson'
          ? await postRaw(t, `${lines.join('\n')}\n`, 'application/x-ndjson')
          : await postRaw(t, pack(events), 'application/msgpack');
    assert.equal(response.status, 200, await response.clone().text());
    const results = (await response.json()) as unknown[];
    const expected = lines.map((line) => oracle.processLine(line));
    assert.deepEqual(results, expected);
  }

  test('JSON, NDJSON and MessagePack bodies are answered like the reference', async () => {
    const lines = generated(300, 1_500, 11);
    const formats = ['json', 'ndjson', 'msgpack'] as const;
    for (let start = 0, chunk = 0; start < lines.length; start += 150, chunk++) {
      await ingest(lines.slice(start, start + 150), formats[chunk % 3]!);
    }
    assert.equal(t.engine.state.lastSeq, oracle.seq);
  });

  test('a repeated id is answered as a duplicate with its first outcome', async () => {
    const first = chain('dup-', [900_001, 900_002]);
    await ingest(
      first.map((event) => JSON.stringify(event)),
      'json',
    );
    const again = await (await t.post([first[1]])).json();
    assert.deepEqual(again, [
      { seq: oracle.seq, status: 'duplicate', first: { status: 'accepted' } },
    ]);
  });

  test('GET /v1/distributors/ID shows what the reference computed', async () => {
    const ids = [...new Set(oracle.lines.map((line) => line.beneficiary))].slice(0, 25);
    assert.ok(ids.length >= 10, 'the stream pays enough distributors to compare');
    for (const id of ids) {
      const response = await getDistributor(t, id, t.tokenFor(id));
      assert.equal(response.status, 200);
      const view = (await response.json()) as {
        seq: number;
        distributor: Record<string, unknown> & { earningsCents: Record<string, number> };
        lines: {
          seq: number;
          ordinal: number;
          type: string;
          amountCents: number;
          order: unknown;
        }[];
      };
      const want = oracle.distributor(id)!;
      const d = view.distributor;
      assert.equal(view.seq, oracle.seq);
      assert.equal(d.balanceCents, want.balanceCents, `balance of ${id}`);
      assert.equal(d.paidRank, want.paidRank);
      assert.equal(d.title, want.title);
      assert.equal(d.pv, want.pv);
      assert.equal(d.gv, want.gv);
      assert.equal(d.legs, want.legs);
      assert.equal(d.legVolumeLCents, want.legLCents);
      assert.equal(d.legVolumeRCents, want.legRCents);
      const mine = oracle.lines.filter((line) => line.beneficiary === id);
      for (const type of EARNING_TYPES) {
        const sum = mine
          .filter((line) => line.type === type)
          .reduce((s, l) => s + l.amountCents, 0);
        assert.equal(d.earningsCents[type], sum, `${type} of ${id}`);
      }
      const newest = mine.slice(-50).reverse();
      assert.deepEqual(
        view.lines,
        newest.map(({ seq, ordinal, type, level, source, order: o, amountCents }) => ({
          seq,
          ordinal,
          type,
          level,
          source,
          order: o,
          amountCents,
        })),
      );
    }
  });

  test('the admin token opens any distributor; unknown ids are 404', async () => {
    const id = oracle.lines[0]!.beneficiary;
    assert.equal((await getDistributor(t, id, ADMIN_TOKEN)).status, 200);
    assert.equal((await getDistributor(t, 2_000_000_000, ADMIN_TOKEN)).status, 404);
    assert.equal((await getDistributor(t, 'abc', ADMIN_TOKEN)).status, 404);
  });

  test('a token never opens another distributor, and a forged one opens nothing', async () => {
    const [a, b] = [...new Set(oracle.lines.map((line) => line.beneficiary))];
    const tokenOfA = t.tokenFor(a!);
    const forged = `d.${b}.${tokenOfA.split('.')[2]}`;
    const otherSecret = distributorToken('another-secret-0123456789', b!);
    for (const token of [tokenOfA, forged, otherSecret, '', 'Bearer', ADMIN_TOKEN + 'x']) {
      const response = await getDistributor(t, b!, token);
      assert.equal(response.status, 401, `token ${JSON.stringify(token)}`);
      const body = await response.text();
      assert.ok(!body.includes('balanceCents'), 'a 401 carries no data');
    }
  });

  test('ingest without the key, or with a wrong one, is 401 and changes nothing', async () => {
    const before = await t.exportNow();
    const body = JSON.stringify([order('k1', 'ok1', 900_001, 100, 10_000)]);
    for (const key of ['', 'wrong-key-0000', t.tokenFor(900_001), ADMIN_TOKEN]) {
      const response = await postRaw(t, body, 'application/json', key);
      assert.equal(response.status, 401);
    }
    assert.equal(await t.exportNow(), before);
  });

  test('400 names the first bad event and reason; nothing in the body counts', async () => {
    const before = await t.exportNow();
    const good = order('b400-good', 'o-b400', 900_001, 100, 10_000);
    const cases: [string, string, number, string | undefined, string][] = [
      [
        JSON.stringify([good, { ...good, id: 'b400-2', pv: -1 }]),
        'application/json',
        1,
        'invalid_pv',
        'invalid_event',
      ],
      [
        JSON.stringify([good, good, { type: 'order' }]),
        'application/json',
        2,
        'invalid_id',
        'invalid_event',
      ],
      [
        `${JSON.stringify(good)}\n{not json\n`,
        'application/x-ndjson',
        1,
        'malformed_json',
        'invalid_event',
      ],
      [JSON.stringify([good, 'text']), 'application/json', 1, 'not_an_object', 'invalid_event'],
    ];
    for (const [body, type, index, reason, code] of cases) {
      const response = await postRaw(t, body, type);
      assert.equal(response.status, 400, body);
      const answer = (await response.json()) as ErrorAnswer;
      assert.equal(answer.error.code, code);
      assert.equal(answer.error.index, index);
      assert.equal(answer.error.reason, reason);
    }
    for (const [body, type] of [
      ['{"not":"an array"}', 'application/json'],
      ['[{"id":', 'application/json'],
      [new Uint8Array([0xc1, 0xff, 0x00]), 'application/msgpack'],
    ] as const) {
      const response = await postRaw(t, body, type);
      assert.equal(response.status, 400);
      assert.equal(((await response.json()) as ErrorAnswer).error.code, 'malformed_body');
    }
    assert.equal(await t.exportNow(), before);
    // The good event of the refused bodies took no id: it is accepted now, not a duplicate.
    const now = (await (await t.post([good])).json()) as { status: string }[];
    assert.equal(now[0]!.status, 'accepted');
  });

  test('bodies over the byte limit or the event limit are 413', async () => {
    const big = `[${' '.repeat(MAX_BODY_BYTES)}]`;
    assert.equal((await postRaw(t, big, 'application/json')).status, 413);
    const many = Array.from({ length: MAX_EVENTS_PER_BODY + 1 }, (_, i) =>
      order(`m${i}`, `om${i}`, 900_001, 1, 1),
    );
    const response = await postRaw(t, toNdjson(many), 'application/x-ndjson');
    assert.equal(response.status, 413);
    assert.equal(((await response.json()) as ErrorAnswer).error.code, 'too_many_events');
  });

  test('an unsupported content type is 415, unknown routes 404, wrong methods 405', async () => {
    assert.equal((await postRaw(t, '[]', 'text/plain')).status, 415);
    assert.equal((await fetch(`${t.base}/v2/events`)).status, 404);
    assert.equal((await fetch(`${t.base}/v1/events`)).status, 405);
    assert.equal((await fetch(`${t.base}/`)).status, 200);
  });

  test('clients hanging up mid-body or before the answer leave the server up', async () => {
    const { port } = new URL(t.base);
    const body = JSON.stringify([order('gone-1', 'o-gone-1', 900_001, 10, 1_000)]);
    const head = (length: number) =>
      `POST /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${INGEST_KEY}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${length}\r\n\r\n`;
    // One hangs up halfway through its body, one right after sending all of it.
    for (const sent of [head(body.length) + body.slice(0, 10), head(body.length) + body]) {
      await new Promise<void>((resolve, reject) => {
        const socket = connect(Number(port), '127.0.0.1', () => {
          socket.write(sent, () => {
            socket.destroy();
            resolve();
          });
        });
        socket.on('error', reject);
      });
    }
    await t.server.groupCommit.settled();
    // Whether the complete body was read before the hang-up is a race; either way the
    // server still answers, and the event exists exactly once after a client's retry.
    const events = JSON.parse(body) as unknown[];
    const retry = (await (await t.post(events)).json()) as { status: string }[];
    assert.ok(['accepted', 'duplicate'].includes(retry[0]!.status), retry[0]!.status);
    const again = (await (await t.post(events)).json()) as { status: string }[];
    assert.equal(again[0]!.status, 'duplicate');
  });

  test('/metrics speaks the Prometheus text format with the ingest figures', async () => {
    const response = await fetch(`${t.base}/metrics`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/plain/);
    const text = await response.text();
    assert.match(text, /^upline_events_total\{status="accepted"\} [1-9][0-9]*$/m);
    assert.match(text, /^upline_events_total\{status="duplicate"\} [1-9][0-9]*$/m);
    assert.match(
      text,
      /^upline_ingest_bodies_refused_total\{code="invalid_event",reason="invalid_pv"\} 1$/m,
    );
    assert.match(text, /^upline_commit_latency_seconds_count [1-9][0-9]*$/m);
    assert.match(text, /^upline_ingest_queue_events 0$/m);
    assert.match(text, /^upline_process_resident_memory_bytes [1-9][0-9]*$/m);
  });
});

describe('ingest backpressure', () => {
  let t: TestServer;

  before(async () => {
    t = await startTestServer({ server: { queuedEventsMax: 20, passEventsMax: 10 } });
    const response = await t.post(chain('bp-', [1, 2, 3]));
    assert.equal(response.status, 200);
  });
  after(async () => t.close());

  test('past the bounded queue callers get 503 with Retry-After, and nothing is lost', async () => {
    const bodies = Array.from({ length: 60 }, (_, body) =>
      Array.from({ length: 5 }, (_, i) => order(`bp-${body}-${i}`, `obp-${body}-${i}`, 3, 1, 100)),
    );
    // Hold the engine inside its first pass, so the queue fills deterministically: that pass
    // has the first body, 20 queued events are 4 more, and every later body must be refused.
    let openGate = (): void => undefined;
    const gate = new Promise<void>((resolve) => (openGate = resolve));
    const acceptValidated = t.engine.acceptValidated.bind(t.engine);
    t.engine.acceptValidated = async (events) => {
      await gate;
      return acceptValidated(events);
    };
    let answered = 0;
    let responses: Response[];
    try {
      const pending = bodies.map(async (events) => {
        const response = await t.post(events);
        answered++;
        return response;
      });
      const deadline = Date.now() + 10_000;
      while (answered < bodies.length - 5 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      assert.equal(answered, bodies.length - 5, 'all but the pass and the queue answered at once');
      assert.equal(t.server.groupCommit.queuedEvents, 20);
      openGate();
      responses = await Promise.all(pending);
    } finally {
      openGate();
      t.engine.acceptValidated = acceptValidated;
    }
    const refused = responses.filter((response) => response.status === 503);
    const taken = responses.filter((response) => response.status === 200);
    assert.equal(taken.length, 5, 'the body in the pass and the four queued are answered');
    assert.equal(refused.length, bodies.length - 5, 'every other body is refused');
    for (const response of refused) {
      assert.equal(response.headers.get('retry-after'), '1');
      assert.equal(((await response.json()) as ErrorAnswer).error.code, 'overloaded');
    }
    // Resending everything: what was taken is a duplicate, the refused bodies now go through.
    await t.server.groupCommit.settled();
    const statuses = new Map<string, number>();
    for (const events of bodies) {
      const results = (await (await t.post(events)).json()) as { status: string }[];
      for (const result of results)
        statuses.set(result.status, (statuses.get(result.status) ?? 0) + 1);
    }
    assert.equal(statuses.get('duplicate'), taken.length * 5);
    assert.equal(statuses.get('accepted'), refused.length * 5);
  });
});
