/**
 * Reading bench/results/*.json back (charts.ts, results-markdown.ts): the shapes the benches
 * write, and which file of a kind to show. Quick runs (`npm run bench`) write small-size files
 * next to the full-size ones, so each kind is represented by its largest run.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

import type { MachineInfo, TargetRow } from './support.js';

export interface ResultFile {
  readonly name: string;
  readonly bench: string;
  readonly machine: MachineInfo;
  readonly loadAverageAtStart?: readonly number[];
  readonly params?: { readonly distributors?: number; readonly orders?: number };
  readonly table?: readonly TargetRow[];
}

export type PhaseSeconds = Record<string, number>;

export interface ReplayResult extends ResultFile {
  readonly generation: { readonly events: number; readonly enrollments: number };
  readonly replay: {
    readonly summary: {
      readonly eventsPerSecond: number;
      readonly seconds: number;
      readonly phaseSeconds?: PhaseSeconds;
    };
    readonly peakRssBytes: number;
    readonly dbBytes: number;
  };
  readonly restart: { readonly openMs: number; readonly error: string | null };
  readonly baseline?: {
    /** The mean of the runs before and after the replay (older files: the one run). */
    readonly ordersPerSecond: number;
    /** upline's orders/s (missing in older files, whose ratio was events/s based). */
    readonly uplineOrdersPerSecond?: number;
    readonly ratio: number;
    readonly before?: { readonly ordersPerSecond: number };
    readonly after?: { readonly ordersPerSecond: number };
  } | null;
  readonly sharedBytesPerDistributor: number;
}

export interface ReplayPoint {
  readonly distributors: number;
  readonly orders: number;
  readonly workers: number;
  readonly events: number;
  readonly eventsPerSecond: number;
  /** Missing in files written before it was added: ordersPerSecondOf computes it. */
  readonly ordersPerSecond?: number;
  readonly seconds: number;
  readonly phaseSeconds?: PhaseSeconds;
  readonly peakRssBytes: number;
  readonly dbBytes: number;
}

export interface ScalingResult extends ResultFile {
  readonly points: readonly ReplayPoint[];
}

export interface LatencyPoint {
  readonly offeredPerSecond: number;
  readonly achievedPerSecond: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

export interface LatencyResult extends ResultFile {
  readonly points: readonly LatencyPoint[];
}

export interface MicroTask {
  readonly kernel: string;
  readonly name: string;
  readonly nsPerItem: number;
}

export interface MicroResult extends ResultFile {
  readonly network: { readonly distributors: number };
  readonly tasks: readonly MicroTask[];
  readonly comparisons: readonly { readonly kernel: string; readonly speedup: number }[];
}

export interface PeriodCloseResult extends ResultFile {
  readonly distributors: number;
  readonly computeMs: number;
  readonly submitMs: number;
  readonly parallel: boolean;
}

export function readResults(dir: string): ResultFile[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((file) => file.endsWith('.json'))
    .map((file) => {
      // The benches wrote these files; their shapes are the interfaces above.
      const parsed = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as ResultFile;
      return { ...parsed, name: file.replace(/\.json$/, '') };
    });
}

/** The run of a kind (file name prefix) with the most distributors, then orders. */
export function largest<T extends ResultFile>(
  results: readonly ResultFile[],
  prefix: string,
  accept: (result: ResultFile) => boolean = () => true,
): T | undefined {
  const size = (result: ResultFile) => [
    result.params?.distributors ?? 0,
    result.params?.orders ?? 0,
  ];
  const candidates = results.filter((result) => result.name.startsWith(prefix) && accept(result));
  candidates.sort((a, b) => {
    const [aDistributors, aOrders] = size(a);
    const [bDistributors, bOrders] = size(b);
    return bDistributors! - aDistributors! || bOrders! - aOrders!;
  });
  return candidates[0] as T | undefined;
}

/** The sizes run with the most orders (its params have no single distributor count). */
export function largestSizes(results: readonly ResultFile[]): ScalingResult | undefined {
  const sizes = results.filter((result) => result.name.startsWith('scaling-sizes-'));
  sizes.sort((a, b) => (b.params?.orders ?? 0) - (a.params?.orders ?? 0));
  return sizes[0] as ScalingResult | undefined;
}

/** The file's orders over the replay's seconds (scaling.bench.ts's ordersPerSecond). */
export function ordersPerSecondOf(point: ReplayPoint): number {
  return point.ordersPerSecond ?? Math.round(point.orders / point.seconds);
}
