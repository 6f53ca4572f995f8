import { applyBps } from '../core/money.js';
import { lineTypeCode, type LineType } from '../ledger/line.js';
import type { Plan } from '../plan/plan.js';

/**
 * The plan flattened into numbers and typed arrays, so the hot paths (sequencer and walk
 * workers) read parameters by index and never touch the zod-shaped plan object per event.
 * Disabled components become zero-length tables or `false` flags.
 */
export interface CompiledPlan {
  readonly activePv: number;
  readonly rankCount: number;
  readonly rankPv: Float64Array;
  readonly rankGv: Float64Array;
  readonly rankLegs: Float64Array;
  /**
   * Index r: the least gv any rank above r asks for (Infinity above the top rank). An
   * ancestor whose gv is below it cannot move up from r, whatever its pv and legs: the
   * sponsor-line walk of every order skips it without reading them (sequencer.ts).
   */
  readonly rankGvToRise: Float64Array;
  readonly rankLevelsPaid: Int32Array;
  readonly rankBinaryCapCents: Float64Array;
  readonly rankBonusCents: Float64Array;
  readonly rankAdvancement: boolean;
  /** Unilevel bps by level, index 1..levelCount (index 0 unused). Empty when disabled. */
  readonly unilevelBps: Int32Array;
  readonly unilevelLevelCount: number;
  readonly fastStart: boolean;
  readonly fastStartBps: number;
  readonly fastStartWindowMs: number;
  readonly binary: boolean;
  readonly binaryBps: number;
  readonly binaryCarryCapCents: number;
  readonly matchingGenerationCount: number;
  readonly matchingBps: Int32Array;
  readonly matchingMinPaidRank: Int32Array;
  readonly pool: boolean;
  readonly poolBps: number;
  readonly poolMinPaidRank: number;
  readonly poolShareOffset: number;
  readonly incentive: boolean;
  readonly incentiveEnrollments: number;
  readonly incentiveCents: number;
  readonly promotionCount: number;
  readonly promotionFrom: Float64Array;
  readonly promotionTo: Float64Array;
  /** Bit `lineTypeCode(type)` is set when the promotion covers that line type. */
  readonly promotionTypeMask: Int32Array;
  readonly promotionMultiplierBps: Int32Array;
  /** Upper bound of unilevel plus matching lines one order can write. */
  readonly orderWalkLinesMax: number;
}

export function compilePlan(plan: Plan): CompiledPlan {
  const ranks = plan.ranks;
  const levels = plan.unilevel.enabled ? plan.unilevel.levelsBps : [];
  const generations = plan.matching.enabled ? plan.matching.generations : [];
  const promotions = plan.promotions;
  const unilevelBps = new Int32Array(levels.length + 1);
  levels.forEach((bps, index) => (unilevelBps[index + 1] = bps));
  const maskOf = (types: readonly LineType[]) =>
    types.reduce((mask, type) => mask | (1 << lineTypeCode(type)), 0);
  return {
    activePv: plan.activePv,
    rankCount: ranks.length,
    rankPv: Float64Array.from(ranks, (rank) => rank.pv),
    rankGv: Float64Array.from(ranks, (rank) => rank.gv),
    rankLegs: Float64Array.from(ranks, (rank) => rank.legs),
    rankGvToRise: Float64Array.from(ranks, (_, rank) =>
      Math.min(Infinity, ...ranks.slice(rank + 1).map((above) => above.gv)),
    ),
    rankLevelsPaid: Int32Array.from(ranks, (rank) => Math.min(rank.unilevelLevels, levels.length)),
    rankBinaryCapCents: Float64Array.from(ranks, (rank) => rank.binaryCapCents),
    rankBonusCents: Float64Array.from(ranks, (rank) => rank.advancementBonusCents),
    rankAdvancement: plan.rankAdvancement.enabled,
    unilevelBps,
    unilevelLevelCount: levels.length,
    fastStart: plan.fastStart.enabled,
    fastStartBps: plan.fastStart.bps,
    fastStartWindowMs: plan.fastStart.windowMs,
    binary: plan.binary.enabled,
    binaryBps: plan.binary.bps,
    binaryCarryCapCents: plan.binary.carryCapCents,
    matchingGenerationCount: generations.length,
    matchingBps: Int32Array.from(generations, (generation) => generation.bps),
    matchingMinPaidRank: Int32Array.from(generations, (generation) => generation.minPaidRank),
    pool: plan.pool.enabled,
    poolBps: plan.pool.bps,
    poolMinPaidRank: plan.pool.minPaidRank,
    poolShareOffset: plan.pool.shareOffset,
    incentive: plan.incentive.enabled,
    incentiveEnrollments: plan.incentive.enrollments,
    incentiveCents: plan.incentive.amountCents,
    promotionCount: promotions.length,
    promotionFrom: Float64Array.from(promotions, (promotion) => promotion.from),
    promotionTo: Float64Array.from(promotions, (promotion) => promotion.to),
    promotionTypeMask: Int32Array.from(promotions, (promotion) => maskOf(promotion.types)),
    promotionMultiplierBps: Int32Array.from(promotions, (promotion) => promotion.multiplierBps),
    orderWalkLinesMax: levels.length * (1 + generations.length),
  };
}

/**
 * SPEC 3 promotions: every promotion covering the line's type and the event's `at` multiplies
 * the amount in list order, each on the result of the one before.
 */
export function promote(
  plan: CompiledPlan,
  typeCode: number,
  atMs: number,
  amount: number,
): number {
  let result = amount;
  const bit = 1 << typeCode;
  for (let index = 0; index < plan.promotionCount; index++) {
    if ((plan.promotionTypeMask[index]! & bit) === 0) continue;
    if (atMs < plan.promotionFrom[index]! || atMs >= plan.promotionTo[index]!) continue;
    result = applyBps(result, plan.promotionMultiplierBps[index]!);
  }
  return result;
}

/** Highest rank whose pv, gv and legs minimums all hold (rank 0 always holds). */
export function qualifiedRank(plan: CompiledPlan, pv: number, gv: number, legs: number): number {
  for (let rank = plan.rankCount - 1; rank > 0; rank--) {
    if (pv >= plan.rankPv[rank]! && gv >= plan.rankGv[rank]! && legs >= plan.rankLegs[rank]!) {
      return rank;
    }
  }
  return 0;
}
