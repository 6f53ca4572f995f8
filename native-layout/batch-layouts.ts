/**
 * Shared-memory layouts of one batch's hand-off between the sequencer thread and the walk
 * workers (see docs/pipeline.md). Capacities are set from the engine's batch size at start and
 * grow only between batches (handover, as every table).
 */
import { column, defineTable, f64, i32, u8 } from './schema.js';

export const BATCH_LAYOUT_VERSION = 2;

/** One row per accepted order of the batch, in seq order: the walk phase's input. */
export const ORDER_BATCH = defineTable('orderBatch', BATCH_LAYOUT_VERSION, {
  seq: f64,
  buyer: i32,
  cvCents: f64,
  atMs: f64,
  /** Written by the walk: how many rows of the order's line window it used. */
  lineCount: i32,
});

/**
 * The walk phase's output: order `i` owns rows `[i * W, (i + 1) * W)` where W is the plan's
 * most unilevel-plus-matching lines per order, so workers never share a row.
 */
export const WALK_LINES = defineTable('walkLines', BATCH_LAYOUT_VERSION, {
  beneficiary: i32,
  type: u8,
  level: u8,
  source: i32,
  amountCents: f64,
});

/** Open-addressing table slot → first change entry; key = slot + 1, 0 = empty. */
export const CHANGE_TABLE = defineTable('changeTable', BATCH_LAYOUT_VERSION, {
  key: i32,
  head: column('i32', -1),
  tail: column('i32', -1),
  beforeActive: u8,
  beforePaidRank: u8,
});

/** Change entries in seq order, chained per slot through `entryNext`. */
export const CHANGE_ENTRIES = defineTable('changeEntries', BATCH_LAYOUT_VERSION, {
  entrySeq: f64,
  entryActive: u8,
  entryPaidRank: u8,
  entryNext: column('i32', -1),
});
