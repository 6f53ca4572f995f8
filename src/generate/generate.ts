import { closeSync, openSync, writeSync } from 'node:fs';
import { assert } from '../core/assert.js';
import { UplineError } from '../core/errors.js';
import { DISTRIBUTOR_ID_MAX } from '../events/validate.js';
import { generateActivity } from './activity.js';
import { generateNetwork } from './network.js';
import { Random } from './random.js';
import { EventSink } from './sink.js';

/**
 * `upline generate`: a synthetic, realistic NDJSON event file (SPEC 5). Enrollments first
 * (network.ts), then orders mixed with refunds, withdrawals, terminations and period closes
 * (activity.ts). The same options give the same bytes: every choice comes from seeded PRNG
 * streams (random.ts), one per concern, so a change to one phase does not reshuffle another.
 *
 * Built for benchmark sizes (10M distributors, 5M+ orders): it streams ~1 MiB chunks and keeps
 * only typed arrays per distributor and one byte per order, never an object per event.
 */

export interface GenerateOptions {
  distributors: number;
  orders: number;
  seed: number;
  /** A `period.close` every this many orders (and one at the end); default below. */
  periodOrders?: number;
  /** Business time of the first enrollment, epoch ms; a fixed date by default. */
  startAt?: number;
}

export interface GenerateStats {
  /** Lines written, duplicates included. */
  events: number;
  enrollments: number;
  orders: number;
  /** Refund events, the bad ones (unknown or already refunded order) included. */
  refunds: number;
  withdrawals: number;
  terminations: number;
  periodCloses: number;
  maxSponsorDepth: number;
  bytes: number;
  /** Events repeated verbatim (a client's retry); not counted in the per-type figures. */
  duplicates: number;
  /** Enrollments with an explicit placement into a free slot. */
  explicitPlacements: number;
  /** Enrollments whose placement slot is taken: the engine rejects them. */
  collidingPlacements: number;
  /** Refunds of an unknown or already refunded order: the engine rejects them. */
  badRefunds: number;
}

/** 2025-01-01T00:00:00Z. */
export const DEFAULT_START_AT_MS = 1_735_689_600_000;
const PERIOD_ORDERS_MIN = 1000;
const PERIODS_DEFAULT = 6;
const STREAM_IDS_AND_NETWORK = 1;
const STREAM_ACTIVITY = 2;
const STREAM_RETRIES = 3;

export function defaultPeriodOrders(orders: number): number {
  return Math.max(PERIOD_ORDERS_MIN, Math.ceil(orders / PERIODS_DEFAULT));
}

/** Generates the whole file through `write`, one ~1 MiB ASCII chunk per call. */
export function generateEvents(
  options: GenerateOptions,
  write: (chunk: string) => void,
): GenerateStats {
  checkOptions(options);
  const periodOrders = options.periodOrders ?? defaultPeriodOrders(options.orders);
  const startAtMs = options.startAt ?? DEFAULT_START_AT_MS;
  const sink = new EventSink(write, new Random(options.seed, STREAM_RETRIES));
  const networkRandom = new Random(options.seed, STREAM_IDS_AND_NETWORK);
  const network = generateNetwork(options.distributors, startAtMs, networkRandom, sink);
  const activityRandom = new Random(options.seed, STREAM_ACTIVITY);
  const counts = generateActivity(network, options.orders, periodOrders, activityRandom, sink);
  sink.finish();
  const stats: GenerateStats = {
    events: sink.events,
    enrollments: options.distributors,
    orders: counts.orders,
    refunds: counts.refunds,
    withdrawals: counts.withdrawals,
    terminations: counts.terminations,
    periodCloses: counts.periodCloses,
    maxSponsorDepth: network.maxSponsorDepth,
    bytes: sink.bytes,
    duplicates: sink.duplicates,
    explicitPlacements: network.explicitPlacements,
    collidingPlacements: network.collidingPlacements,
    badRefunds: counts.badRefunds,
  };
  checkStats(stats);
  return stats;
}

/** Generates into `file` (created or truncated) with plain synchronous writes. */
export function generateToFile(options: GenerateOptions, file: string): GenerateStats {
  let fd: number;
  try {
    fd = openSync(file, 'w');
  } catch (error) {
    throw new UplineError('UPLINE_IO', `${file}: cannot open for writing`, { cause: error });
  }
  try {
    return generateEvents(options, (chunk) => writeChunk(fd, chunk));
  } finally {
    closeSync(fd);
  }
}

/** Lines are ASCII, so latin1 encoding is exact and the fastest; loops on short writes. */
function writeChunk(fd: number, chunk: string): void {
  const bytes = Buffer.from(chunk, 'latin1');
  let written = 0;
  while (written < bytes.length) {
    written += writeSync(fd, bytes, written, bytes.length - written);
  }
}

function checkOptions(options: GenerateOptions): void {
  const { distributors, orders, seed, periodOrders, startAt } = options;
  // Index i maps to a distinct id in 1..2^31-1 (ids.ts), so at most that many distributors.
  checkInteger('distributors', distributors, 1, DISTRIBUTOR_ID_MAX);
  checkInteger('orders', orders, 0, Number.MAX_SAFE_INTEGER);
  checkInteger('seed', seed, 0, Number.MAX_SAFE_INTEGER);
  if (periodOrders !== undefined) checkInteger('periodOrders', periodOrders, 1, 2 ** 31);
  if (startAt !== undefined) checkInteger('startAt', startAt, 0, 2 ** 50);
}

function checkInteger(name: string, value: number, min: number, max: number): void {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new UplineError('UPLINE_USAGE', `${name} must be an integer from ${min} to ${max}`);
  }
}

/** The per-type counts add up to the lines written. */
function checkStats(stats: GenerateStats): void {
  const sum =
    stats.enrollments +
    stats.orders +
    stats.refunds +
    stats.withdrawals +
    stats.terminations +
    stats.periodCloses +
    stats.duplicates;
  assert(sum === stats.events, `event counts add up: ${sum} !== ${stats.events}`);
}
