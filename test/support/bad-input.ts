import type { RejectReason, RuleReason, ValidationReason } from '../../src/events/reasons.js';
import { VALUE_MAX } from '../../src/events/validate.js';

/**
 * A catalogue of bad event lines, each with the exact reason SPEC 2 / plan-semantics give it.
 * Lines are built as JSON text (not objects) so that `__proto__` members, huge numbers and
 * deep nesting reach the parser exactly as a hostile client would send them.
 *
 * Two families:
 * - validation rejects: the event fails on its own, takes no seq and no id (answer seq null);
 * - rule rejects: a valid event that names something that does not exist (or is taken), which
 *   takes a seq and its id but changes no state.
 */
export interface BadLine {
  readonly name: string;
  readonly line: string;
  readonly reason: RejectReason;
}

/** The ids the catalogue may name: two distributors the stream enrolls, one taken event id. */
export interface BadLineContext {
  /** An enrolled root distributor. */
  readonly root: number;
  /** An enrolled distributor under `root` that is never terminated. */
  readonly member: number;
  /** A distributor id nobody enrolls. */
  readonly nobody: number;
  /** An event id taken before any bad line (the root's enrollment). */
  readonly takenEventId: string;
  /** An order id an accepted order took before any bad line. */
  readonly takenOrderId: string;
  readonly at: number;
}

const json = (value: unknown): string => JSON.stringify(value);
/** `[[[...]]]`, `depth` deep, as JSON text. */
export const deepArray = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth);
/** `{"a":{"a":...1}}`, `depth` deep, as JSON text. */
export const deepObject = (depth: number): string =>
  '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);

/** One JSON object from member texts, in order; `null` leaves a member out. */
function objectText(members: Readonly<Record<string, string | null>>): string {
  const parts: string[] = [];
  for (const [key, text] of Object.entries(members)) {
    if (text !== null) parts.push(`${json(key)}:${text}`);
  }
  return `{${parts.join(',')}}`;
}

/**
 * Member name -> JSON text; `null` leaves the member out. A `['__proto__']` computed key
 * makes an own member (a plain `__proto__:` would set the literal's prototype instead).
 * `[PROTO]` below is such a computed key.
 */
type Members = Record<string, string | null>;
const PROTO = '__proto__';

function validMembers(type: string, context: BadLineContext): Members {
  const base: Members = { id: null, type: json(type), at: json(context.at) };
  switch (type) {
    case 'enroll':
      return { ...base, distributor: json(context.nobody), sponsor: json(context.root) };
    case 'order': {
      const order = { order: json('bad-order'), distributor: json(context.member) };
      return { ...base, ...order, pv: '10', cv: '100' };
    }
    case 'refund':
      return { ...base, order: json(context.takenOrderId) };
    case 'withdraw':
      return { ...base, distributor: json(context.member), amount: '1' };
    case 'terminate':
      return { ...base, distributor: json(context.member) };
    default:
      return base;
  }
}

type Spec = readonly [name: string, type: string, changes: Members, reason: RejectReason];

/**
 * Every case as (name, event type, member changes as JSON text, reason). Members not changed
 * keep the valid value of `validMembers`, so each line has exactly one thing wrong with it
 * (the first one validation meets decides the reason). `id` defaults to a fresh `bad-N`.
 */
function validationSpecs(context: BadLineContext): Spec[] {
  const taken = json(context.takenEventId);
  const megabyte = 'x'.repeat(1 << 20);
  const parent = context.root;
  const protoPlacement = `{"__proto__":${json({ parent, leg: 'L' })}}`;
  const protoEvent = json({ id: 'p', type: 'period.close', at: 1 });
  const protoAmount = '{"amount":5}';
  const deep = deepArray(10_000);
  return [
    ['string pv', 'order', { pv: '"100"' }, 'invalid_pv'],
    ['negative pv', 'order', { pv: '-1' }, 'invalid_pv'],
    ['pv 2^53', 'order', { pv: '9007199254740992' }, 'invalid_pv'],
    ['pv 1e300', 'order', { pv: '1e300' }, 'invalid_pv'],
    ['pv over VALUE_MAX', 'order', { pv: json(VALUE_MAX + 1) }, 'invalid_pv'],
    ['pv missing', 'order', { pv: null }, 'invalid_pv'],
    ['float cv', 'order', { cv: '12.5' }, 'invalid_cv'],
    ['negative cv', 'order', { cv: '-100' }, 'invalid_cv'],
    ['cv 1e999 (Infinity)', 'order', { cv: '1e999' }, 'invalid_cv'],
    ['negative amount', 'withdraw', { amount: '-5' }, 'invalid_amount'],
    ['zero amount', 'withdraw', { amount: '0' }, 'invalid_amount'],
    ['string amount', 'withdraw', { amount: '"5"' }, 'invalid_amount'],
    ['amount 1e300', 'withdraw', { amount: '1e300' }, 'invalid_amount'],
    ['amount in __proto__', 'withdraw', { amount: null, [PROTO]: protoAmount }, 'invalid_amount'],
    ['at as string', 'order', { at: json(String(context.at)) }, 'invalid_at'],
    ['negative at', 'terminate', { at: '-1' }, 'invalid_at'],
    ['fractional at', 'period.close', { at: '1.5' }, 'invalid_at'],
    ['at 2^53', 'period.close', { at: '9007199254740992' }, 'invalid_at'],
    ['at missing', 'period.close', { at: null }, 'invalid_at'],
    ['placement.leg "X"', 'enroll', { placement: json({ parent, leg: 'X' }) }, 'invalid_placement'],
    ['placement.leg "l"', 'enroll', { placement: json({ parent, leg: 'l' }) }, 'invalid_placement'],
    ['placement parent 0', 'enroll', { placement: '{"parent":0,"leg":"L"}' }, 'invalid_placement'],
    ['placement array', 'enroll', { placement: '[]' }, 'invalid_placement'],
    ['placement string', 'enroll', { placement: '"L"' }, 'invalid_placement'],
    ['placement via __proto__', 'enroll', { placement: protoPlacement }, 'invalid_placement'],
    ['placement 10,000-deep', 'enroll', { placement: deepObject(10_000) }, 'invalid_placement'],
    ['sponsor missing', 'enroll', { sponsor: null }, 'invalid_sponsor'],
    ['string sponsor', 'enroll', { sponsor: json(String(context.root)) }, 'invalid_sponsor'],
    ['sponsor 2^53', 'enroll', { sponsor: '9007199254740992' }, 'invalid_sponsor'],
    ['distributor 0', 'order', { distributor: '0' }, 'invalid_distributor'],
    ['distributor 2^31', 'terminate', { distributor: json(2 ** 31) }, 'invalid_distributor'],
    ['distributor 1e300', 'withdraw', { distributor: '1e300' }, 'invalid_distributor'],
    ['fractional distributor', 'enroll', { distributor: '7.5' }, 'invalid_distributor'],
    ['fullwidth-digit distributor', 'terminate', { distributor: '"７"' }, 'invalid_distributor'],
    ['distributor 10,000-deep', 'terminate', { distributor: deep }, 'invalid_distributor'],
    ['empty order id', 'order', { order: '""' }, 'invalid_order'],
    ['order id of 65 chars', 'refund', { order: json('o'.repeat(65)) }, 'invalid_order'],
    ['order id of 100k chars', 'order', { order: json('o'.repeat(100_000)) }, 'invalid_order'],
    ['order id 10,000-deep array', 'order', { order: deepArray(10_000) }, 'invalid_order'],
    ['numeric order id', 'refund', { order: '17' }, 'invalid_order'],
    ['no type', 'order', { type: null }, 'unknown_type'],
    ['type "bogus"', 'order', { type: '"bogus"' }, 'unknown_type'],
    ['type "ORDER"', 'order', { type: '"ORDER"' }, 'unknown_type'],
    ['type "__proto__"', 'order', { type: '"__proto__"' }, 'unknown_type'],
    ['type "constructor"', 'order', { type: '"constructor"' }, 'unknown_type'],
    ['type with unicode', 'order', { type: json('ordér') }, 'unknown_type'],
    ['type with U+2028', 'order', { type: json('order\u2028') }, 'unknown_type'],
    ['numeric type', 'order', { type: '1' }, 'unknown_type'],
    ['no id', 'order', { id: null }, 'invalid_id'],
    ['empty id', 'order', { id: '""' }, 'invalid_id'],
    ['id of 65 chars', 'order', { id: json('i'.repeat(65)) }, 'invalid_id'],
    ['id of 33 emoji (66 UTF-16 units)', 'order', { id: json('😀'.repeat(33)) }, 'invalid_id'],
    ['numeric id', 'order', { id: '5' }, 'invalid_id'],
    ['id of 1 MB (a 1 MB line)', 'order', { id: json(megabyte) }, 'invalid_id'],
    ['id only in __proto__', 'period.close', { id: null, [PROTO]: protoEvent }, 'invalid_id'],
    ['taken id, bad pv', 'order', { id: taken, pv: '"x"' }, 'invalid_pv'],
    ['lone surrogate id, bad cv', 'order', { id: '"\\ud800"', cv: '-1' }, 'invalid_cv'],
    ['1 MB unknown member, bad pv', 'order', { pad: json(megabyte), pv: '-3' }, 'invalid_pv'],
  ];
}

/** Lines that are not an event object at all. */
function rawValidationLines(): [string, string, ValidationReason][] {
  return [
    ['empty line', '', 'malformed_json'],
    ['blank line', '   \t', 'malformed_json'],
    ['truncated object', '{"id":"x","type":"order"', 'malformed_json'],
    ['trailing comma', '{"id":"x",}', 'malformed_json'],
    ['two objects', '{"id":"a"}{"id":"b"}', 'malformed_json'],
    ['NaN', 'NaN', 'malformed_json'],
    ['byte-order mark', '\ufeff{"id":"bom","type":"period.close","at":1}', 'malformed_json'],
    ['NUL', '\u0000', 'malformed_json'],
    ['1 MB of "["', '['.repeat(1 << 20), 'malformed_json'],
    ['1 MB of text', 'z'.repeat(1 << 20), 'malformed_json'],
    ['null', 'null', 'not_an_object'],
    ['number', '42', 'not_an_object'],
    ['string', '"order"', 'not_an_object'],
    ['true', 'true', 'not_an_object'],
    ['array of an event', '[{"id":"x","type":"period.close","at":1}]', 'not_an_object'],
    ['10,000-deep array', deepArray(10_000), 'not_an_object'],
    ['empty object', '{}', 'invalid_id'],
    ['10,000-deep object', deepObject(10_000), 'invalid_id'],
  ];
}

function specLines(specs: readonly Spec[], context: BadLineContext, prefix: string): BadLine[] {
  return specs.map(([name, type, changes, reason], index) => {
    const members = { ...validMembers(type, context), ...changes };
    if (!('id' in changes)) members['id'] = json(`${prefix}${index}`);
    return { name, line: objectText(members), reason };
  });
}

/** Bad lines that fail validation: no seq, no id, no state. */
export function validationBadLines(context: BadLineContext): BadLine[] {
  const raw = rawValidationLines().map(([name, line, reason]) => ({ name, line, reason }));
  return [...raw, ...specLines(validationSpecs(context), context, 'bad-v')];
}

/** Valid events that name what does not exist or is taken: a seq and an id, no state. */
export function ruleBadLines(context: BadLineContext): BadLine[] {
  const { nobody, root, member } = context;
  const unknown = json(nobody);
  const unknownToo = json(nobody + 1);
  const tooMuch = json(VALUE_MAX);
  const noOrder = '"no-such-order"';
  const specs: (readonly [string, string, Members, RuleReason])[] = [
    ['order by an unknown distributor', 'order', { distributor: unknown }, 'unknown_distributor'],
    ['withdraw by an unknown id', 'withdraw', { distributor: unknown }, 'unknown_distributor'],
    ['terminate an unknown id', 'terminate', { distributor: unknown }, 'unknown_distributor'],
    ['refund of an unknown order', 'refund', { order: noOrder }, 'unknown_order'],
    ['refund of order "__proto__"', 'refund', { order: '"__proto__"' }, 'unknown_order'],
    ['refund of order "constructor"', 'refund', { order: '"constructor"' }, 'unknown_order'],
    ['withdraw more than the balance', 'withdraw', { amount: tooMuch }, 'insufficient_funds'],
    ['enroll under an unknown sponsor', 'enroll', { sponsor: unknownToo }, 'sponsor_missing'],
    ['enroll a taken distributor', 'enroll', { distributor: json(member) }, 'distributor_taken'],
    [
      'placement under an unknown parent',
      'enroll',
      { placement: json({ parent: nobody + 1, leg: 'L' }) },
      'placement_parent_missing',
    ],
    ['order with a taken order id', 'order', { order: json(context.takenOrderId) }, 'order_taken'],
    ['id "__proto__"', 'order', { id: json(PROTO), distributor: unknown }, 'unknown_distributor'],
    ['id "constructor"', 'refund', { id: json('constructor'), order: noOrder }, 'unknown_order'],
    ['id of 64 chars', 'refund', { id: json('r'.repeat(64)), order: noOrder }, 'unknown_order'],
    [
      'unicode event id',
      'withdraw',
      { id: json('wïthdråw-😀'), distributor: json(root), amount: tooMuch },
      'insufficient_funds',
    ],
  ];
  return specLines(specs, context, 'bad-r');
}
