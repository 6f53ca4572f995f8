import { assert } from '../core/assert.js';

/**
 * A small seeded PRNG for the event generator: xoshiro128** (Blackman and Vigna, 2018),
 * seeded through splitmix32. Why not `Math.random`: the same seed must give the same file on
 * every Node version and platform, and `Math.random` is neither seedable nor specified. Only
 * 32-bit integer operations (`Math.imul`, shifts) are used, so every engine computes the
 * same sequence bit for bit. Floats are derived from one 32-bit draw (2^-32 resolution):
 * plenty for choosing events, and one draw per call keeps the generator fast.
 */

const UINT32_RANGE = 2 ** 32;

/** splitmix32: spreads a seed's bits so that nearby seeds give unrelated xoshiro states. */
function splitmix32(state: { value: number }): number {
  state.value = (state.value + 0x9e3779b9) | 0;
  let z = state.value;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

export class Random {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  /**
   * `seed` is any non-negative safe integer; `stream` picks an independent sequence for the
   * same seed, so that one phase of the generator can change without shifting another.
   */
  constructor(seed: number, stream = 0) {
    assert(Number.isSafeInteger(seed) && seed >= 0, `seed must be a safe integer >= 0: ${seed}`);
    assert(Number.isInteger(stream) && stream >= 0 && stream < UINT32_RANGE, 'bad stream');
    const high = Math.floor(seed / UINT32_RANGE) >>> 0;
    const state = { value: (seed >>> 0) ^ Math.imul(stream, 0x27d4eb2f) };
    this.s0 = (splitmix32(state) ^ high) >>> 0;
    this.s1 = splitmix32(state);
    this.s2 = splitmix32(state);
    this.s3 = splitmix32(state);
    // xoshiro's only bad state is all zero; splitmix32 never yields four zeros in a row.
    assert((this.s0 | this.s1 | this.s2 | this.s3) !== 0, 'xoshiro128** state is all zero');
  }

  /** The next 32-bit output, as an unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform in [0, 1). */
  float(): number {
    return this.nextUint32() / UINT32_RANGE;
  }

  /** Uniform integer in [0, count); `count` from 1 to 2^32. */
  below(count: number): number {
    return Math.floor(this.float() * count);
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.float() < p;
  }

  /**
   * Pareto with minimum 1 and tail index `alpha` (smaller is heavier), by inversion. Uses
   * `1 - float()` so the argument of the power is never 0.
   */
  pareto(alpha: number): number {
    return (1 - this.float()) ** (-1 / alpha);
  }

  /** Log-uniform in [min, max): as many draws between 10 and 100 as between 100 and 1000. */
  logUniform(min: number, max: number): number {
    return min * (max / min) ** this.float();
  }
}
