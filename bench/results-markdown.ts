/**
 * Writes bench/RESULTS.md from bench/results/*.json: the machine, each product target with
 * its measured figure and MET / NOT MET (NOT MEASURED when no full-size run exists), the
 * charts charts.ts drew, and the figures behind them. Generated, so the page can never
 * disagree with the JSON next to it; the method notes are fixed text below, and
 * bench/results/notes.md (hand-written: what a run's JSON cannot say, such as how it varied
 * between runs) is included as it is when present.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

import {
  largest,
  largestSizes,
  ordersPerSecondOf,
  type LatencyResult,
  type MicroResult,
  type PeriodCloseResult,
  type ReplayResult,
  type ResultFile,
  type ScalingResult,
} from './results-files.js';
import { formatBytes, formatCount, REPO_ROOT, RESULTS_DIR } from './support.js';

const FULL_DISTRIBUTORS = 1_000_000;

interface Target {
  readonly target: string;
  readonly measured: string;
  /** null: not measured at the size the target is about. */
  readonly met: boolean | null;
  readonly source: string;
}

function verdict(met: boolean | null): string {
  if (met === null) return 'NOT MEASURED';
  return met ? '**MET**' : '**NOT MET**';
}

function atFullSize(result: ResultFile | undefined): boolean {
  return (result?.params?.distributors ?? 0) >= FULL_DISTRIBUTORS;
}

/** ", before / after: B / A" when the baseline ran on both sides of the replay. */
function spread(baseline: NonNullable<ReplayResult['baseline']>): string {
  const { before, after } = baseline;
  if (before === undefined || after === undefined) return '';
  return (
    `, mean of ${formatCount(before.ordersPerSecond)} before and ` +
    `${formatCount(after.ordersPerSecond)} after`
  );
}

function replayTargets(replay: ReplayResult | undefined): Target[] {
  if (replay === undefined) return [];
  const full = atFullSize(replay);
  const eps = replay.replay.summary.eventsPerSecond;
  const source = `${replay.name}.json`;
  const rows: Target[] = [
    {
      target: 'Replay >= 100,000 events/s at 1M distributors (durable)',
      measured: `${formatCount(eps)} events/s`,
      met: full ? eps >= 100_000 : null,
      source,
    },
  ];
  const baseline = replay.baseline;
  if (baseline !== undefined && baseline !== null) {
    rows.push({
      target: '>= 30x the status-quo baseline, same run',
      measured:
        `${baseline.ratio.toFixed(1)}x (${formatCount(baseline.uplineOrdersPerSecond ?? eps)} ` +
        `vs ${formatCount(baseline.ordersPerSecond)} orders/s${spread(baseline)})`,
      met: full ? baseline.ratio >= 30 : null,
      source,
    });
  }
  rows.push({
    target: 'Memory: <= 96 bytes of shared state per distributor',
    measured: `${replay.sharedBytesPerDistributor} B (layout)`,
    met: replay.sharedBytesPerDistributor <= 96,
    source,
  });
  const restartMs = replay.restart.openMs;
  rows.push({
    target: 'Restart to ready < 5 s at 1M / 5M (README target)',
    measured: replay.restart.error === null ? `${formatCount(restartMs)} ms` : 'failed',
    met: full && replay.restart.error === null ? restartMs < 5_000 : null,
    source,
  });
  return rows;
}

function growthTarget(sizes: ScalingResult | undefined): Target[] {
  const at = (size: number) => sizes?.points.find((point) => point.distributors === size);
  const small = at(1_000_000);
  const large = at(10_000_000);
  if (sizes === undefined || small === undefined || large === undefined) {
    return [
      { target: 'Growth 1M -> 10M costs <= 2x throughput', measured: '-', met: null, source: '-' },
    ];
  }
  const cost = ordersPerSecondOf(small) / ordersPerSecondOf(large);
  return [
    {
      target: 'Growth 1M -> 10M costs <= 2x throughput (orders/s)',
      measured:
        `${cost.toFixed(2)}x (${formatCount(ordersPerSecondOf(small))} -> ` +
        `${formatCount(ordersPerSecondOf(large))} orders/s; events/s ` +
        `${formatCount(small.eventsPerSecond)} -> ${formatCount(large.eventsPerSecond)})`,
      met: cost <= 2,
      source: `${sizes.name}.json`,
    },
  ];
}

function closeTarget(close: PeriodCloseResult | undefined): Target[] {
  if (close === undefined) return [];
  return [
    {
      target: 'Period close of 1M distributors < 2 s',
      measured:
        `${formatCount(close.submitMs)} ms to durable (${formatCount(close.computeMs)} ms ` +
        `compute, ${close.parallel ? 'parallel' : 'serial'})`,
      met: atFullSize(close) ? close.submitMs < 2_000 : null,
      source: `${close.name}.json`,
    },
  ];
}

function machineSection(results: readonly ResultFile[]): string[] {
  const first = results[0];
  if (first === undefined) return ['No results yet.'];
  const m = first.machine;
  const lines = [
    `- CPU: ${m.cpuModel} x ${m.cores} cores, ${formatBytes(m.totalMemoryBytes)} RAM`,
    `- ${m.os}, node ${m.node}`,
    '- A shared machine: load averages (1, 5, 15 min) at start and end of each run below;',
    '  another engineer builds and tests on it at the same time, so absolute figures drift.',
    '',
    '| results file | code | ended (UTC) | load at start | load at end |',
    '|---|---|---|---|---|',
  ];
  for (const result of results) {
    const start = result.loadAverageAtStart?.join(' ') ?? '-';
    const end = result.machine.loadAverage.join(' ');
    const date = result.machine.date.slice(0, 16).replace('T', ' ');
    lines.push(
      `| ${result.name}.json | ${result.machine.revision} | ${date} | ${start} | ${end} |`,
    );
  }
  return lines;
}

function scalingTables(results: readonly ResultFile[]): string[] {
  const lines: string[] = [];
  const workers = largest<ScalingResult>(results, 'scaling-workers-');
  const sizes = largestSizes(results);
  const points = [...(workers?.points ?? []), ...(sizes?.points ?? [])];
  if (points.length > 0) {
    lines.push(
      '| distributors | orders | workers | events/s | orders/s | seconds | peak RSS | database |',
    );
    lines.push('|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const p of points) {
      lines.push(
        `| ${formatCount(p.distributors)} | ${formatCount(p.orders)} | ${p.workers} | ` +
          `${formatCount(p.eventsPerSecond)} | ${formatCount(ordersPerSecondOf(p))} | ` +
          `${p.seconds.toFixed(1)} | ` +
          `${formatBytes(p.peakRssBytes)} | ${formatBytes(p.dbBytes)} |`,
      );
    }
    lines.push('');
  }
  const latency = largest<LatencyResult>(results, 'scaling-latency-');
  if (latency !== undefined) {
    lines.push('| offered events/s | achieved events/s | p50 ms | p90 ms | p99 ms | max ms |');
    lines.push('|---:|---:|---:|---:|---:|---:|');
    for (const p of latency.points) {
      lines.push(
        `| ${formatCount(p.offeredPerSecond)} | ${formatCount(p.achievedPerSecond)} | ` +
          `${p.p50Ms} | ${p.p90Ms} | ${p.p99Ms} | ${p.maxMs} |`,
      );
    }
    lines.push('');
  }
  return lines;
}

function phaseTable(replay: ReplayResult | undefined): string[] {
  const phases = replay?.replay.summary.phaseSeconds;
  if (replay === undefined || phases === undefined) return [];
  const total = replay.replay.summary.seconds;
  const lines = [
    `Replay phases, ${replay.name} (sequencer thread; seconds and share of ${total} s):`,
    '',
    '| phase | seconds | share |',
    '|---|---:|---:|',
  ];
  for (const [phase, seconds] of Object.entries(phases)) {
    lines.push(`| ${phase} | ${seconds.toFixed(1)} | ${Math.round((100 * seconds) / total)}% |`);
  }
  return [...lines, ''];
}

function microTable(micro: MicroResult | undefined): string[] {
  if (micro === undefined) return [];
  const lines = ['| kernel | task | ns per item |', '|---|---|---:|'];
  for (const task of micro.tasks) {
    lines.push(`| ${task.kernel} | ${task.name} | ${task.nsPerItem} |`);
  }
  return [...lines, ''];
}

const METHOD = [
  '## Method',
  '',
  '- Replays run the real CLI (`upline replay`) in a child process: synchronous=FULL, each',
  '  batch answered only after its commit. Event files are generated with seed 1.',
  '- The baseline (bench/baseline.ts) is the design most back offices run: an adjacency list',
  '  in SQLite (WAL, synchronous=FULL), a recursive CTE for the upline, one transaction per',
  '  order. It is simplified in its favour: it pays only the 7-level unilevel to the 7 nearest',
  '  sponsors (no compression, ranks, matching, binary), enrollments are bulk-loaded untimed,',
  '  and its file parsing is untimed. It runs for a time budget right before and right after',
  "  the replay, on the same file; the ratio is orders/s over orders/s, upline's counted as the",
  "  file's orders over the whole replay (enrollments and all), which is conservative.",
  '- Period close (bench/period-close.bench.ts): the engine is built through the first period',
  '  of the 1M file, then the close is submitted alone. Its per-distributor part (binary,',
  '  matching, pool) runs in ranges over the Piscina pool; the id sort and leg sums are serial.',
  '- Latency: open-loop offered load in process, from when an event was due to when its',
  '  request is durable (queueing included), the server batch size (4096).',
];

function notes(): string[] {
  const file = path.join(RESULTS_DIR, 'notes.md');
  if (!fs.existsSync(file)) return [];
  return ['## Notes', '', fs.readFileSync(file, 'utf8').trimEnd(), ''];
}

export function writeResultsMarkdown(results: readonly ResultFile[], charts: string[]): string {
  const replay = largest<ReplayResult>(results, 'replay-', (result) => 'baseline' in result);
  const sizes = largestSizes(results);
  const close = largest<PeriodCloseResult>(results, 'period-close-');
  const micro = largest<MicroResult>(results, 'micro');
  const workers = largest<ScalingResult>(results, 'scaling-workers-');
  const latency = largest<LatencyResult>(results, 'scaling-latency-');
  const shown = [replay, sizes, workers, latency, close, micro].filter(
    (result): result is NonNullable<typeof result> => result !== undefined,
  );
  const targets = [...replayTargets(replay), ...growthTarget(sizes), ...closeTarget(close)];
  const relative = path.relative(path.join(REPO_ROOT, 'bench'), RESULTS_DIR);
  const lines = [
    '# Benchmark results',
    '',
    '<!-- generated by bench/charts.ts from bench/results/*.json; do not edit -->',
    '',
    'Full-size figures of the benchmark suite (bench/README.md says how to rerun them).',
    '',
    '## Targets',
    '',
    '| target | measured | verdict | from |',
    '|---|---|---|---|',
    ...targets.map((t) => `| ${t.target} | ${t.measured} | ${verdict(t.met)} | ${t.source} |`),
    '',
    '## Charts',
    '',
    ...charts.map((chart) => `![${chart}](${relative}/${chart}.svg)\n`),
    '## Figures',
    '',
    ...phaseTable(replay),
    ...scalingTables(results),
    ...microTable(micro),
    '## Machine',
    '',
    ...machineSection(shown),
    '',
    ...METHOD,
    '',
    ...notes(),
  ];
  const file = path.join(REPO_ROOT, 'bench/RESULTS.md');
  fs.writeFileSync(file, lines.join('\n'));
  return file;
}
