/**
 * Draws bench/results/*.json as SVG charts (vega-lite compiled to vega, rendered headless:
 * no canvas, no browser) into bench/results/*.svg, then writes bench/RESULTS.md around them
 * (results-markdown.ts). Each chart shows the largest run of its kind (results-files.ts).
 *
 *   node dist/bench/charts.js
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

import * as vega from 'vega';
import * as vl from 'vega-lite';

import {
  largest,
  largestSizes,
  ordersPerSecondOf,
  readResults,
  type LatencyResult,
  type MicroResult,
  type PhaseSeconds,
  type ReplayResult,
  type ResultFile,
  type ScalingResult,
} from './results-files.js';
import { writeResultsMarkdown } from './results-markdown.js';
import { RESULTS_DIR } from './support.js';

type Row = Record<string, string | number>;
type Spec = vl.TopLevelSpec;

const WIDTH = 420;
const HEIGHT = 240;

async function renderSvg(spec: Spec): Promise<string> {
  const view = new vega.View(vega.parse(vl.compile(spec).spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  return svg;
}

/** A line with points; `color` draws one line per value of that field. */
function lineSpec(title: string, rows: Row[], x: AxisField, y: AxisField, color?: string): Spec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    width: WIDTH,
    height: HEIGHT,
    data: { values: rows },
    mark: { type: 'line', point: true },
    encoding: {
      x: axis(x),
      y: axis(y),
      ...(color === undefined
        ? {}
        : { color: { field: color, type: 'nominal', legend: { labelLimit: 300 } } }),
    },
  };
}

interface AxisField {
  readonly field: string;
  readonly title: string;
  readonly log?: boolean;
  readonly nominal?: boolean;
}

function axis(field: AxisField) {
  return {
    field: field.field,
    title: field.title,
    type: field.nominal === true ? ('ordinal' as const) : ('quantitative' as const),
    ...(field.log === true ? { scale: { type: 'log' as const } } : {}),
  };
}

function barSpec(title: string, rows: Row[], x: AxisField, y: AxisField, color: string): Spec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    width: WIDTH,
    height: { step: 22 },
    data: { values: rows },
    mark: 'bar',
    encoding: {
      x: axis(x),
      // On a log scale a bar cannot start at 0: it starts at 1 instead.
      ...(x.log === true ? { x2: { datum: 1 } } : {}),
      y: { ...axis(y), sort: null, axis: { labelLimit: 360 } },
      color: { field: color, type: 'nominal', legend: { labelLimit: 300 } },
    },
  };
}

function phaseRows(label: string, phases: PhaseSeconds | undefined): Row[] {
  if (phases === undefined) return [];
  return Object.entries(phases).map(([phase, seconds]) => ({ run: label, phase, seconds }));
}

/** 100000 -> "0.1M": run labels stay short. */
function millions(count: number): string {
  return `${count / 1_000_000}M`;
}

function workersChart(results: readonly ResultFile[]): Spec | undefined {
  const run = largest<ScalingResult>(results, 'scaling-workers-');
  if (run === undefined) return undefined;
  const rows = run.points.map(({ workers, eventsPerSecond }) => ({ workers, eventsPerSecond }));
  const title = `Replay throughput vs walk workers (${run.params?.distributors} distributors)`;
  return lineSpec(
    title,
    rows,
    { field: 'workers', title: 'walk workers', nominal: true },
    { field: 'eventsPerSecond', title: 'events/s (durable)' },
  );
}

function sizesChart(results: readonly ResultFile[]): Spec | undefined {
  const run = largestSizes(results);
  if (run === undefined) return undefined;
  const rows = run.points.flatMap((point) => [
    { distributors: point.distributors, rate: point.eventsPerSecond, measure: 'events/s' },
    { distributors: point.distributors, rate: ordersPerSecondOf(point), measure: 'orders/s' },
  ]);
  return lineSpec(
    `Replay throughput vs network size (${run.params?.orders} orders, durable)`,
    rows,
    { field: 'distributors', title: 'distributors', log: true },
    { field: 'rate', title: 'per second' },
    'measure',
  );
}

function phasesChart(results: readonly ResultFile[]): Spec | undefined {
  const sizes = largestSizes(results);
  const workers = largest<ScalingResult>(results, 'scaling-workers-');
  const rows = [
    ...(sizes?.points ?? []).flatMap((point) =>
      phaseRows(`sizes: ${millions(point.distributors)}, ${point.workers} w`, point.phaseSeconds),
    ),
    ...(workers?.points ?? []).flatMap((point) =>
      phaseRows(`workers: ${millions(point.distributors)}, ${point.workers} w`, point.phaseSeconds),
    ),
  ];
  if (rows.length === 0) return undefined;
  return barSpec(
    'Where replay time goes (seconds per phase; distributors, w = walk workers)',
    rows,
    { field: 'seconds', title: 'seconds' },
    { field: 'run', title: 'run', nominal: true },
    'phase',
  );
}

function latencyChart(results: readonly ResultFile[]): Spec | undefined {
  const run = largest<LatencyResult>(results, 'scaling-latency-');
  if (run === undefined) return undefined;
  const rows = run.points.flatMap((point) =>
    (['p50Ms', 'p99Ms'] as const).map((quantile) => ({
      offered: point.offeredPerSecond,
      quantile: quantile.replace('Ms', ''),
      ms: point[quantile],
    })),
  );
  return lineSpec(
    `Submit-to-durable latency vs offered load (${run.params?.distributors} distributors)`,
    rows,
    { field: 'offered', title: 'offered load, events/s' },
    { field: 'ms', title: 'latency, ms', log: true },
    'quantile',
  );
}

function baselineChart(results: readonly ResultFile[]): Spec | undefined {
  const run = largest<ReplayResult>(results, 'replay-', (result) => 'baseline' in result);
  const baseline = run?.baseline;
  if (run === undefined || baseline === undefined || baseline === null) return undefined;
  const rows = [
    {
      design: 'upline',
      rate: baseline.uplineOrdersPerSecond ?? run.replay.summary.eventsPerSecond,
    },
    { design: 'adjacency list + CTE', rate: baseline.ordersPerSecond },
  ];
  return barSpec(
    `upline vs the status quo, same file, same run (${run.params?.distributors} distributors)`,
    rows,
    { field: 'rate', title: 'orders/s, log scale', log: true },
    { field: 'design', title: '', nominal: true },
    'design',
  );
}

function microChart(results: readonly ResultFile[]): Spec | undefined {
  const run = largest<MicroResult>(results, 'micro');
  if (run === undefined) return undefined;
  const rows = run.tasks.map(({ kernel, name, nsPerItem }) => ({ kernel, name, nsPerItem }));
  return barSpec(
    `Kernels, ns per item (${run.network.distributors} distributors)`,
    rows,
    { field: 'nsPerItem', title: 'ns per item, log scale', log: true },
    { field: 'name', title: '', nominal: true },
    'kernel',
  );
}

/** Chart file (without .svg) to its spec builder. */
const CHARTS: Record<string, (results: readonly ResultFile[]) => Spec | undefined> = {
  'chart-baseline': baselineChart,
  'chart-workers': workersChart,
  'chart-sizes': sizesChart,
  'chart-phases': phasesChart,
  'chart-latency': latencyChart,
  'chart-micro': microChart,
};

async function main(): Promise<void> {
  const results = readResults(RESULTS_DIR);
  const drawn: string[] = [];
  for (const [name, build] of Object.entries(CHARTS)) {
    const spec = build(results);
    if (spec === undefined) {
      console.log(`${name}: no results yet, not drawn`);
      continue;
    }
    const file = path.join(RESULTS_DIR, `${name}.svg`);
    fs.writeFileSync(file, await renderSvg(spec));
    drawn.push(name);
    console.log(`drew ${file}`);
  }
  const markdown = writeResultsMarkdown(results, drawn);
  console.log(`wrote ${markdown}`);
}

await main();
