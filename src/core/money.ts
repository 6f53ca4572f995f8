import { assert, assertSafeInteger } from './assert.js';

/** One basis point is 1/10000. */
export const BPS_DENOMINATOR = 10_000;

/**
 * `floor(baseCents * bps / 10000)` exactly, for `baseCents >= 0` and `bps >= 0`, without the
 * intermediate product ever leaving the safe-integer range: split the base at 10000 so each
 * partial product stays small (base = q * 10000 + r).
 */
export function applyBps(baseCents: number, bps: number): number {
  assertSafeInteger(baseCents, 'base');
  assertSafeInteger(bps, 'bps');
  assert(baseCents >= 0, 'applyBps base must be >= 0');
  assert(bps >= 0, 'applyBps bps must be >= 0');
  const quotient = Math.floor(baseCents / BPS_DENOMINATOR);
  const remainder = baseCents - quotient * BPS_DENOMINATOR;
  const whole = quotient * bps;
  const part = Math.floor((remainder * bps) / BPS_DENOMINATOR);
  const amount = whole + part;
  assertSafeInteger(amount, 'applyBps result');
  return amount;
}

/** `floor(total * part / whole)` exactly (BigInt: the product may exceed 2^53). */
export function shareOf(total: number, part: number, whole: number): number {
  assertSafeInteger(total, 'share total');
  assert(total >= 0 && part >= 0 && whole > 0 && part <= whole, 'shareOf arguments out of range');
  return Number((BigInt(total) * BigInt(part)) / BigInt(whole));
}

/** Adds two money or volume amounts, asserting the sum stays exact. */
export function addExact(a: number, b: number): number {
  const sum = a + b;
  assertSafeInteger(sum, 'sum');
  return sum;
}
