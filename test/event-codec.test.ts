import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';

import type { UplineEvent } from '../src/events/types.js';
import { parseEventLine } from '../src/events/validate.js';
import { decodeEvent, encodeEvent, EventBodies } from '../src/store/event-codec.js';
import { eventLines } from './support/random-stream.js';

function validEvents(lines: readonly string[]): UplineEvent[] {
  const events: UplineEvent[] = [];
  for (const line of lines) {
    const validated = parseEventLine(line);
    if (validated.ok) events.push(validated.event);
  }
  return events;
}

test("EventBodies writes encodeEvent's bytes back to back, batch after batch", () => {
  // One EventBodies for every run, as the engine keeps one: a take must leave nothing behind.
  const bodies = new EventBodies();
  fc.assert(
    fc.property(eventLines(120), fc.array(fc.nat({ max: 40 }), { maxLength: 6 }), (lines, cuts) => {
      const events = validEvents(lines);
      let from = 0;
      for (const cut of [...cuts, events.length]) {
        const to = Math.min(events.length, from + cut);
        const expected = events.slice(from, to).map((event) => encodeEvent(event));
        const ends: number[] = [];
        for (let at = from; at < to; at++) ends.push(bodies.append(events[at]!));
        assert.equal(bodies.length, ends.at(-1) ?? 0);
        const taken = bodies.take();
        assert.equal(bodies.length, 0);
        assert.deepEqual(Buffer.from(taken), Buffer.concat(expected));
        let start = 0;
        ends.forEach((end, index) => {
          assert.deepEqual(decodeEvent(taken.subarray(start, end)), events[from + index]);
          start = end;
        });
        from = to;
      }
    }),
    { numRuns: 200, seed: 2201 },
  );
});

test('EventBodies grows past its first buffer and keeps every byte', () => {
  const bodies = new EventBodies();
  const events: UplineEvent[] = [];
  for (let index = 0; index < 3_000; index++) {
    const id = `e-${index}-${'x'.repeat(index % 60)}`;
    events.push({
      id,
      type: 'order',
      at: index,
      order: `o-${index}`,
      distributor: 7,
      pv: 1,
      cv: 2,
    });
  }
  for (const event of events) bodies.append(event);
  const expected = Buffer.concat(events.map((event) => encodeEvent(event)));
  assert.ok(expected.length > 64 * 1024, 'the events outgrow the first buffer');
  assert.deepEqual(Buffer.from(bodies.take()), expected);
});
