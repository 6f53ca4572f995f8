import { applyBps, shareOf } from '../core/money.js';
import { lineTypeCode } from '../ledger/line.js';
import { promote, type CompiledPlan } from './compiled-plan.js';
import { FLAG_TERMINATED, isActiveSlot, type DistributorViews } from './distributor-views.js';
import type { LineBuffer } from '../ledger/line-buffer.js';

const BINARY = lineTypeCode('binary');
const MATCHING = lineTypeCode('matching');
const POOL = lineTypeCode('pool');

export interface CloseContext {
  readonly plan: CompiledPlan;
  readonly distributors: DistributorViews;
}

/** What every range of one close shares: computed once, serially, before the ranges run. */
export interface CloseFigures {
  readonly atMs: number;
  /** The period's pool (SPEC 3.6 step 3) and the shares it is split into. */
  readonly poolCents: number;
  readonly totalShares: number;
}

/**
 * The per-distributor part of a period close (SPEC 3.6 step 1) for slots [from, to): binary
 * pairing, which consumes this distributor's own leg volume. The amount (0 = no line) goes to
 * the distributor's `gv`, the close's scratch (see PeriodClose). Each slot depends only on its
 * own legs and on state nobody writes during a close (activity, ranks), so ranges run in
 * parallel on any number of threads and give the same amounts; the sequencer then lays them
 * out as lines in SPEC order (external id order), with the matching on each binary line
 * (matchBinaryLine) and the pool shares (poolLine). Allocates nothing.
 */
export function closeRange(ctx: CloseContext, figures: CloseFigures, from: number, to: number) {
  const { plan, distributors: d } = ctx;
  for (let slot = from; slot < to; slot++) {
    let binary = 0;
    if (plan.binary && isActiveSlot(d, plan.activePv, slot)) {
      const matched = Math.min(d.legVolumeL[slot]!, d.legVolumeR[slot]!);
      if (matched > 0) {
        const cap = plan.rankBinaryCapCents[d.paidRank[slot]!]!;
        const capped = Math.min(applyBps(matched, plan.binaryBps), cap);
        d.legVolumeL[slot] = d.legVolumeL[slot]! - matched;
        d.legVolumeR[slot] = d.legVolumeR[slot]! - matched;
        binary = promote(plan, BINARY, figures.atMs, capped);
      }
    }
    d.gv[slot] = binary;
  }
}

/**
 * SPEC 3.6 step 2 (3.2 step 7's rules) for one binary line; literal sponsors, no compression.
 * Run by the sequencer while it lays out lines: a match is two sponsor lookups, and a table of
 * matches per row (what the workers used to fill) held ~270 MB at 10M distributors.
 */
export function matchBinaryLine(
  plan: CompiledPlan,
  d: DistributorViews,
  at: { readonly seq: number; readonly atMs: number },
  earner: number,
  earned: number,
  lines: LineBuffer,
): void {
  let generationSlot = earned > 0 ? d.sponsor[earner]! : -1;
  for (let generation = 0; generation < plan.matchingGenerationCount; generation++) {
    if (generationSlot === -1) return;
    const qualified =
      isActiveSlot(d, plan.activePv, generationSlot) &&
      d.paidRank[generationSlot]! >= plan.matchingMinPaidRank[generation]!;
    if (qualified) {
      const bps = plan.matchingBps[generation]!;
      const amount = promote(plan, MATCHING, at.atMs, applyBps(earned, bps));
      if (amount > 0)
        lines.push(at.seq, 0, generationSlot, MATCHING, generation + 1, earner, amount);
    }
    generationSlot = d.sponsor[generationSlot]!;
  }
}

/** SPEC 3.6 step 3 for one distributor: its pool share after promotions (0 = no line). */
export function poolLine(
  plan: CompiledPlan,
  d: DistributorViews,
  figures: CloseFigures,
  slot: number,
): number {
  if (!plan.pool || figures.totalShares === 0 || figures.poolCents === 0) return 0;
  const shares = poolShares(plan, d, slot);
  if (shares === 0) return 0;
  return promote(plan, POOL, figures.atMs, shareOf(figures.poolCents, shares, figures.totalShares));
}

/** SPEC 3.6 step 3 and clarification 7: terminated holders have no shares. */
export function poolShares(plan: CompiledPlan, d: DistributorViews, slot: number): number {
  const rank = d.paidRank[slot]!;
  if (rank < plan.poolMinPaidRank || (d.flags[slot]! & FLAG_TERMINATED) !== 0) return 0;
  return rank - plan.poolShareOffset;
}
