import { EARNING_TYPES, type EarningType } from '../ledger/line.js';

/** One distributor's line of the export (SPEC 4). Amounts are integer cents. */
export interface DistributorSummary {
  readonly distributor: number;
  readonly balanceCents: number;
  readonly title: number;
  readonly paidRank: number;
  readonly earnedCents: Readonly<Record<EarningType, number>>;
  /** Positive total of all withdrawals. */
  readonly withdrawnCents: number;
}

export function emptyEarnings(): Record<EarningType, number> {
  return {
    unilevel: 0,
    fast_start: 0,
    binary: 0,
    matching: 0,
    rank_bonus: 0,
    pool: 0,
    incentive: 0,
  };
}

/**
 * The export's NDJSON line, keys in SPEC 4 order. Written by hand so the key order, and so the
 * bytes, never depend on how a summary object was built.
 */
export function formatSummaryLine(summary: DistributorSummary): string {
  let earned = '';
  for (const type of EARNING_TYPES) {
    if (earned !== '') earned += ',';
    earned += `"${type}":${summary.earnedCents[type]}`;
  }
  return (
    `{"distributor":${summary.distributor},"balance":${summary.balanceCents},` +
    `"title":${summary.title},"paidRank":${summary.paidRank},"earned":{${earned}},` +
    `"withdrawn":${summary.withdrawnCents}}`
  );
}
