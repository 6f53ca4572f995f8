import * as assert from 'node:assert/strict';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { describe, it } from 'node:test';
import {
  ChunkPrefetcher,
  PREFETCH_SLICE_LINES,
  type LineSource,
} from '../src/cli/chunk-prefetcher.js';
import { checkInput, type Validated } from '../src/events/validate.js';

/** A line source over an array, counting its reads. */
function arraySource(all: readonly string[]): LineSource & { reads: number } {
  let at = 0;
  return {
    reads: 0,
    next(linesMax: number): string[] {
      this.reads++;
      const lines = all.slice(at, at + linesMax);
      at += lines.length;
      return lines;
    },
  };
}

function sampleLines(count: number): string[] {
  const lines: string[] = [];
  for (let index = 0; index < count; index++) {
    if (index % 97 === 5)
      lines.push('{"id": "broken'); // malformed JSON
    else if (index % 89 === 3)
      lines.push('{"id":"x","type":"order"}'); // invalid event
    else
      lines.push(
        JSON.stringify({
          id: `e${index}`,
          type: 'order',
          at: index,
          order: `o${index}`,
          distributor: 1 + (index % 50),
          pv: 100,
          cv: 5000,
        }),
      );
  }
  return lines;
}

describe('ChunkPrefetcher', () => {
  it("hands out every line once, in order, in chunks, each with checkInput's answer", () => {
    const all = sampleLines(2 * PREFETCH_SLICE_LINES + 300);
    const perChunk = PREFETCH_SLICE_LINES + 17;
    const prefetcher = new ChunkPrefetcher(arraySource(all), perChunk);
    const seen: Validated[] = [];
    for (let chunk = prefetcher.take(); chunk.length > 0; chunk = prefetcher.take()) {
      assert.ok(chunk.length <= perChunk);
      seen.push(...chunk);
    }
    // Every line once, in file order, each with checkInput's own answer.
    assert.deepEqual(seen, all.map(checkInput));
    assert.equal(prefetcher.take().length, 0, 'stays at the end');
    prefetcher.stop();
  });

  it('reads and parses ahead only while the event loop turns, one slice a turn', async () => {
    const all = sampleLines(3 * PREFETCH_SLICE_LINES);
    const source = arraySource(all);
    const prefetcher = new ChunkPrefetcher(source, 2 * PREFETCH_SLICE_LINES);
    assert.equal(prefetcher.prefetched, 0, 'nothing is read synchronously by the constructor');
    await nextTurn();
    assert.equal(prefetcher.prefetched, PREFETCH_SLICE_LINES);
    await nextTurn();
    await nextTurn();
    assert.equal(prefetcher.prefetched, 2 * PREFETCH_SLICE_LINES, 'stops at one chunk ahead');
    const readsBefore = source.reads;
    const first = prefetcher.take();
    assert.equal(source.reads, readsBefore, 'a prefetched chunk is taken without reading');
    assert.deepEqual(first, all.slice(0, 2 * PREFETCH_SLICE_LINES).map(checkInput));
    prefetcher.stop();
    await nextTurn();
    assert.equal(prefetcher.prefetched, 0, 'a stopped prefetcher reads nothing more');
  });

  it('throws a failed background read at the next take', async () => {
    const failing: LineSource = {
      next(): string[] {
        throw new Error('disk gone');
      },
    };
    const prefetcher = new ChunkPrefetcher(failing, 10);
    await nextTurn();
    assert.throws(() => prefetcher.take(), /disk gone/);
    prefetcher.stop();
  });
});
