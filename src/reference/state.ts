import type { Leg } from '../events/types.js';
import type { ProcessOutcome } from '../events/reasons.js';
import type { Line } from '../ledger/line.js';

/**
 * The serial reference's state (SPEC 3): plain objects keyed by external ids. Nothing here is
 * shared or packed; the fast pipeline has its own layouts and must agree with this, line for
 * line.
 */
export interface DistributorState {
  readonly id: number;
  /** Sponsor tree (null: a root). */
  readonly sponsor: number | null;
  readonly enrolledAtMs: number;
  /** Placement tree (parent null: a placement root). */
  readonly placementParent: number | null;
  readonly placementLeg: Leg | null;
  childL: number | null;
  childR: number | null;
  /** How many recruits this distributor sponsored without a placement (SPEC 3.1's k). */
  unplacedRecruitCount: number;
  /** Current-period personal volume. */
  pv: number;
  /** Current-period group volume, own pv included. */
  gv: number;
  /** Personally sponsored distributors counted active this period. */
  legs: number;
  paidRank: number;
  title: number;
  /** Binary leg volumes (cents of cv), carried across periods up to the carry cap. */
  legLCents: number;
  legRCents: number;
  /** The first-order flag: set by the first accepted order, never reset. */
  hasOrdered: boolean;
  /** Accepted enrollments this distributor sponsored in the current period. */
  enrollmentCount: number;
  terminated: boolean;
  /**
   * True while this distributor is counted in its sponsor's `legs`: set by the order that takes
   * it from inactive to active, cleared by a refund that takes it back below, by its
   * termination, and by the period close.
   */
  countedInLegs: boolean;
  /** Sum of every ledger line to this distributor. */
  balanceCents: number;
}

/** A snapshot of one distributor, for tests and for comparing against the fast pipeline. */
export type DistributorView = Readonly<
  Omit<DistributorState, 'childL' | 'childR' | 'unplacedRecruitCount' | 'countedInLegs'>
>;

export interface OrderRecord {
  readonly order: string;
  readonly buyer: number;
  readonly pv: number;
  readonly cvCents: number;
  /** The period (counter) the order was accepted in. */
  readonly period: number;
  readonly seq: number;
  /** Its fast start, unilevel and matching lines in write order: what a refund reverses. */
  readonly reversible: Line[];
  refunded: boolean;
}

export interface EventRecord {
  readonly seq: number;
  readonly outcome: ProcessOutcome;
}

export function createDistributor(
  id: number,
  sponsor: number | null,
  enrolledAtMs: number,
  placementParent: number | null,
  placementLeg: Leg | null,
): DistributorState {
  return {
    id,
    sponsor,
    enrolledAtMs,
    placementParent,
    placementLeg,
    childL: null,
    childR: null,
    unplacedRecruitCount: 0,
    pv: 0,
    gv: 0,
    legs: 0,
    paidRank: 0,
    title: 0,
    legLCents: 0,
    legRCents: 0,
    hasOrdered: false,
    enrollmentCount: 0,
    terminated: false,
    countedInLegs: false,
    balanceCents: 0,
  };
}
