/**
 * A ledger line: one signed movement of integer cents to one distributor, caused by one event.
 * Lines of one event are written in the order the reference plan (SPEC 3) produces them; the
 * pair (seq, ordinal) is a line's identity and its place in the ledger.
 */
export const LINE_TYPES = [
  'unilevel',
  'fast_start',
  'binary',
  'matching',
  'rank_bonus',
  'pool',
  'incentive',
  'withdrawal',
] as const;

export type LineType = (typeof LINE_TYPES)[number];

/** Earning types reported by the export (SPEC 4), in its key order. */
export const EARNING_TYPES = [
  'unilevel',
  'fast_start',
  'binary',
  'matching',
  'rank_bonus',
  'pool',
  'incentive',
] as const satisfies readonly LineType[];

export type EarningType = (typeof EARNING_TYPES)[number];

export interface Line {
  /** Sequence number of the event that wrote the line. */
  readonly seq: number;
  /** Position among the lines of that event, from 0. */
  readonly ordinal: number;
  /** External id of the distributor whose wallet moves. */
  readonly beneficiary: number;
  readonly type: LineType;
  /** Unilevel level (1..), matching generation (1..), else 0. */
  readonly level: number;
  /**
   * External id of the distributor whose activity caused the line: the buyer for order lines
   * and their rank bonuses, the matched line's beneficiary for matching, the new recruit for an
   * incentive, the beneficiary itself for binary, pool and withdrawal.
   */
  readonly source: number;
  /** The order that caused the line (and that a refund reverses), else null. */
  readonly order: string | null;
  /** Signed integer cents; never 0. */
  readonly amountCents: number;
}

export function lineTypeCode(type: LineType): number {
  return LINE_TYPES.indexOf(type);
}

export function lineTypeFromCode(code: number): LineType {
  const type = LINE_TYPES[code];
  if (type === undefined) throw new RangeError(`unknown line type code ${code}`);
  return type;
}

/** Line types an order event's lines carry the order id for (docs/plan-semantics.md "Lines"). */
const ORDER_LINE_TYPES: readonly LineType[] = ['fast_start', 'unilevel', 'matching', 'rank_bonus'];

/**
 * The order a line belongs to: every line of a refund carries the refunded order, an order's
 * own earning lines carry it, and nothing else does (docs/plan-semantics.md "Lines").
 */
export function orderOfLine(
  eventType: string,
  eventOrder: string | null,
  type: LineType,
): string | null {
  if (eventType === 'refund') return eventOrder;
  if (eventType === 'order' && ORDER_LINE_TYPES.includes(type)) return eventOrder;
  return null;
}
