import { assert } from '../core/assert.js';

/**
 * Express stops along a distributor's outer leg: answers "the outermost free slot below `top`
 * on one side" (SPEC 3.1 auto placement) without walking the whole leg each time.
 *
 * Auto placement alternates a sponsor's recruits left and right, each at the end of the
 * sponsor's outer leg on that side. Legs are shared: a recruit placed on its sponsor's left
 * leg extends that same leg with its own left recruits, so a network's legs grow long, and a
 * plain walk from the sponsor down to the free end costs time linear in the leg's length on
 * every enrollment (17 s of a 10M-distributor replay's sequencer thread).
 *
 * Why a stop stays right forever: the placement tree only grows (a placed distributor is never
 * moved or removed), so a leg only lengthens at its free end, and any distributor once found
 * below `n` on n's leg stays on it. Every STOP_EVERY-th distributor a walk passes becomes a
 * stop that remembers the end that walk found; a later walk reaching a stop jumps to the
 * remembered end and goes on from there. The answer is always the true free end, whatever the
 * cache holds, so results never depend on it (replays, workers and restarts stay identical).
 *
 * Bounded memory (STYLE 3): a direct-mapped table (2^18 entries); a newer stop overwrites an
 * older one that hashes to the same entry, which only costs a longer walk.
 */
export class OuterLegEnds {
  /** slot * 2 + side + 1 of the stop an entry holds; 0 = empty. */
  private readonly keys: Uint32Array;
  /** The end a walk last found below the entry's stop. */
  private readonly ends: Int32Array;
  /** The stops the current walk set, to point at its end once it is found. */
  private readonly passed = new Int32Array(PASSED_MAX);
  private readonly shift: number;

  /** Tests shrink the table and the spacing to make collisions and stops common. */
  constructor(
    stopBits = STOP_BITS,
    private readonly stopEvery = STOP_EVERY,
  ) {
    assert(Number.isInteger(stopBits) && stopBits >= 1 && stopBits <= 24, 'stop table bits');
    assert(Number.isInteger(stopEvery) && stopEvery >= 1, 'stop spacing');
    this.keys = new Uint32Array(1 << stopBits);
    this.ends = new Int32Array(1 << stopBits);
    this.shift = 32 - stopBits;
  }

  /** The free end of `top`'s outer leg on one side: `children` is childL or childR. */
  find(children: Int32Array, top: number, right: boolean): number {
    const side = right ? 1 : 0;
    let passedCount = 0;
    let steps = 0;
    let slot = top;
    // A walk visits each slot at most once; more means a stop pointed off the leg (a cycle).
    for (let visits = 0; ; visits++) {
      assert(visits < children.length, 'an outer leg walk visits a slot twice');
      const entry = Math.imul(slot * 2 + side, FIBONACCI) >>> this.shift;
      if (this.keys[entry] === keyOf(slot, side)) {
        // A stop: jump to the end it remembers (still on the leg, maybe no longer free).
        if (passedCount < PASSED_MAX) this.passed[passedCount++] = entry;
        slot = this.ends[entry]!;
      } else if (++steps % this.stopEvery === 0 && passedCount < PASSED_MAX) {
        this.keys[entry] = keyOf(slot, side);
        this.passed[passedCount++] = entry;
      }
      const child = children[slot]!;
      if (child === -1) break;
      slot = child;
    }
    for (let index = 0; index < passedCount; index++) this.ends[this.passed[index]!] = slot;
    return slot;
  }
}

/** 2^18 entries: 2 MiB of keys and ends. */
const STOP_BITS = 18;
/** A walk makes every STOP_EVERY-th distributor it steps onto a stop. */
const STOP_EVERY = 32;
/** Stops one walk points at its end; past it a walk still finds its end, only slower later. */
const PASSED_MAX = 256;

function keyOf(slot: number, side: number): number {
  return slot * 2 + side + 1;
}

/** Fibonacci hashing: neighbouring slots (a leg enrolled in a row) spread over the table. */
const FIBONACCI = 0x9e3779b1;
