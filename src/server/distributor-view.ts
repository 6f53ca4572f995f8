import type { EngineState } from '../engine/state.js';
import type { EarningType, Line, LineType } from '../ledger/line.js';
import type { Plan } from '../plan/plan.js';

/**
 * What a distributor's dashboard shows (SPEC 6 `GET /v1/distributors/ID` and the live feed).
 * `DistributorFigures` is read from the shared columns at a batch boundary; earnings by type
 * come from the ledger, so they are added when the view is answered.
 */
export interface DistributorFigures {
  readonly id: number;
  readonly balanceCents: number;
  readonly paidRank: number;
  readonly paidRankName: string;
  readonly title: number;
  readonly titleName: string;
  readonly pv: number;
  readonly gv: number;
  readonly legs: number;
  readonly legVolumeLCents: number;
  readonly legVolumeRCents: number;
  readonly active: boolean;
  readonly terminated: boolean;
  readonly period: number;
  /** The next rank above the paid-as rank and what it asks for; null at the top. */
  readonly nextRank: NextRank | null;
}

export interface NextRank {
  readonly rank: number;
  readonly name: string;
  readonly pv: number;
  readonly gv: number;
  readonly legs: number;
}

export interface DistributorView extends DistributorFigures {
  readonly earningsCents: Readonly<Record<EarningType, number>>;
}

/** A ledger line as the API shows it: the beneficiary is whoever asked. */
export interface ViewLine {
  readonly seq: number;
  readonly ordinal: number;
  readonly type: LineType;
  readonly level: number;
  readonly source: number;
  readonly order: string | null;
  readonly amountCents: number;
}

/** The answer of `GET /v1/distributors/ID` and the first message of a distributor's feed. */
export interface DistributorSnapshot {
  /** The committed seq the view is as of. */
  readonly seq: number;
  readonly distributor: DistributorView;
  /** Newest first. */
  readonly lines: readonly ViewLine[];
}

export function viewLine(line: Line): ViewLine {
  const { seq, ordinal, type, level, source, order, amountCents } = line;
  return { seq, ordinal, type, level, source, order, amountCents };
}

/**
 * Number of figures `figuresKey` packs, for change detection without an object per check.
 * Order: balance, paidRank, title, pv, gv, legs, legVolumeL, legVolumeR, flags, period.
 */
export const FIGURE_COUNT = 10;

/** Reads a slot's figures into `into` (FIGURE_COUNT numbers); true when any changed. */
export function readFigures(state: EngineState, slot: number, into: Float64Array): boolean {
  const d = state.d;
  // Bitwise OR, not ||: every figure must be stored, not only those up to the first change.
  const changed =
    store(into, 0, d.balance[slot]!) |
    store(into, 1, d.paidRank[slot]!) |
    store(into, 2, d.title[slot]!) |
    store(into, 3, d.pv[slot]!) |
    store(into, 4, d.gv[slot]!) |
    store(into, 5, d.legs[slot]!) |
    store(into, 6, d.legVolumeL[slot]!) |
    store(into, 7, d.legVolumeR[slot]!) |
    store(into, 8, d.flags[slot]!) |
    store(into, 9, state.period);
  return changed !== 0;
}

function store(into: Float64Array, index: number, value: number): number {
  if (into[index] === value) return 0;
  into[index] = value;
  return 1;
}

export function figuresOf(state: EngineState, plan: Plan, slot: number): DistributorFigures {
  const d = state.d;
  const paidRank = d.paidRank[slot]!;
  const title = d.title[slot]!;
  const next = plan.ranks[paidRank + 1];
  return {
    id: d.externalId[slot]!,
    balanceCents: d.balance[slot]!,
    paidRank,
    paidRankName: plan.ranks[paidRank]?.name ?? String(paidRank),
    title,
    titleName: plan.ranks[title]?.name ?? String(title),
    pv: d.pv[slot]!,
    gv: d.gv[slot]!,
    legs: d.legs[slot]!,
    legVolumeLCents: d.legVolumeL[slot]!,
    legVolumeRCents: d.legVolumeR[slot]!,
    active: state.isActive(slot),
    terminated: state.isTerminated(slot),
    period: state.period,
    nextRank:
      next === undefined
        ? null
        : { rank: paidRank + 1, name: next.name, pv: next.pv, gv: next.gv, legs: next.legs },
  };
}
