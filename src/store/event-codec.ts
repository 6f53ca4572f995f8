/**
 * The `events.body` encoding: MessagePack of the normalized event, with explicit options so
 * the bytes never depend on msgpackr's defaults changing under us.
 *
 * - `useRecords: false`: plain msgpack maps. Records would need their shared structures
 *   stored next to the data; a plain map decodes with any msgpack reader, forever.
 * - `moreTypes: false`, `structuredClone: false`, `bundleStrings: false`: nothing beyond
 *   standard msgpack is ever written.
 * - `int64AsType: 'number'`: every integer we store is a safe integer (validated), so it
 *   decodes back to a JS number.
 *
 * Decoding runs the event through `validateEvent` again: a body that is not a valid event is
 * a corrupt log, and we would rather crash than replay it.
 */
import { Packr, REUSE_BUFFER_MODE } from 'msgpackr';

import { AssertionError } from '../core/assert.js';
import { EVENT_TYPES, type UplineEvent } from '../events/types.js';
import { validateEvent } from '../events/validate.js';

const packr = new Packr({
  useRecords: false,
  moreTypes: false,
  structuredClone: false,
  bundleStrings: false,
  mapsAsObjects: true,
  int64AsType: 'number',
  useFloat32: 0,
});

export function encodeEvent(event: UplineEvent): Buffer {
  return packr.pack(event);
}

/**
 * Event bodies encoded back to back into one reusable buffer: a batch's bodies without a
 * Buffer view allocated per event (msgpackr's `pack` returns one; REUSE_BUFFER_MODE hands back
 * its own buffer with `start` and `end` instead). The bytes are `encodeEvent`'s.
 */
export class EventBodies {
  #bytes: Buffer = Buffer.allocUnsafe(64 * 1024);
  #length = 0;

  /** Bytes appended since the last `take`. */
  get length(): number {
    return this.#length;
  }

  /** Appends `event`'s body; returns the new length. */
  append(event: UplineEvent): number {
    const target = packr.pack(event, REUSE_BUFFER_MODE) as Buffer & { start: number; end: number };
    const size = target.end - target.start;
    if (this.#length + size > this.#bytes.length) {
      const grown = Buffer.allocUnsafe(Math.max(this.#bytes.length * 2, this.#length + size));
      this.#bytes.copy(grown, 0, 0, this.#length);
      this.#bytes = grown;
    }
    // A byte loop, not Buffer#copy: that allocates a view of the source range on every call,
    // and a body is a few dozen bytes.
    const bytes = this.#bytes;
    let at = this.#length;
    for (let from = target.start; from < target.end; from++) bytes[at++] = target[from]!;
    this.#length = at;
    return at;
  }

  /** A copy of the bytes appended since the last `take`; starts over. */
  take(): Uint8Array {
    const bodies = new Uint8Array(this.#bytes.subarray(0, this.#length));
    this.#length = 0;
    return bodies;
  }
}

export function decodeEvent(body: Uint8Array): UplineEvent {
  const raw: unknown = packr.unpack(body);
  const validated = validateEvent(raw);
  if (!validated.ok) {
    throw new AssertionError(`stored event body is not a valid event: ${validated.error.message}`);
  }
  return validated.event;
}

/** The `events.type` code of an event type. */
export function eventTypeCode(type: UplineEvent['type']): number {
  const code = EVENT_TYPES.indexOf(type);
  if (code < 0) throw new AssertionError(`unknown event type ${type}`);
  return code;
}

/** The `events.type` code of an order: the only event whose row carries its lines (schema.ts). */
export const ORDER_EVENT_CODE = eventTypeCode('order');
export const REFUND_EVENT_CODE = eventTypeCode('refund');
