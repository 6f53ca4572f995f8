import { applyBps } from '../core/money.js';
import { lineTypeCode } from '../ledger/line.js';
import { findChange, type ChangeLogViews } from './change-log.js';
import { promote, type CompiledPlan } from './compiled-plan.js';
import { isActiveSlot } from './distributor-views.js';

/**
 * The parallel phase of a batch: unilevel (SPEC 3.2 step 5) and matching (step 7) lines of a
 * range of orders, computed with every ancestor's activity and paid-as rank *as of the
 * order's seq* (from the change log). Runs in Piscina workers and, for worker count 0, inline;
 * the same code either way, so results cannot depend on where it ran.
 *
 * Each order owns a fixed window of `orderWalkLinesMax` result rows at
 * `orderIndex * orderWalkLinesMax`, so workers never coordinate and the merge finds an
 * order's lines without searching.
 */
export interface WalkDistributorViews {
  readonly sponsor: Int32Array;
  readonly flags: Uint8Array;
  readonly pv: Float64Array;
  readonly paidRank: Uint8Array;
}

export interface OrderBatchViews {
  readonly seq: Float64Array;
  readonly buyer: Int32Array;
  readonly cvCents: Float64Array;
  readonly atMs: Float64Array;
  /** Output: how many walk lines the order wrote. */
  readonly lineCount: Int32Array;
}

export interface WalkLineViews {
  readonly beneficiary: Int32Array;
  readonly type: Uint8Array;
  readonly level: Uint8Array;
  readonly source: Int32Array;
  readonly amountCents: Float64Array;
}

export interface WalkContext {
  readonly plan: CompiledPlan;
  readonly distributors: WalkDistributorViews;
  readonly changes: ChangeLogViews;
  readonly orders: OrderBatchViews;
  readonly lines: WalkLineViews;
}

const UNILEVEL = lineTypeCode('unilevel');
const MATCHING = lineTypeCode('matching');

// Scratch for the two values of one state lookup: module state, so a lookup allocates nothing.
let lookedUpActive = 0;
let lookedUpPaidRank = 0;

/** Sets lookedUp* to `slot`'s activity and paid-as rank as of `seq` within this batch. */
function lookUpStateAt(context: WalkContext, slot: number, seq: number): void {
  const changes = context.changes;
  const position = findChange(changes, slot);
  if (position === -1) {
    const distributors = context.distributors;
    lookedUpActive = isActiveSlot(distributors, context.plan.activePv, slot) ? 1 : 0;
    lookedUpPaidRank = distributors.paidRank[slot]!;
    return;
  }
  lookedUpActive = changes.beforeActive[position]!;
  lookedUpPaidRank = changes.beforePaidRank[position]!;
  let entry = changes.head[position]!;
  while (entry !== -1 && changes.entrySeq[entry]! <= seq) {
    lookedUpActive = changes.entryActive[entry]!;
    lookedUpPaidRank = changes.entryPaidRank[entry]!;
    entry = changes.entryNext[entry]!;
  }
}

export function walkOrders(context: WalkContext, fromIndex: number, toIndex: number): void {
  for (let index = fromIndex; index < toIndex; index++) walkOrder(context, index);
}

function walkOrder(context: WalkContext, orderIndex: number): void {
  const { plan, orders, lines } = context;
  const sponsor = context.distributors.sponsor;
  const seq = orders.seq[orderIndex]!;
  const buyer = orders.buyer[orderIndex]!;
  const cvCents = orders.cvCents[orderIndex]!;
  const atMs = orders.atMs[orderIndex]!;
  const base = orderIndex * plan.orderWalkLinesMax;
  let written = 0;
  let level = 1;
  let ancestor = sponsor[buyer]!;
  while (ancestor !== -1 && level <= plan.unilevelLevelCount) {
    lookUpStateAt(context, ancestor, seq);
    if (lookedUpActive === 1) {
      if (level <= plan.rankLevelsPaid[lookedUpPaidRank]!) {
        const bps = plan.unilevelBps[level]!;
        const amount = promote(plan, UNILEVEL, atMs, applyBps(cvCents, bps));
        if (amount > 0) {
          const row = base + written++;
          lines.beneficiary[row] = ancestor;
          lines.type[row] = UNILEVEL;
          lines.level[row] = level;
          lines.source[row] = buyer;
          lines.amountCents[row] = amount;
        }
      }
      level++;
    }
    ancestor = sponsor[ancestor]!;
  }
  written += matchUnilevelLines(context, base, written, seq, atMs);
  orders.lineCount[orderIndex] = written;
}

/** Step 7: matching on each unilevel line in the order written; returns lines written. */
function matchUnilevelLines(
  context: WalkContext,
  base: number,
  unilevelCount: number,
  seq: number,
  atMs: number,
): number {
  const { plan, lines } = context;
  const sponsor = context.distributors.sponsor;
  let written = 0;
  for (let index = 0; index < unilevelCount; index++) {
    const earner = lines.beneficiary[base + index]!;
    const earned = lines.amountCents[base + index]!;
    let generationSlot = sponsor[earner]!;
    for (let generation = 0; generation < plan.matchingGenerationCount; generation++) {
      if (generationSlot === -1) break;
      lookUpStateAt(context, generationSlot, seq);
      if (lookedUpActive === 1 && lookedUpPaidRank >= plan.matchingMinPaidRank[generation]!) {
        const bps = plan.matchingBps[generation]!;
        const amount = promote(plan, MATCHING, atMs, applyBps(earned, bps));
        if (amount > 0) {
          const row = base + unilevelCount + written++;
          lines.beneficiary[row] = generationSlot;
          lines.type[row] = MATCHING;
          lines.level[row] = generation + 1;
          lines.source[row] = earner;
          lines.amountCents[row] = amount;
        }
      }
      generationSlot = sponsor[generationSlot]!;
    }
  }
  return written;
}
