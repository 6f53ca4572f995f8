import { Unpackr } from 'msgpackr';

import type { RejectReason } from '../events/reasons.js';
import type { UplineEvent } from '../events/types.js';
import { validateEvent } from '../events/validate.js';

/**
 * Turns an ingest body (SPEC 6: a JSON array, NDJSON, or a MessagePack array) into validated
 * events, or names the first thing wrong with it. A body is taken whole or not at all: one
 * invalid event refuses the body with its index and reason, so a client never has to work out
 * which half of a batch took effect. Never throws, whatever the bytes.
 */
export type DecodedBody =
  | { readonly ok: true; readonly events: UplineEvent[] }
  | { readonly ok: false; readonly problem: BodyProblem };

export interface BodyProblem {
  readonly code: 'malformed_body' | 'invalid_event' | 'too_many_events' | 'unsupported_media_type';
  readonly message: string;
  /** Index of the first bad event, when the body parsed but an event in it did not validate. */
  readonly index?: number;
  readonly reason?: RejectReason;
}

export type BodyFormat = 'json' | 'ndjson' | 'msgpack';

/**
 * The format a Content-Type names. Missing or unknown types are refused rather than sniffed:
 * guessing would make the same bytes mean different things to different clients.
 */
export function bodyFormatOf(contentType: string): BodyFormat | null {
  const type = contentType.split(';')[0]!.trim().toLowerCase();
  switch (type) {
    case 'application/json':
      return 'json';
    case 'application/x-ndjson':
    case 'application/ndjson':
    case 'application/jsonl':
      return 'ndjson';
    case 'application/msgpack':
    case 'application/x-msgpack':
    case 'application/vnd.msgpack':
      return 'msgpack';
    default:
      return null;
  }
}

// Records/structures (msgpackr's compact repeated maps) decode without shared state: a
// client's Packr writes each record definition into the stream before first use.
const unpackr = new Unpackr({ mapsAsObjects: true, int64AsType: 'number' });

export function decodeBody(bytes: Uint8Array, format: BodyFormat, eventsMax: number): DecodedBody {
  let values: unknown[];
  try {
    values = format === 'ndjson' ? ndjsonValues(bytes) : arrayOf(parse(bytes, format));
  } catch (error) {
    if (error instanceof BadLine) {
      return invalid(error.index, 'malformed_json', `line ${error.index + 1}: not valid JSON`);
    }
    const message = error instanceof Error ? error.message : String(error);
    return { ok: false, problem: { code: 'malformed_body', message: firstLine(message) } };
  }
  if (values.length > eventsMax) {
    const message = `${values.length} events in one body; at most ${eventsMax}`;
    return { ok: false, problem: { code: 'too_many_events', message } };
  }
  return validateAll(values);
}

export function validateAll(values: readonly unknown[]): DecodedBody {
  const events: UplineEvent[] = new Array<UplineEvent>(values.length);
  for (let index = 0; index < values.length; index++) {
    const validated = validateEvent(values[index]);
    if (!validated.ok) {
      const { reason, message } = validated.error;
      return invalid(index, reason, message);
    }
    events[index] = validated.event;
  }
  return { ok: true, events };
}

function invalid(index: number, reason: RejectReason, message: string): DecodedBody {
  return {
    ok: false,
    problem: { code: 'invalid_event', message: `event ${index}: ${message}`, index, reason },
  };
}

class BadLine extends Error {
  constructor(readonly index: number) {
    super(`line ${index + 1} is not JSON`);
  }
}

function parse(bytes: Uint8Array, format: 'json' | 'msgpack'): unknown {
  if (format === 'msgpack') return unpackr.unpack(bytes);
  return JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('utf8'));
}

function arrayOf(value: unknown): unknown[] {
  if (!Array.isArray(value)) throw new TypeError('the body must be an array of events');
  return value;
}

/** Blank lines (a trailing newline, CRLF ends) separate nothing and are skipped. */
function ndjsonValues(bytes: Uint8Array): unknown[] {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('utf8');
  const values: unknown[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      values.push(JSON.parse(line));
    } catch {
      throw new BadLine(values.length);
    }
  }
  return values;
}

const MESSAGE_LENGTH_MAX = 200;

function firstLine(message: string): string {
  const line = message.split('\n')[0] ?? '';
  if (line.length <= MESSAGE_LENGTH_MAX) return line;
  // Never cut between the two halves of a surrogate pair: half a character is not text.
  const code = line.charCodeAt(MESSAGE_LENGTH_MAX - 1);
  const end = code >= 0xd800 && code <= 0xdbff ? MESSAGE_LENGTH_MAX - 1 : MESSAGE_LENGTH_MAX;
  return `${line.slice(0, end)}...`;
}
