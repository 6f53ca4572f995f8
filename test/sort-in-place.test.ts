import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { sortInt32InPlace } from '../src/core/sort-in-place.js';

const int32 = fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
/** Few distinct values too, so equal keys and runs of them are common. */
const values = fc.oneof(
  fc.array(int32, { maxLength: 300 }),
  fc.array(fc.integer({ min: -3, max: 3 }), { maxLength: 300 }),
);

function sortedCopy(array: readonly number[]): number[] {
  return [...array].sort((a, b) => a - b);
}

describe('sortInt32InPlace', () => {
  it('sorts any range like Array.prototype.sort and leaves the rest alone (fast-check)', () => {
    fc.assert(
      fc.property(values, fc.nat(), fc.nat(), fc.nat({ max: 40 }), (array, a, b, depth) => {
        const from = array.length === 0 ? 0 : a % (array.length + 1);
        const to = from + (array.length === 0 ? 0 : b % (array.length - from + 1));
        // Shared on purpose: the engine sorts a column of a SharedArrayBuffer.
        const shared = new Int32Array(new SharedArrayBuffer(4 * array.length));
        shared.set(array);
        // Depth 0 to 40: from heapsort at once to quicksort all the way down.
        sortInt32InPlace(shared, from, to, depth);
        const expected = [
          ...array.slice(0, from),
          ...sortedCopy(array.slice(from, to)),
          ...array.slice(to),
        ];
        assert.deepEqual([...shared], expected);
      }),
      { seed: 7, numRuns: 2000 },
    );
  });

  it('sorts shapes that defeat naive pivots: sorted, reversed, organ pipe, all equal', () => {
    const n = 10_000;
    const shapes: Record<string, (index: number) => number> = {
      sorted: (index) => index,
      reversed: (index) => n - index,
      organPipe: (index) => Math.min(index, n - index),
      allEqual: () => 5,
      sawtooth: (index) => index % 17,
    };
    for (const [name, shape] of Object.entries(shapes)) {
      const array = Int32Array.from({ length: n }, (_, index) => shape(index));
      const expected = sortedCopy([...array]);
      sortInt32InPlace(array);
      assert.deepEqual([...array], expected, name);
    }
  });

  it('refuses a range outside the array', () => {
    const array = new Int32Array(4);
    assert.throws(() => sortInt32InPlace(array, 2, 1), /sort range/);
    assert.throws(() => sortInt32InPlace(array, 0, 5), /sort range/);
    assert.throws(() => sortInt32InPlace(array, -1, 2), /sort range/);
    assert.throws(() => sortInt32InPlace(array, 0, 4, -1), /depth limit/);
  });
});
