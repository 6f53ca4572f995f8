import * as assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import * as fc from 'fast-check';
import { Packr, pack, unpack } from 'msgpackr';

import {
  bodyFormatOf,
  decodeBody,
  type BodyFormat,
  type BodyProblem,
  type DecodedBody,
} from '../src/server/ingest-body.js';
import { deepArray, deepObject, ruleBadLines, validationBadLines } from './support/bad-input.js';
import { enroll, order, withdraw } from './support/events.js';
import { INGEST_KEY, startTestServer, TestSocket, type TestServer } from './support/server.js';

/**
 * Fuzz of HTTP and WebSocket ingest (SPEC 6, STYLE 12): over ten thousand random and mutated
 * bodies and frames (random bytes, truncated or bit-flipped MessagePack and JSON, huge numbers,
 * deep nesting, wrong types, dropped fields, `__proto__` members, too many events) thrown at a
 * server holding a small network. Every one must be refused whole, with exactly the problem
 * `decodeBody` names for the same bytes; the server stays up, each WebSocket frame gets exactly
 * one answer in order on a socket that stays open, and the export is byte-identical after.
 *
 * Seeded: rerun a failure with UPLINE_FUZZ_SEED=<seed printed in the failure>.
 */
const SEED = Number(process.env['UPLINE_FUZZ_SEED'] ?? 20260301);
/** Cases per property run, sent together: HTTP ones concurrently, WebSocket ones pipelined. */
const CASES_PER_RUN = 4;
const RUNS = 2_600;
/** Small limits, so that oversized bodies and too many events are cheap to make. */
const BODY_BYTES_MAX = 64 * 1024;
const EVENTS_PER_BODY_MAX = 200;
/** An answer slower than this is a hang, not a slow machine. */
const ANSWER_TIMEOUT_MS = 20_000;

const AT = 1_700_000_000_000;
/** Distributors 1..NETWORK_SIZE are enrolled before the fuzz; so are orders `ord-1..`. */
const NETWORK_SIZE = 12;
const ORDER_COUNT = 24;

let server: TestServer;
let baseline = '';
let lastSeqBefore = 0;

function networkEvents(): object[] {
  const events: object[] = [];
  for (let id = 1; id <= NETWORK_SIZE; id++) {
    events.push(enroll(`net-e${id}`, id, id === 1 ? null : Math.floor(id / 2), { at: AT }));
  }
  for (let index = 1; index <= ORDER_COUNT; index++) {
    const buyer = (index % NETWORK_SIZE) + 1;
    events.push(order(`net-o${index}`, `ord-${index}`, buyer, 100, 10_000, { at: AT + index }));
  }
  events.push(withdraw('net-w1', 1, 1, { at: AT + 100 }));
  return events;
}

before(async () => {
  server = await startTestServer({
    server: { maxBodyBytes: BODY_BYTES_MAX, maxEventsPerBody: EVENTS_PER_BODY_MAX },
  });
  const response = await server.post(networkEvents());
  assert.equal(response.status, 200);
  const results = (await response.json()) as { status: string }[];
  assert.ok(
    results.every((result) => result.status === 'accepted'),
    JSON.stringify(results),
  );
  baseline = await server.exportNow();
  lastSeqBefore = server.engine.state.lastSeq;
  assert.ok(baseline.length > 0);
});

after(async () => {
  await server.close();
});

// ---------------------------------------------------------------------------------------------
// Events as member lists, encodable as JSON text and as MessagePack bytes alike

/**
 * A member's value: a plain value (encoded by JSON.stringify and msgpackr), or raw encodings
 * for what a plain value cannot carry through both (1e999, 2^64-1, 20,000-deep nesting, a
 * MessagePack extension).
 */
type Member = { readonly value: unknown } | { readonly json: string; readonly msgpack: Uint8Array };
type Shape = readonly (readonly [key: string, member: Member])[];
/** An event: an object of members, or (mutated) a value that is no object at all. */
type EventPlan = { readonly members: Shape } | { readonly whole: Member };

const plain = (value: unknown): Member => ({ value });

/** msgpackr writes into a reused buffer: every result is copied before the next pack. */
function packed(value: unknown): Uint8Array {
  return Uint8Array.from(pack(value));
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  return Buffer.concat(parts);
}

const utf8 = (text: string): Uint8Array => Buffer.from(text, 'utf8');

function arrayHeader(count: number): Uint8Array {
  return count < 16 ? Uint8Array.of(0x90 | count) : Uint8Array.of(0xdc, count >> 8, count & 255);
}

function mapHeader(count: number): Uint8Array {
  return count < 16 ? Uint8Array.of(0x80 | count) : Uint8Array.of(0xde, count >> 8, count & 255);
}

function memberJson(member: Member): string {
  if ('json' in member) return member.json;
  return JSON.stringify(member.value) ?? 'null';
}

function memberMsgpack(member: Member): Uint8Array {
  return 'msgpack' in member ? member.msgpack : packed(member.value);
}

/** Members written one by one, so `__proto__` stays an own member in both encodings. */
function shapeJson(shape: Shape): string {
  return `{${shape.map(([key, member]) => `${JSON.stringify(key)}:${memberJson(member)}`)}}`;
}

function shapeMsgpack(shape: Shape): Uint8Array {
  const parts = [mapHeader(shape.length)];
  for (const [key, member] of shape) parts.push(packed(key), memberMsgpack(member));
  return concat(parts);
}

function eventJson(event: EventPlan): string {
  return 'whole' in event ? memberJson(event.whole) : shapeJson(event.members);
}

function eventMsgpack(event: EventPlan): Uint8Array {
  return 'whole' in event ? memberMsgpack(event.whole) : shapeMsgpack(event.members);
}

/**
 * The same events as a plain object array, for msgpackr's records (how real clients pack), or
 * null when a raw member cannot be a plain value. `defineProperty` keeps `__proto__` own.
 */
function plainEvents(events: readonly EventPlan[]): unknown[] | null {
  const values: unknown[] = [];
  for (const event of events) {
    if ('whole' in event) {
      if (!('value' in event.whole)) return null;
      values.push(event.whole.value);
      continue;
    }
    const object: Record<string, unknown> = {};
    for (const [key, member] of event.members) {
      if (!('value' in member)) return null;
      Object.defineProperty(object, key, { value: member.value, enumerable: true });
    }
    values.push(object);
  }
  return values;
}

function encodeBody(
  events: readonly EventPlan[],
  format: BodyFormat,
  records: boolean,
): Uint8Array {
  switch (format) {
    case 'json':
      return utf8(`[${events.map(eventJson).join(',')}]`);
    case 'ndjson':
      return utf8(events.map((event) => `${eventJson(event)}\n`).join(''));
    case 'msgpack': {
      const values = records ? plainEvents(events) : null;
      if (values !== null) return Uint8Array.from(new Packr({ useRecords: true }).pack(values));
      return concat([arrayHeader(events.length), ...events.map(eventMsgpack)]);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Arbitraries: valid-shaped events, bad values, mutations

const knownId = fc.integer({ min: 1, max: NETWORK_SIZE });

function eventShape(type: string, id: number, at: number, rest: [string, unknown][]): Shape {
  const base: [string, unknown][] = [
    ['id', `fz-${id}`],
    ['type', type],
    ['at', at],
  ];
  return [...base, ...rest].map(([key, value]) => [key, plain(value)] as const);
}

/**
 * Events that would be valid (and would change state) as they are: fresh ids naming the
 * network. Mutations and the final check make sure none of them is ever taken.
 */
function validEventArb(): fc.Arbitrary<Shape> {
  const head = fc.tuple(fc.nat(), fc.integer({ min: 0, max: 2 * AT }));
  const placement = fc.option(fc.record({ parent: knownId, leg: fc.constantFrom('L', 'R') }));
  const fresh = fc.integer({ min: NETWORK_SIZE + 1, max: 100_000 });
  return fc.oneof(
    fc
      .tuple(head, fresh, knownId, placement)
      .map(([[id, at], distributor, sponsor, place]) =>
        eventShape('enroll', id, at, [
          ['distributor', distributor],
          ['sponsor', sponsor],
          ...(place === null ? [] : [['placement', place] as [string, unknown]]),
        ]),
      ),
    fc
      .tuple(head, fc.nat(), knownId, fc.nat(1_000), fc.nat(100_000))
      .map(([[id, at], o, d, pv, cv]) =>
        eventShape('order', id, at, [
          ['order', `fz-order-${o}`],
          ['distributor', d],
          ['pv', pv],
          ['cv', cv],
        ]),
      ),
    fc
      .tuple(head, fc.integer({ min: 1, max: ORDER_COUNT }))
      .map(([[id, at], o]) => eventShape('refund', id, at, [['order', `ord-${o}`]])),
    fc.tuple(head, knownId, fc.integer({ min: 1, max: 10 })).map(([[id, at], d, amount]) =>
      eventShape('withdraw', id, at, [
        ['distributor', d],
        ['amount', amount],
      ]),
    ),
    fc
      .tuple(head, knownId)
      .map(([[id, at], d]) => eventShape('terminate', id, at, [['distributor', d]])),
    head.map(([id, at]) => eventShape('period.close', id, at, [])),
  );
}

/** Number literals JSON can write but no JS number round-trips, with their nearest double. */
const NUMBER_TEXTS = [
  '1e999',
  '-1e999',
  '123456789012345678901234567890',
  '9007199254740993',
  '1e-400',
  '-0',
  '2147483648',
  '1E+21',
  '0.1e1',
];

/** MessagePack the JSON side cannot say: extensions, reserved bytes, lying lengths. */
const MSGPACK_ODDITIES = [
  'c1', // never used
  'd40100', // fixext1 of an unknown type
  'd6ff00000000', // timestamp: a Date
  'd465c0', // msgpackr's error extension, without its payload
  'd478c0', // regexp extension
  'd473c0', // set extension
  'd470c0', // structured-clone pointer
  'd4724093', // a record definition cut short
  'c40501020304', // bin8 claiming 5 bytes, carrying 4
  'ddffffffff', // array32 of 4 billion elements
  'dbffffffff61', // str32 of 4 GB
  'dfffffffff', // map32 of 4 billion members
  'ca7fc00000', // float32 NaN
  'cb7ff0000000000000', // float64 Infinity
  'cfffffffffffffffff', // uint64 max
  'd38000000000000000', // int64 min
].map((hex) => ({ json: JSON.stringify(hex), msgpack: Buffer.from(hex, 'hex') }));

function deepMember(depth: number, isArray: boolean): Member {
  if (isArray) {
    const msgpack = new Uint8Array(depth + 1).fill(0x91);
    msgpack[depth] = 0x90;
    return { json: deepArray(depth), msgpack };
  }
  // {"a": {"a": ... 1}}: fixmap of one, fixstr "a", then the next level.
  const level = Uint8Array.of(0x81, 0xa1, 0x61);
  const msgpack = concat([...new Array<Uint8Array>(depth).fill(level), Uint8Array.of(1)]);
  return { json: deepObject(depth), msgpack };
}

function protoMember(inner: Member): Member {
  return {
    json: `{"__proto__":${memberJson(inner)}}`,
    msgpack: concat([mapHeader(1), packed('__proto__'), memberMsgpack(inner)]),
  };
}

function badValueArb(): fc.Arbitrary<Member> {
  const oddNumbers = [-1, 0, 1.5, -0.5, 2 ** 31, 2 ** 53, -(2 ** 53), 2 ** 64, 1e300, 1e12 + 1];
  const leaf = fc.oneof(
    fc.string({ maxLength: 70 }).map(plain),
    fc.string({ maxLength: 70, unit: 'binary' }).map(plain),
    fc.constantFrom(...oddNumbers, Number.MAX_VALUE, Number.MIN_VALUE).map(plain),
    fc.double().map(plain),
    fc.integer().map(plain),
    fc.constantFrom(...NUMBER_TEXTS).map((text) => ({ json: text, msgpack: packed(Number(text)) })),
    fc
      .bigInt({ min: -(2n ** 63n), max: 2n ** 64n - 1n })
      .map((big) => ({ json: big.toString(), msgpack: packed(big) })),
    fc.constantFrom(null, true, false, [], {}, '', 'L', 'order', '__proto__').map(plain),
    fc.constantFrom(...MSGPACK_ODDITIES),
    fc.jsonValue({ maxDepth: 3 }).map(plain),
  );
  return fc.oneof(
    { arbitrary: leaf, weight: 8 },
    {
      arbitrary: fc
        .tuple(fc.integer({ min: 1, max: 9_000 }), fc.boolean())
        .map(([depth, isArray]) => deepMember(depth, isArray)),
      weight: 1,
    },
    { arbitrary: leaf.map(protoMember), weight: 1 },
  );
}

type Mutation =
  | { readonly kind: 'replace'; readonly key: number | string; readonly member: Member }
  | { readonly kind: 'drop'; readonly index: number }
  | { readonly kind: 'hide'; readonly index: number }
  | { readonly kind: 'whole'; readonly member: Member };

function mutationArb(): fc.Arbitrary<Mutation> {
  const key = fc.oneof(
    fc.nat(),
    fc.constantFrom('__proto__', 'constructor', 'placement', 'sponsor', 'extra', 'ID'),
  );
  return fc.oneof(
    {
      arbitrary: fc.record({ kind: fc.constant('replace'), key, member: badValueArb() }),
      weight: 6,
    },
    { arbitrary: fc.record({ kind: fc.constant('drop'), index: fc.nat() }), weight: 2 },
    { arbitrary: fc.record({ kind: fc.constant('hide'), index: fc.nat() }), weight: 1 },
    { arbitrary: fc.record({ kind: fc.constant('whole'), member: badValueArb() }), weight: 1 },
  );
}

/** `hide` moves a member into a `__proto__` member, where validation must not find it. */
function mutate(shape: Shape, mutation: Mutation): EventPlan {
  switch (mutation.kind) {
    case 'whole':
      return { whole: mutation.member };
    case 'drop':
      return { members: shape.filter((_, index) => index !== mutation.index % shape.length) };
    case 'hide': {
      const index = mutation.index % shape.length;
      const [key, member] = shape[index]!;
      const hidden: Member = {
        json: `{${JSON.stringify(key)}:${memberJson(member)}}`,
        msgpack: concat([mapHeader(1), packed(key), memberMsgpack(member)]),
      };
      const rest = shape.filter((_, other) => other !== index);
      return { members: [...rest, ['__proto__', hidden]] };
    }
    case 'replace': {
      const key =
        typeof mutation.key === 'number' ? shape[mutation.key % shape.length]![0] : mutation.key;
      if (!shape.some(([other]) => other === key)) {
        return { members: [...shape, [key, mutation.member]] };
      }
      return {
        members: shape.map(([other, member]) => [other, other === key ? mutation.member : member]),
      };
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Bodies: structured mutations, byte mutations, random bytes, the bad-line catalogue, too many
// events, too many bytes

type ByteMutation =
  | { readonly kind: 'truncate'; readonly at: number }
  | { readonly kind: 'flip'; readonly at: number; readonly bit: number }
  | { readonly kind: 'insert'; readonly at: number; readonly bytes: Uint8Array }
  | { readonly kind: 'delete'; readonly at: number; readonly length: number }
  | { readonly kind: 'repeat'; readonly at: number; readonly length: number }
  | { readonly kind: 'number'; readonly at: number; readonly text: string };

function byteMutationArb(): fc.Arbitrary<ByteMutation> {
  const at = fc.nat();
  return fc.oneof(
    fc.record({ kind: fc.constant('truncate'), at }),
    fc.record({ kind: fc.constant('flip'), at, bit: fc.nat(7) }),
    fc.record({ kind: fc.constant('insert'), at, bytes: fc.uint8Array({ maxLength: 12 }) }),
    fc.record({ kind: fc.constant('delete'), at, length: fc.integer({ min: 1, max: 32 }) }),
    fc.record({ kind: fc.constant('repeat'), at, length: fc.integer({ min: 1, max: 64 }) }),
    fc.record({ kind: fc.constant('number'), at, text: fc.constantFrom(...NUMBER_TEXTS) }),
  );
}

function mutateBytes(bytes: Uint8Array, mutation: ByteMutation): Uint8Array {
  const at = mutation.at % (bytes.length + 1);
  const head = bytes.subarray(0, at);
  switch (mutation.kind) {
    case 'truncate':
      return head;
    case 'flip': {
      const copy = Uint8Array.from(bytes);
      if (at < copy.length) copy[at] = copy[at]! ^ (1 << mutation.bit);
      return copy;
    }
    case 'insert':
      return concat([head, mutation.bytes, bytes.subarray(at)]);
    case 'delete':
      return concat([head, bytes.subarray(at + mutation.length)]);
    case 'repeat':
      return concat([head, bytes.subarray(at, at + mutation.length), bytes.subarray(at)]);
    case 'number': {
      // A digit run (in JSON: a number, most likely) becomes a literal no double holds exactly.
      const text = Buffer.from(bytes).toString('latin1');
      const runs = [...text.matchAll(/[0-9]+/g)];
      const run = runs[mutation.at % Math.max(runs.length, 1)];
      if (run === undefined) return bytes;
      const end = run.index + run[0].length;
      return concat([bytes.subarray(0, run.index), utf8(mutation.text), bytes.subarray(end)]);
    }
  }
}

interface Body {
  readonly format: BodyFormat;
  readonly bytes: Uint8Array;
}

const formatArb = fc.constantFrom<BodyFormat>('json', 'ndjson', 'msgpack');

function structuredBodyArb(format: BodyFormat): fc.Arbitrary<Body> {
  return fc
    .record({
      shapes: fc.array(validEventArb(), { maxLength: 6 }),
      mutations: fc.array(fc.tuple(fc.nat(), mutationArb()), { maxLength: 3 }),
      records: fc.boolean(),
      byteMutations: fc.array(byteMutationArb(), { maxLength: 3 }),
    })
    .map(({ shapes, mutations, records, byteMutations }) => {
      const events: EventPlan[] = shapes.map((members) => ({ members }));
      for (const [at, mutation] of mutations) {
        if (shapes.length === 0) break;
        const index = at % shapes.length;
        const event = events[index]!;
        if ('members' in event) events[index] = mutate(event.members, mutation);
      }
      let bytes = encodeBody(events, format, records);
      for (const mutation of byteMutations) bytes = mutateBytes(bytes, mutation);
      return { format, bytes };
    });
}

const CATALOGUE_CONTEXT = {
  root: 1,
  member: 2,
  nobody: 90_000,
  takenEventId: 'net-e1',
  takenOrderId: 'ord-1',
  at: AT,
};

/**
 * A catalogued bad line after valid ones that a rule would reject (which, sent alone, would
 * take a seq): the body must be refused whole. Lines over the body limit make 413s.
 */
const CATALOGUE_BAD = validationBadLines(CATALOGUE_CONTEXT).map((line) => line.line);
const CATALOGUE_GOOD = ruleBadLines(CATALOGUE_CONTEXT).map((line) => line.line);

function catalogueBodyArb(format: BodyFormat): fc.Arbitrary<Body> {
  const bad = CATALOGUE_BAD;
  const good = CATALOGUE_GOOD;
  const lines = fc.tuple(fc.subarray(good, { maxLength: 4 }), fc.constantFrom(...bad));
  return lines.map(([before, badLine]) => {
    const texts = [...before, badLine];
    if (format === 'ndjson') return { format, bytes: utf8(`${texts.join('\n')}\n`) };
    if (format === 'json') return { format, bytes: utf8(`[${texts.join(',')}]`) };
    const asJson = { format: 'json' as const, bytes: utf8(`[${texts.join(',')}]`) };
    try {
      const values = texts.map((text): unknown => JSON.parse(text));
      return { format, bytes: Uint8Array.from(new Packr({ useRecords: true }).pack(values)) };
    } catch {
      // Not JSON, or nested deeper than msgpackr's recursive packer goes: sent as JSON.
      return asJson;
    }
  });
}

/** Valid events, but more than one body may carry: refused whole with 413. */
function manyEventsBodyArb(format: BodyFormat): fc.Arbitrary<Body> {
  const count = fc.integer({ min: EVENTS_PER_BODY_MAX + 1, max: EVENTS_PER_BODY_MAX + 40 });
  return count.map((count) => {
    const events = Array.from({ length: count }, (_, index) => ({
      members: eventShape('period.close', 1_000_000 + index, AT, []),
    }));
    return { format, bytes: encodeBody(events, format, true) };
  });
}

/**
 * A body meant as `format` (it may not end up one: it is mutated, truncated, random). Built
 * once per format: the cases below pick a format first (`chain`), per case.
 */
const BODY_ARBS = new Map<BodyFormat, fc.Arbitrary<Body>>();

function bodyArb(format: BodyFormat): fc.Arbitrary<Body> {
  let arbitrary = BODY_ARBS.get(format);
  if (arbitrary === undefined) {
    arbitrary = newBodyArb(format);
    BODY_ARBS.set(format, arbitrary);
  }
  return arbitrary;
}

function newBodyArb(format: BodyFormat): fc.Arbitrary<Body> {
  const randomBytes = fc.uint8Array({ maxLength: 2048 }).map((bytes) => ({ format, bytes }));
  const tooLarge = fc
    .integer({ min: BODY_BYTES_MAX + 1, max: 2 * BODY_BYTES_MAX })
    .map((size) => ({ format, bytes: new Uint8Array(size).fill(0x5b) }));
  return fc.oneof(
    { arbitrary: structuredBodyArb(format), weight: 12 },
    { arbitrary: randomBytes, weight: 3 },
    { arbitrary: catalogueBodyArb(format), weight: 3 },
    { arbitrary: manyEventsBodyArb(format), weight: 1 },
    { arbitrary: tooLarge, weight: 1 },
  );
}

// ---------------------------------------------------------------------------------------------
// Delivery: HTTP with a content type (right, wrong, missing) or a WebSocket frame

type Delivery =
  | { readonly channel: 'http'; readonly contentType: string | null }
  | { readonly channel: 'ws'; readonly binary: boolean };

const CONTENT_TYPES: Record<BodyFormat, readonly string[]> = {
  json: ['application/json', 'Application/JSON', 'application/json; charset=utf-8'],
  ndjson: ['application/x-ndjson', 'application/ndjson', 'application/jsonl'],
  msgpack: ['application/msgpack', 'application/x-msgpack', 'application/vnd.msgpack'],
};
const UNSUPPORTED_TYPES = [
  'text/plain',
  'application/xml',
  'text/json',
  'application/json-seq',
  'multipart/form-data; boundary=x',
  '*/*',
  ';application/json',
  'application/msgpack2',
];

type Case = readonly [Body, Delivery];

/** HTTP: a body of some format under its own content type, another one, or none at all. */
function httpCaseArb(): fc.Arbitrary<Case> {
  const anyType = fc.constantFrom(...Object.values(CONTENT_TYPES).flat());
  const oddType = fc.oneof(
    fc.constantFrom(...UNSUPPORTED_TYPES),
    fc.constant(null),
    fc.string({ maxLength: 30, unit: 'grapheme-ascii' }).filter((text) => /^[ -~]*$/.test(text)),
  );
  return formatArb.chain((format) => {
    const contentType = fc.oneof(
      { arbitrary: fc.constantFrom(...CONTENT_TYPES[format]), weight: 4 },
      { arbitrary: anyType, weight: 1 },
      { arbitrary: oddType, weight: 1 },
    );
    return fc.tuple(bodyArb(format), contentType).map(([body, type]): Case => {
      return [body, { channel: 'http', contentType: type }];
    });
  });
}

/** WebSocket: MessagePack in binary frames and JSON in text frames, now and then the others. */
function wsCaseArb(): fc.Arbitrary<Case> {
  return fc.boolean().chain((binary) => {
    const format = fc.oneof(
      { arbitrary: fc.constant<BodyFormat>(binary ? 'msgpack' : 'json'), weight: 6 },
      { arbitrary: formatArb, weight: 1 },
    );
    return format.chain((chosen) =>
      bodyArb(chosen).map((body): Case => [body, { channel: 'ws', binary }]),
    );
  });
}

function caseArb(): fc.Arbitrary<Case> {
  return fc.oneof(httpCaseArb(), wsCaseArb());
}

// ---------------------------------------------------------------------------------------------
// Every case made one the server must refuse, with the answer it must give

interface Refused {
  readonly bytes: Uint8Array;
  readonly problem: BodyProblem;
  readonly madeInvalid: boolean;
  /**
   * False when the decoder ran out of stack here (deep nesting, recursive msgpackr): how deep
   * it gets depends on the caller's own stack, so the server, deeper or shallower, may name
   * another problem. It must still refuse the body.
   */
  readonly exact: boolean;
}

const overflowed = (problem: BodyProblem): boolean => problem.message.includes('call stack');

/**
 * A mutation can leave a body valid (a truncation at a line end, a replaced member that was
 * optional, no mutation at all): such a body would be taken and change state. Bad input must
 * never change state and a body is refused whole, so a valid one gets an invalid event added
 * and is checked again; the fuzz only ever sends bodies `decodeBody` refuses. A body this
 * decoder could not finish (stack overflow) gets the invalid event too: the server may finish
 * it and would otherwise take it if it were valid.
 */
function refusable(bytes: Uint8Array, format: BodyFormat, channel: Channel): Refused {
  const decoded = decodeAsServer(bytes, format, channel);
  if (!decoded.ok && !overflowed(decoded.problem)) {
    return { bytes, problem: decoded.problem, madeInvalid: false, exact: true };
  }
  const count = decoded.ok ? decoded.events.length : 1;
  for (const fixed of invalidated(bytes, format, count)) {
    const again = decodeAsServer(fixed, format, channel);
    if (again.ok) continue;
    const exact = decoded.ok && !overflowed(again.problem);
    return { bytes: fixed, problem: again.problem, madeInvalid: decoded.ok, exact };
  }
  assert.fail(`seed ${SEED}: could not make a valid ${format} body invalid`);
}

type Channel = Delivery['channel'];

/**
 * `decodeBody` on the bytes as the server holds them: a Buffer over HTTP, a plain Uint8Array
 * over a WebSocket. It matters for the message: msgpackr decodes `bin` as the input's kind, and
 * "Data read, but end of buffer not reached" quotes the value read.
 */
function decodeAsServer(bytes: Uint8Array, format: BodyFormat, channel: Channel): DecodedBody {
  const held = channel === 'http' ? Buffer.from(bytes) : Uint8Array.from(bytes);
  return decodeBody(held, format, EVENTS_PER_BODY_MAX);
}

/** The body with `{}` (or nil) added as one more event; a plain bad body as the last resort. */
function invalidated(bytes: Uint8Array, format: BodyFormat, count: number): Uint8Array[] {
  const last = format === 'msgpack' ? packed([null]) : utf8('[{}]');
  switch (format) {
    case 'ndjson':
      return [concat([bytes, utf8('\n{}\n')]), last];
    case 'json': {
      const text = Buffer.from(bytes).toString('utf8');
      const end = text.lastIndexOf(']');
      const added = `${text.slice(0, end)}${count > 0 ? ',' : ''}{}${text.slice(end)}`;
      return [utf8(added), last];
    }
    case 'msgpack': {
      const first = bytes[0] ?? 0;
      const rest = bytes.subarray(1);
      const nil = Uint8Array.of(0xc0);
      if (first >= 0x90 && first < 0x9f)
        return [concat([Uint8Array.of(first + 1), rest, nil]), last];
      if (first === 0x9f) return [concat([Uint8Array.of(0xdc, 0, 16), rest, nil]), last];
      return [last];
    }
  }
}

interface Prepared {
  readonly delivery: Delivery;
  readonly payload: Uint8Array | string;
  /** The bytes the server gets. */
  readonly bytes: Uint8Array;
  /** HTTP status; for a body that is not `exact`, 400 or 413. */
  readonly status: number;
  readonly code: string;
  /** The exact problem the server must name; null where it never decodes the body. */
  readonly problem: BodyProblem | null;
  readonly madeInvalid: boolean;
  readonly exact: boolean;
}

/** WebSocket frames stay under maxPayloadLength (over it, uWS closes: tested apart). */
const FRAME_BYTES_MAX = BODY_BYTES_MAX - 64;
/** What a server whose decoder got further or less far than ours may answer instead. */
const REFUSAL_CODES = ['malformed_body', 'invalid_event', 'too_many_events'];

function prepared(delivery: Delivery, payload: Uint8Array | string, refused: Refused): Prepared {
  const { problem, madeInvalid, exact } = refused;
  const bytes = refused.bytes;
  const status = problem.code === 'too_many_events' ? 413 : 400;
  return { delivery, payload, bytes, status, code: problem.code, problem, madeInvalid, exact };
}

function prepare(body: Body, delivery: Delivery): Prepared {
  if (delivery.channel === 'http') {
    const format = bodyFormatOf(delivery.contentType ?? '');
    const bytes = body.bytes;
    if (format === null) {
      const refusal = { status: 415, code: 'unsupported_media_type', problem: null };
      return { delivery, payload: bytes, bytes, ...refusal, madeInvalid: false, exact: true };
    }
    const refused = refusable(bytes, format, 'http');
    if (refused.bytes.length > BODY_BYTES_MAX) {
      const refusal = { status: 413, code: 'body_too_large', problem: null, exact: true };
      return { ...prepared(delivery, refused.bytes, refused), ...refusal };
    }
    return prepared(delivery, refused.bytes, refused);
  }
  const cut = body.bytes.subarray(0, FRAME_BYTES_MAX);
  if (delivery.binary) {
    const refused = refusable(cut, 'msgpack', 'ws');
    return prepared(delivery, refused.bytes, refused);
  }
  // A text frame must be UTF-8 (uWS closes the socket otherwise: tested apart).
  let text = Buffer.from(cut).toString('utf8');
  if (utf8(text).length > FRAME_BYTES_MAX) text = text.slice(0, Math.floor(FRAME_BYTES_MAX / 3));
  const refused = refusable(utf8(text), 'json', 'ws');
  const payload = Buffer.from(refused.bytes).toString('utf8');
  assert.deepEqual(utf8(payload), Buffer.from(refused.bytes), 'text frames round-trip');
  return prepared(delivery, payload, refused);
}

function describe(prepared: Prepared): string {
  const { delivery, bytes } = prepared;
  const where =
    delivery.channel === 'http'
      ? `HTTP with content-type ${JSON.stringify(delivery.contentType)}`
      : `WebSocket ${delivery.binary ? 'binary' : 'text'} frame`;
  const hex = Buffer.from(bytes.subarray(0, 96)).toString('hex');
  return `seed ${SEED}: ${where}, ${bytes.length} bytes: ${hex}${bytes.length > 96 ? '...' : ''}`;
}

// ---------------------------------------------------------------------------------------------
// Sending

async function sendHttp(prepared: Prepared): Promise<void> {
  assert.equal(prepared.delivery.channel, 'http');
  const headers: Record<string, string> = { authorization: `Bearer ${INGEST_KEY}` };
  if (prepared.delivery.channel === 'http' && prepared.delivery.contentType !== null) {
    headers['content-type'] = prepared.delivery.contentType;
  }
  const response = await fetch(`${server.base}/v1/events`, {
    method: 'POST',
    headers,
    body: prepared.bytes,
    signal: AbortSignal.timeout(ANSWER_TIMEOUT_MS),
  });
  const text = await response.text();
  checkAnswer(prepared, JSON.parse(text), response.status);
}

/**
 * The answer is the refusal `decodeBody` named for the same bytes (and the HTTP status that goes
 * with it), or for a body our decoder could not finish, any refusal.
 */
function checkAnswer(prepared: Prepared, answer: unknown, status: number | null): void {
  const what = `${describe(prepared)}\nanswer (${status ?? 'frame'}): ${JSON.stringify(answer)}`;
  const code = (answer as { error?: { code?: unknown } } | null)?.error?.code;
  if (!prepared.exact) {
    assert.ok(typeof code === 'string' && REFUSAL_CODES.includes(code), what);
    if (status !== null) assert.equal(status, code === 'too_many_events' ? 413 : 400, what);
    return;
  }
  if (status !== null) assert.equal(status, prepared.status, what);
  if (prepared.problem === null) assert.equal(code, prepared.code, what);
  else assert.deepEqual(answer, { error: prepared.problem }, what);
}

/**
 * A string as it comes out of MessagePack: a lone surrogate cannot be UTF-8 and arrives as
 * U+FFFD. (The server's messages cut at 200 UTF-16 units can end in half a pair.)
 */
function wellFormed(text: string): string {
  return text.replace(
    /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g,
    '\ufffd',
  );
}

/** Frames pipelined on one socket: each gets exactly one answer, in the order sent. */
async function sendFrames(socket: TestSocket, frames: readonly Prepared[]): Promise<void> {
  for (const frame of frames) {
    const binary = frame.delivery.channel === 'ws' && frame.delivery.binary;
    socket.socket.send(frame.payload, { binary });
  }
  for (const frame of frames) {
    const binary = frame.delivery.channel === 'ws' && frame.delivery.binary;
    const answer = await socket.next(ANSWER_TIMEOUT_MS);
    const what = describe(frame);
    assert.equal(Buffer.isBuffer(answer), binary, `${what}: answered in the frame's own kind`);
    if (!Buffer.isBuffer(answer)) {
      checkAnswer(frame, answer, null);
      continue;
    }
    const sent = frame.problem;
    const problem = sent === null ? null : { ...sent, message: wellFormed(sent.message) };
    checkAnswer({ ...frame, problem }, unpack(answer), null);
  }
  assert.equal(socket.messages.length, 0, 'no answer beyond one per frame');
}

/** A valid request is still answered: an event already taken comes back as a duplicate. */
const TAKEN_EVENT = enroll('net-e1', 1, null, { at: AT });

async function expectDuplicateOverHttp(): Promise<void> {
  const response = await server.post([TAKEN_EVENT]);
  assert.equal(response.status, 200);
  const results = (await response.json()) as { status: string }[];
  assert.equal(results.length, 1);
  assert.equal(results[0]?.status, 'duplicate');
}

async function expectDuplicateOverWs(socket: TestSocket): Promise<void> {
  socket.socket.send(new Packr({ useRecords: true }).pack([TAKEN_EVENT]), { binary: true });
  const answer = await socket.next(ANSWER_TIMEOUT_MS);
  assert.ok(Buffer.isBuffer(answer));
  const results = unpack(answer) as { status: string }[];
  assert.equal(results.length, 1);
  assert.equal(results[0]?.status, 'duplicate');
}

function openIngest(): Promise<TestSocket> {
  const headers = { authorization: `Bearer ${INGEST_KEY}` };
  return TestSocket.open(`${server.wsBase}/v1/ingest`, headers);
}

// ---------------------------------------------------------------------------------------------
// The tests

interface Tally {
  http: number;
  frames: number;
  madeInvalid: number;
  inexact: number;
  readonly codes: Map<string, number>;
}

function count(tally: Tally, cases: readonly Prepared[]): void {
  for (const prepared of cases) {
    if (prepared.delivery.channel === 'http') tally.http++;
    else tally.frames++;
    if (prepared.madeInvalid) tally.madeInvalid++;
    if (!prepared.exact) tally.inexact++;
    const key = `${prepared.delivery.channel} ${prepared.code}`;
    tally.codes.set(key, (tally.codes.get(key) ?? 0) + 1);
  }
}

test('ingest refuses every fuzzed body and frame whole; the export is unchanged', async (t) => {
  const socket = await openIngest();
  const tally: Tally = { http: 0, frames: 0, madeInvalid: 0, inexact: 0, codes: new Map() };
  const cases = fc.array(caseArb(), { minLength: CASES_PER_RUN, maxLength: CASES_PER_RUN });
  const property = fc.asyncProperty(cases, async (drawn) => {
    const prepared = drawn.map(([body, delivery]) => prepare(body, delivery));
    const http = prepared.filter((one) => one.delivery.channel === 'http');
    const frames = prepared.filter((one) => one.delivery.channel === 'ws');
    await Promise.all([...http.map(sendHttp), sendFrames(socket, frames)]);
    count(tally, prepared);
  });
  // No shrinking: each rerun would hit the same server. The report is the first failure's own
  // message (which names the bytes) with seed and path, not fast-check's dump of whole bodies.
  const details = await fc.check(property, { seed: SEED, numRuns: RUNS, endOnFailure: true });
  if (details.failed) {
    const where = `seed ${SEED}, path ${String(details.counterexamplePath)}`;
    assert.fail(`${where}, run ${details.numRuns}: ${String(details.errorInstance)}`);
  }
  t.diagnostic(`seed ${SEED}: ${tally.http} HTTP bodies, ${tally.frames} WebSocket frames`);
  t.diagnostic(`${tally.madeInvalid} valid after mutation, made invalid before sending`);
  t.diagnostic(`${tally.inexact} too deep to predict the exact problem (any refusal accepted)`);
  t.diagnostic(JSON.stringify(Object.fromEntries([...tally.codes].sort())));
  assert.ok(tally.http + tally.frames >= 10_000, 'at least 10,000 bodies and frames');
  assert.ok(tally.http >= 2_000 && tally.frames >= 2_000, 'both channels fuzzed');
  assert.equal(socket.closeCode, null, 'the ingest socket stayed open');
  assert.equal(server.engine.state.lastSeq, lastSeqBefore, 'no refused body took a seq');
  assert.equal(await server.exportNow(), baseline, `seed ${SEED}: the export changed`);
  await expectDuplicateOverHttp();
  await expectDuplicateOverWs(socket);
  assert.equal(await server.exportNow(), baseline, `seed ${SEED}: a duplicate changed the export`);
  socket.close();
});

test('an oversized frame or a text frame of bad UTF-8 closes only its own socket', async () => {
  const bystander = await openIngest();
  const tooLarge = await openIngest();
  tooLarge.socket.send(new Uint8Array(BODY_BYTES_MAX + 1).fill(0x90), { binary: true });
  const tooLargeCode = await tooLarge.closed(ANSWER_TIMEOUT_MS);
  assert.ok([1006, 1009].includes(tooLargeCode), `close code ${tooLargeCode}`);
  assert.equal(tooLarge.messages.length, 0, 'an oversized frame gets no answer but the close');

  const badText = await openIngest();
  badText.socket.send(Buffer.from([0x5b, 0xff, 0xfe, 0x5d]), { binary: false });
  const badTextCode = await badText.closed(ANSWER_TIMEOUT_MS);
  assert.ok([1006, 1007].includes(badTextCode), `close code ${badTextCode}`);

  // The other socket, and a new one, still work: a bad frame is refused, a valid one answered.
  const fresh = await openIngest();
  for (const socket of [bystander, fresh]) {
    socket.socket.send('[{}]');
    assert.deepEqual(await socket.next(ANSWER_TIMEOUT_MS), {
      error: decodeProblem(utf8('[{}]'), 'json'),
    });
    await expectDuplicateOverWs(socket);
    assert.equal(socket.closeCode, null);
    socket.close();
  }
  await expectDuplicateOverHttp();
  assert.equal(await server.exportNow(), baseline);
});

function decodeProblem(bytes: Uint8Array, format: BodyFormat): BodyProblem {
  const decoded = decodeAsServer(bytes, format, 'ws');
  assert.ok(!decoded.ok);
  return decoded.problem;
}
