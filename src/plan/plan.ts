import { z } from 'zod';
import { UplineError } from '../core/errors.js';
import { describeFirstIssue, readJsonFile } from '../core/json-file.js';
import { EARNING_TYPES } from '../ledger/line.js';

/**
 * The compensation plan as configuration (SPEC 3): every component is switched and tuned here,
 * none by code. Validated with zod on load; an error names the offending field's path.
 */

const int = (min: number, max = Number.MAX_SAFE_INTEGER) => z.number().int().min(min).max(max);
const bps = int(0, 1_000_000);

const rankSchema = z.strictObject({
  name: z.string().min(1).max(64),
  pv: int(0),
  gv: int(0),
  legs: int(0),
  unilevelLevels: int(0, 64),
  binaryCapCents: int(0),
  advancementBonusCents: int(0),
});

const promotionSchema = z.strictObject({
  from: int(0),
  to: int(0),
  types: z.array(z.enum(EARNING_TYPES)).min(1),
  multiplierBps: bps,
});

export const planSchema = z
  .strictObject({
    name: z.string().min(1).max(64),
    activePv: int(0),
    ranks: z.array(rankSchema).min(1).max(32),
    unilevel: z.strictObject({ enabled: z.boolean(), levelsBps: z.array(bps).max(64) }),
    fastStart: z.strictObject({ enabled: z.boolean(), bps, windowMs: int(0) }),
    binary: z.strictObject({ enabled: z.boolean(), bps, carryCapCents: int(0) }),
    matching: z.strictObject({
      enabled: z.boolean(),
      generations: z.array(z.strictObject({ bps, minPaidRank: int(0, 31) })).max(8),
    }),
    rankAdvancement: z.strictObject({ enabled: z.boolean() }),
    pool: z.strictObject({
      enabled: z.boolean(),
      bps,
      minPaidRank: int(0, 31),
      /** A holder's shares are `paidRank - shareOffset`. */
      shareOffset: int(0, 31),
    }),
    incentive: z.strictObject({
      enabled: z.boolean(),
      enrollments: int(1),
      amountCents: int(0),
    }),
    promotions: z.array(promotionSchema).max(64),
  })
  .superRefine((plan, ctx) => {
    const first = plan.ranks[0];
    if (first !== undefined && (first.pv !== 0 || first.gv !== 0 || first.legs !== 0)) {
      ctx.addIssue({
        code: 'custom',
        path: ['ranks', 0],
        message: 'rank 0 must have no requirements (every distributor holds it)',
      });
    }
    plan.ranks.forEach((rank, index) => {
      if (rank.unilevelLevels > plan.unilevel.levelsBps.length) {
        ctx.addIssue({
          code: 'custom',
          path: ['ranks', index, 'unilevelLevels'],
          message: `must be at most unilevel.levelsBps.length (${plan.unilevel.levelsBps.length})`,
        });
      }
    });
    if (plan.pool.minPaidRank <= plan.pool.shareOffset) {
      ctx.addIssue({
        code: 'custom',
        path: ['pool', 'shareOffset'],
        message: 'must be below pool.minPaidRank so every holder has at least one share',
      });
    }
    plan.promotions.forEach((promotion, index) => {
      if (promotion.to < promotion.from) {
        ctx.addIssue({
          code: 'custom',
          path: ['promotions', index, 'to'],
          message: 'must be >= from',
        });
      }
    });
  });

export type Plan = z.infer<typeof planSchema>;
export type Rank = Plan['ranks'][number];
export type Promotion = Plan['promotions'][number];

/** Validates a parsed plan; throws UPLINE_INVALID_PLAN naming the first bad field. */
export function parsePlan(value: unknown, source = 'plan'): Plan {
  const result = planSchema.safeParse(value);
  if (result.success) return result.data;
  throw new UplineError('UPLINE_INVALID_PLAN', `${source}: ${describeFirstIssue(result.error)}`);
}

export function loadPlan(file: string): Plan {
  return parsePlan(readJsonFile(file, 'plan file', 'UPLINE_INVALID_PLAN'), file);
}
