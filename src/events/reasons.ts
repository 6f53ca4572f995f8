/**
 * Stable rejection reason codes. Validation reasons (the event is malformed on its own) take
 * up nothing; rule reasons (SPEC section 3) take up the event's id. Codes never change once
 * shipped: operators count and alert on them.
 */
export const VALIDATION_REASONS = [
  'malformed_json',
  'not_an_object',
  'invalid_id',
  'unknown_type',
  'invalid_at',
  'invalid_distributor',
  'invalid_sponsor',
  'invalid_placement',
  'invalid_order',
  'invalid_pv',
  'invalid_cv',
  'invalid_amount',
] as const;

export const RULE_REASONS = [
  'unknown_distributor',
  'terminated_distributor',
  'sponsor_missing',
  'sponsor_terminated',
  'distributor_taken',
  'placement_parent_missing',
  'placement_slot_taken',
  'order_taken',
  'unknown_order',
  'order_already_refunded',
  'insufficient_funds',
] as const;

export type ValidationReason = (typeof VALIDATION_REASONS)[number];
export type RuleReason = (typeof RULE_REASONS)[number];
export type RejectReason = ValidationReason | RuleReason;

/** The outcome of processing one valid, non-duplicate event. */
export type ProcessOutcome =
  { readonly status: 'accepted' } | { readonly status: 'rejected'; readonly reason: RuleReason };

export const ACCEPTED: ProcessOutcome = Object.freeze({ status: 'accepted' });

/** Numeric codes for the rule reasons, so outcomes fit in typed arrays and SQLite integers. */
export const OUTCOME_ACCEPTED = 0;
export function ruleReasonCode(reason: RuleReason): number {
  return RULE_REASONS.indexOf(reason) + 1;
}
export function ruleReasonFromCode(code: number): RuleReason | null {
  if (code === OUTCOME_ACCEPTED) return null;
  const reason = RULE_REASONS[code - 1];
  if (reason === undefined) throw new RangeError(`unknown outcome code ${code}`);
  return reason;
}
