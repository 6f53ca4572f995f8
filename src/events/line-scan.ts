/**
 * The fast path of `parseEventLine`: reads the fields of one NDJSON event line straight from
 * its text, without `JSON.parse`.
 *
 * Why: on a replay, `JSON.parse` was the sequencer thread's largest single cost (5.7 of 33 s
 * on 3M events). It builds a generic object per line that validation reads once and drops, and
 * it internalizes every short string value, so millions of event and order ids went through
 * V8's string table (a hash lookup each, then table growth and GC work).
 *
 * The scanner covers the lines producers actually write: one object of string, integer, null
 * and boolean values, with a `placement` object of such values, any key order, any JSON
 * whitespace. Anything else (an escape or a control character in a string, a fraction, an
 * exponent, a minus sign, 16 or more digits, an array, any other nesting, trailing text) makes
 * it answer false, and the caller parses that line with `JSON.parse`. So a line the scanner
 * accepts gets the same fields `JSON.parse` would give (duplicate keys: the last wins; unknown
 * keys: ignored), and the one `validateFields` judges both; a property test holds the two
 * paths equal (test/line-scan.test.ts).
 */
import { assert } from '../core/assert.js';
import { EVENT_TYPES } from './types.js';
import type { EventFields } from './validate.js';

const TAB = 0x09;
const LINE_FEED = 0x0a;
const CARRIAGE_RETURN = 0x0d;
const SPACE = 0x20;
const QUOTE = 0x22;
const COMMA = 0x2c;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;
const COLON = 0x3a;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const LOWER_F = 0x66;
const LOWER_N = 0x6e;
const LOWER_T = 0x74;

/** Beyond 15 digits an integer may not be exact in a double: `JSON.parse` decides those. */
const DIGITS_MAX = 15;

/** Answer for "not in the scanner's subset": a position no line reaches. */
const OUTSIDE = -1;

const KEY_OTHER = 0;
const KEY_ID = 1;
const KEY_TYPE = 2;
const KEY_AT = 3;
const KEY_DISTRIBUTOR = 4;
const KEY_SPONSOR = 5;
const KEY_PLACEMENT = 6;
const KEY_ORDER = 7;
const KEY_PV = 8;
const KEY_CV = 9;
const KEY_AMOUNT = 10;
const KEY_PARENT = 11;
const KEY_LEG = 12;

/** The `placement` object's fields, reused; `validateFields` copies what it keeps. */
interface PlacementFields {
  parent: unknown;
  leg: unknown;
}

/**
 * One line's scan state. Values come back through `value` and positions as return values, so
 * scanning allocates only the strings it keeps (ids, order ids) and never a token object.
 */
export class EventLineScanner {
  #line = '';
  #value: unknown = undefined;
  readonly #placement: PlacementFields = { parent: undefined, leg: undefined };

  /**
   * Fills `fields` from `line` and answers true, or answers false if the line is outside the
   * scanner's subset (then `fields` holds nothing the caller may use).
   */
  scan(line: string, fields: EventFields): boolean {
    fields.clear();
    this.#line = line;
    let at = skipSpace(line, 0);
    if (line.charCodeAt(at) !== OPEN_BRACE) return this.#finish(false);
    at = skipSpace(line, at + 1);
    if (line.charCodeAt(at) === CLOSE_BRACE) {
      return this.#finish(skipSpace(line, at + 1) === line.length);
    }
    for (;;) {
      if (line.charCodeAt(at) !== QUOTE) return this.#finish(false);
      const keyEnd = stringEnd(line, at + 1);
      if (keyEnd === OUTSIDE) return this.#finish(false);
      const key = topKey(line, at + 1, keyEnd);
      at = skipSpace(line, keyEnd + 1);
      if (line.charCodeAt(at) !== COLON) return this.#finish(false);
      at = skipSpace(line, at + 1);
      if (line.charCodeAt(at) === OPEN_BRACE) {
        if (key !== KEY_PLACEMENT) return this.#finish(false);
        at = this.#placementObject(at + 1);
        if (at === OUTSIDE) return this.#finish(false);
        fields.placement = this.#placement;
      } else {
        at = this.#scalar(at, key);
        if (at === OUTSIDE) return this.#finish(false);
        assignTop(fields, key, this.#value);
      }
      at = skipSpace(line, at);
      const next = line.charCodeAt(at);
      if (next === COMMA) {
        at = skipSpace(line, at + 1);
      } else if (next === CLOSE_BRACE) {
        return this.#finish(skipSpace(line, at + 1) === line.length);
      } else {
        return this.#finish(false);
      }
    }
  }

  #finish(inside: boolean): boolean {
    this.#line = '';
    this.#value = undefined;
    return inside;
  }

  /** A `placement` object after its `{`: fills #placement, answers the position past `}`. */
  #placementObject(from: number): number {
    const line = this.#line;
    const placement = this.#placement;
    // A repeated `placement` key replaces the whole object, as in JSON.parse.
    placement.parent = undefined;
    placement.leg = undefined;
    let at = skipSpace(line, from);
    if (line.charCodeAt(at) === CLOSE_BRACE) return at + 1;
    for (;;) {
      if (line.charCodeAt(at) !== QUOTE) return OUTSIDE;
      const keyEnd = stringEnd(line, at + 1);
      if (keyEnd === OUTSIDE) return OUTSIDE;
      const key = placementKey(line, at + 1, keyEnd);
      at = skipSpace(line, keyEnd + 1);
      if (line.charCodeAt(at) !== COLON) return OUTSIDE;
      at = this.#scalar(skipSpace(line, at + 1), key);
      if (at === OUTSIDE) return OUTSIDE;
      if (key === KEY_PARENT) placement.parent = this.#value;
      else if (key === KEY_LEG) placement.leg = this.#value;
      at = skipSpace(line, at);
      const next = line.charCodeAt(at);
      if (next === COMMA) at = skipSpace(line, at + 1);
      else if (next === CLOSE_BRACE) return at + 1;
      else return OUTSIDE;
    }
  }

  /**
   * A string, integer, `null`, `true` or `false` at `from`, the value of `key`: sets #value
   * and answers the position past it. Strings of unknown keys are only stepped over.
   */
  #scalar(from: number, key: number): number {
    const line = this.#line;
    const first = line.charCodeAt(from);
    if (first === QUOTE) {
      const end = stringEnd(line, from + 1);
      if (end === OUTSIDE) return OUTSIDE;
      if (key === KEY_TYPE) this.#value = eventTypeName(line, from + 1, end);
      else this.#value = key === KEY_OTHER ? undefined : line.slice(from + 1, end);
      return end + 1;
    }
    if (first >= DIGIT_0 && first <= DIGIT_9) return this.#integer(from);
    if (first === LOWER_N && line.startsWith('null', from)) {
      this.#value = null;
      return from + 4;
    }
    if (first === LOWER_T && line.startsWith('true', from)) {
      this.#value = true;
      return from + 4;
    }
    if (first === LOWER_F && line.startsWith('false', from)) {
      this.#value = false;
      return from + 5;
    }
    return OUTSIDE;
  }

  /** A non-negative integer of at most DIGITS_MAX digits, exact in a double. */
  #integer(from: number): number {
    const line = this.#line;
    let at = from;
    let value = 0;
    for (; at < line.length; at += 1) {
      const code = line.charCodeAt(at);
      if (code < DIGIT_0 || code > DIGIT_9) break;
      value = value * 10 + (code - DIGIT_0);
    }
    const digits = at - from;
    if (digits > DIGITS_MAX) return OUTSIDE;
    // JSON forbids a leading zero; a fraction or exponent is JSON.parse's to read.
    if (digits > 1 && line.charCodeAt(from) === DIGIT_0) return OUTSIDE;
    const next = line.charCodeAt(at);
    if (next === 0x2e || next === 0x45 || next === 0x65) return OUTSIDE;
    this.#value = value;
    return at;
  }
}

function skipSpace(line: string, from: number): number {
  let at = from;
  for (; at < line.length; at += 1) {
    const code = line.charCodeAt(at);
    if (code !== SPACE && code !== TAB && code !== LINE_FEED && code !== CARRIAGE_RETURN) break;
  }
  return at;
}

/**
 * The position of the quote that closes a string whose text starts at `from`, or OUTSIDE if
 * the string holds an escape or a control character (JSON.parse's to decode or reject) or
 * never closes.
 */
function stringEnd(line: string, from: number): number {
  for (let at = from; at < line.length; at += 1) {
    const code = line.charCodeAt(at);
    if (code === QUOTE) return at;
    if (code === BACKSLASH || code < SPACE) return OUTSIDE;
  }
  return OUTSIDE;
}

function keyIs(line: string, start: number, end: number, name: string): boolean {
  return end - start === name.length && line.startsWith(name, start);
}

/** The keys longer than two characters: no two have one length, so the length picks one. */
const LONG_KEYS: readonly (readonly [name: string, key: number])[] = [
  ['type', KEY_TYPE],
  ['order', KEY_ORDER],
  ['amount', KEY_AMOUNT],
  ['sponsor', KEY_SPONSOR],
  ['placement', KEY_PLACEMENT],
  ['distributor', KEY_DISTRIBUTOR],
];
const LONG_KEY_BY_LENGTH: (readonly [name: string, key: number] | undefined)[] = [];
for (const entry of LONG_KEYS) {
  assert(LONG_KEY_BY_LENGTH[entry[0].length] === undefined, 'one long key per length');
  LONG_KEY_BY_LENGTH[entry[0].length] = entry;
}

/** Dispatches on length first: most keys are told apart without comparing any text. */
function topKey(line: string, start: number, end: number): number {
  const length = end - start;
  if (length === 2) {
    const first = line.charCodeAt(start);
    const second = line.charCodeAt(start + 1);
    if (first === 0x69 && second === 0x64) return KEY_ID; // id
    if (first === 0x61 && second === 0x74) return KEY_AT; // at
    if (second !== 0x76) return KEY_OTHER;
    if (first === 0x70) return KEY_PV; // pv
    if (first === 0x63) return KEY_CV; // cv
    return KEY_OTHER;
  }
  const entry = LONG_KEY_BY_LENGTH[length];
  return entry !== undefined && line.startsWith(entry[0], start) ? entry[1] : KEY_OTHER;
}

function placementKey(line: string, start: number, end: number): number {
  if (keyIs(line, start, end, 'parent')) return KEY_PARENT;
  if (keyIs(line, start, end, 'leg')) return KEY_LEG;
  return KEY_OTHER;
}

/** The type string: SPEC's own constant when it names an event type, else a copy. */
function eventTypeName(line: string, start: number, end: number): string {
  for (const name of EVENT_TYPES) {
    if (keyIs(line, start, end, name)) return name;
  }
  return line.slice(start, end);
}

function assignTop(fields: EventFields, key: number, value: unknown): void {
  switch (key) {
    case KEY_ID:
      fields.id = value;
      return;
    case KEY_TYPE:
      fields.type = value;
      return;
    case KEY_AT:
      fields.at = value;
      return;
    case KEY_DISTRIBUTOR:
      fields.distributor = value;
      return;
    case KEY_SPONSOR:
      fields.hasSponsor = true;
      fields.sponsor = value;
      return;
    case KEY_PLACEMENT:
      fields.placement = value;
      return;
    case KEY_ORDER:
      fields.order = value;
      return;
    case KEY_PV:
      fields.pv = value;
      return;
    case KEY_CV:
      fields.cv = value;
      return;
    case KEY_AMOUNT:
      fields.amount = value;
      return;
    default:
      return;
  }
}
