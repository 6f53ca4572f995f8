import { assert } from '../core/assert.js';
import { DISTRIBUTOR_ID_MAX } from '../events/validate.js';
import type { Random } from './random.js';

/**
 * Distributor ids of a generated network: the enrollment index `i` maps to
 * `((multiplier * i + offset) mod P) + 1` with `P = 2^31 - 1`, a prime. Because P is prime
 * and the multiplier is not 0 mod P, the map is a bijection of [0, P) onto [1, 2^31 - 1]:
 * ids are unique, in range, and scattered over the whole range in no useful order, so an
 * engine cannot treat them as dense slots or assume id order is enrollment order.
 */
const MODULUS = DISTRIBUTOR_ID_MAX; // 2^31 - 1, prime
const HALF_BITS = 65536;

export class DistributorIds {
  private readonly multiplierHigh: number;
  private readonly multiplierLow: number;
  private readonly offset: number;

  constructor(random: Random) {
    const multiplier = 1 + random.below(MODULUS - 1); // in [1, P - 1]
    this.multiplierHigh = Math.floor(multiplier / HALF_BITS);
    this.multiplierLow = multiplier % HALF_BITS;
    this.offset = random.below(MODULUS);
  }

  /**
   * The id of enrollment index `index`. The product is split in 16-bit halves so every
   * intermediate stays below 2^48, exact in a double.
   */
  idOf(index: number): number {
    assert(index >= 0 && index < MODULUS, 'enrollment index out of the id range');
    const high = ((this.multiplierHigh * index) % MODULUS) * HALF_BITS;
    const value = (high + this.multiplierLow * index + this.offset) % MODULUS;
    return value + 1;
  }
}
