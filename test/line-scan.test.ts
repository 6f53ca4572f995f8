import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';

import { EventLineScanner } from '../src/events/line-scan.js';
import { EventFields, parseEventLine, parseEventLineWithJson } from '../src/events/validate.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Members in a chosen order, keys repeated at will (JSON.stringify cannot write that). */
type Members = [string, Json][];

const KEYS = ['id', 'type', 'at', 'distributor', 'sponsor', 'placement', 'order', 'pv', 'cv'];
const MORE_KEYS = ['amount', 'parent', 'leg', 'note', 'Id', 'ids', ''];
const TYPES = ['enroll', 'order', 'refund', 'withdraw', 'terminate', 'period.close', 'Order'];

/** JSON whitespace, mostly none. */
const space = fc.oneof(
  { weight: 4, arbitrary: fc.constant('') },
  { weight: 1, arbitrary: fc.stringMatching(/^[ \t\n\r]{1,3}$/) },
);

/** Numbers around every edge the scanner draws: digits, signs, fractions, exponents, 2^53. */
const number = fc.oneof(
  fc.integer({ min: 0, max: 2 ** 31 }),
  fc.integer({ min: -5, max: 5 }),
  fc.constantFrom(0, -0, 1.5, 1e21, 2 ** 53, 2 ** 53 + 2, 999_999_999_999_999, 1e15),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);

/** Strings plain and not: escapes, quotes, control characters, non-ASCII, ids. */
const text = fc.oneof(
  fc.constantFrom(...TYPES, 'L', 'R', 'e-1', 'o-7', ''),
  fc.string({ maxLength: 70 }),
  fc.string({ unit: 'grapheme', maxLength: 8 }),
  fc.constantFrom('a"b', 'a\\b', 'tab\there', 'line\nbreak', '\u0001', 'é€😀', '\ud800'),
);

const scalar: fc.Arbitrary<Json> = fc.oneof(number, text, fc.constantFrom(null, true, false));

const nested: fc.Arbitrary<Json> = fc.oneof(
  fc.array(scalar, { maxLength: 3 }),
  fc.dictionary(fc.constantFrom('parent', 'leg', 'x'), scalar, { maxKeys: 3 }),
);

const members: fc.Arbitrary<Members> = fc.array(
  fc.tuple(
    fc.constantFrom(...KEYS, ...KEYS, ...MORE_KEYS),
    fc.oneof({ weight: 6, arbitrary: scalar }, { weight: 1, arbitrary: nested }),
  ),
  { maxLength: 10 },
);

/** A well-formed event of one of the shapes producers write, as members. */
const event: fc.Arbitrary<Members> = fc
  .record({
    id: fc.constantFrom('e-1', 'e-123456789', '7c0e3a52-0f5e-4d4c-a2b5-8e0f0a6f3b11'),
    at: fc.integer({ min: 0, max: 2 ** 45 }),
    distributor: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
    sponsor: fc.option(fc.integer({ min: 1, max: 2 ** 31 - 1 })),
    parent: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
    leg: fc.constantFrom('L', 'R'),
    value: fc.integer({ min: 0, max: 10 ** 12 }),
    kind: fc.constantFrom(...TYPES.slice(0, 6)),
    placed: fc.boolean(),
  })
  .map((e): Members => {
    const head: Members = [
      ['id', e.id],
      ['type', e.kind],
      ['at', e.at],
    ];
    switch (e.kind) {
      case 'enroll':
        return head.concat([
          ['distributor', e.distributor],
          ['sponsor', e.sponsor],
          ['placement', e.placed ? { parent: e.parent, leg: e.leg } : null],
        ]);
      case 'order':
        return head.concat([
          ['order', `o-${e.value}`],
          ['distributor', e.distributor],
          ['pv', e.value % 1000],
          ['cv', e.value],
        ]);
      case 'refund':
        return head.concat([['order', `o-${e.value}`]]);
      case 'withdraw':
        return head.concat([
          ['distributor', e.distributor],
          ['amount', e.value],
        ]);
      case 'terminate':
        return head.concat([['distributor', e.distributor]]);
      default:
        return head;
    }
  });

/** Writes members as a JSON object with `gaps` between tokens, in the members' order. */
function render(value: Json | Members, gaps: string[], isMembers = false): string {
  let gap = 0;
  const next = (): string => gaps[gap++ % gaps.length] ?? '';
  const write = (item: Json | Members, asMembers: boolean): string => {
    if (asMembers) {
      const entries = (item as Members).map(
        ([key, member]) =>
          `${next()}${JSON.stringify(key)}${next()}:${next()}${write(member, false)}`,
      );
      return `{${entries.join(`${next()},`)}${next()}}`;
    }
    if (item !== null && typeof item === 'object' && !Array.isArray(item)) {
      return write(Object.entries(item), true);
    }
    return JSON.stringify(item);
  };
  return `${next()}${write(value, isMembers)}${next()}`;
}

function sameAnswer(line: string): void {
  assert.deepEqual(parseEventLine(line), parseEventLineWithJson(line), line);
}

test('the line scanner answers as JSON.parse then validateEvent, for any object', () => {
  fc.assert(
    fc.property(
      fc.oneof(members, event),
      fc.array(space, { minLength: 1, maxLength: 8 }),
      (m, gaps) => sameAnswer(render(m, gaps, true)),
    ),
    { numRuns: 3000, seed: 1101 },
  );
});

test('the line scanner answers as JSON.parse on cut, spliced and non-object lines', () => {
  const line = fc
    .tuple(event, fc.array(space, { minLength: 1, maxLength: 4 }))
    .map(([m, gaps]) => render(m, gaps, true));
  fc.assert(
    fc.property(line, fc.nat(), fc.nat(), fc.string({ maxLength: 3 }), (text, cut, at, insert) => {
      sameAnswer(text.slice(0, cut % (text.length + 1)));
      const where = at % (text.length + 1);
      sameAnswer(text.slice(0, where) + insert + text.slice(where));
    }),
    { numRuns: 3000, seed: 1102 },
  );
  for (const other of ['', ' ', '[]', '[{"id":"e-1"}]', '"x"', '7', 'null', '{', '}', '{}{}']) {
    sameAnswer(other);
  }
});

test('the scanner takes the lines producers write and leaves the rest to JSON.parse', () => {
  const scanner = new EventLineScanner();
  const fields = new EventFields();
  const taken = [
    '{"id":"e-1","type":"enroll","at":1735689600000,"distributor":641401220,"sponsor":null}',
    '{"id":"e-2","type":"order","at":17518451,"order":"o-1","distributor":8,"pv":150,"cv":176}',
    ' { "id" : "e-3" , "type" : "enroll" , "at" : 0 , "distributor" : 9 , "sponsor" : 8 ,' +
      ' "placement" : { "parent" : 8 , "leg" : "L" } } ',
    '{"id":"e-4","type":"withdraw","at":5,"distributor":8,"amount":100,"note":"cash"}',
  ];
  for (const line of taken) {
    assert.equal(scanner.scan(line, fields), true, line);
    sameAnswer(line);
  }
  assert.equal(fields.amount, 100);
  const left = [
    '{"id":"e\\u002d5","type":"refund","at":5,"order":"o-1"}',
    '{"id":"e-6","type":"order","at":5.0,"order":"o-1","distributor":8,"pv":1,"cv":1}',
    '{"id":"e-7","type":"order","at":1e3,"order":"o-1","distributor":8,"pv":1,"cv":1}',
    '{"id":"e-8","type":"withdraw","at":5,"distributor":-8,"amount":1}',
    '{"id":"e-9","type":"withdraw","at":5,"distributor":8,"amount":12345678901234567}',
    '{"id":"e-10","type":"terminate","at":5,"distributor":8,"tags":["a"]}',
    '{"id":"e-11","type":"terminate","at":05,"distributor":8}',
    '{"id":"e-12","type":"terminate","at":5,"distributor":8} x',
  ];
  for (const line of left) {
    assert.equal(scanner.scan(line, fields), false, line);
    sameAnswer(line);
  }
});
