import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { OuterLegEnds } from '../src/engine/outer-leg-ends.js';

/** The obviously right answer: walk the leg's children to the free end. */
function walkToEnd(children: Int32Array, top: number): number {
  let slot = top;
  while (children[slot] !== -1) slot = children[slot]!;
  return slot;
}

/** One step of growing a placement tree: an auto placement, or an explicit one. */
const step = fc.record({
  auto: fc.boolean(),
  right: fc.boolean(),
  pick: fc.nat(),
});

describe('OuterLegEnds', () => {
  it('always answers the free end a plain walk finds, with any table size (fast-check)', () => {
    fc.assert(
      fc.property(
        fc.array(step, { minLength: 1, maxLength: 600 }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 5 }),
        (steps, stopBits, stopEvery) => {
          // A tiny table and dense stops: collisions overwrite stops all the time.
          const ends = new OuterLegEnds(stopBits, stopEvery);
          const capacity = steps.length + 1;
          const childL = new Int32Array(capacity).fill(-1);
          const childR = new Int32Array(capacity).fill(-1);
          let count = 1;
          for (const { auto, right, pick } of steps) {
            const children = right ? childR : childL;
            // Recent distributors more often, as sponsors on a leg recruit onto it.
            const top = count - 1 - (pick % Math.min(count, pick % 2 === 0 ? 4 : count));
            let parent: number;
            if (auto) {
              parent = ends.find(children, top, right);
              assert.equal(parent, walkToEnd(children, top));
            } else {
              // An explicit placement takes a free slot anywhere, ends of legs included.
              if (children[top] !== -1) continue;
              parent = top;
            }
            children[parent] = count++;
          }
        },
      ),
      { seed: 11, numRuns: 400 },
    );
  });

  it('finds the end of one leg grown by 20,000 auto placements from its top', () => {
    const n = 20_001;
    const childL = new Int32Array(n).fill(-1);
    const childR = new Int32Array(n).fill(-1);
    const ends = new OuterLegEnds();
    for (let slot = 1; slot < n; slot++) {
      // Every recruit of the top goes left: one leg of length slot - 1.
      const parent = ends.find(childL, 0, false);
      assert.equal(parent, slot - 1);
      childL[parent] = slot;
    }
    assert.equal(ends.find(childR, 0, true), 0, 'the right leg is still free at the top');
    assert.equal(ends.find(childL, 10_000, false), n - 1, 'a stop below the top');
  });
});
