/**
 * `npm run bench`: the quick versions of every bench, one after another (never two at once:
 * the figures of a 2-core machine would mean nothing), then one summary of the figures that
 * have a product target. Quick sizes are for "did it get slower", not for the targets;
 * bench/README.md gives the full-size commands.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

import { machineInfo, printMachine, RESULTS_DIR, type TargetRow } from './support.js';

interface Step {
  readonly script: string;
  readonly args: readonly string[];
  /** bench/results/<name>.json the step writes, whose target rows the summary shows. */
  readonly results: readonly string[];
}

const STEPS: readonly Step[] = [
  {
    script: 'replay.bench.js',
    args: ['--distributors', '20000', '--orders', '100000', '--baseline-seconds', '5'],
    results: ['replay-d20000-o100000'],
  },
  {
    script: 'micro.bench.js',
    args: ['--distributors', '100000', '--orders', '500000', '--time', '500'],
    results: ['micro-d100000'],
  },
  {
    script: 'period-close.bench.js',
    args: ['--distributors', '100000', '--orders', '500000'],
    results: ['period-close-d100000'],
  },
  {
    script: 'scaling.bench.js',
    args: [
      ...['--distributors', '20000', '--orders', '100000', '--sizes', '20000,50000'],
      ...['--rates', '5000,20000', '--seconds', '2'],
    ],
    results: ['scaling-sizes-o100000'],
  },
  {
    script: 'memory.bench.js',
    args: ['--distributors', '1000000'],
    results: ['memory-d1000000'],
  },
  {
    script: 'ledger-query.bench.js',
    args: ['--lines', '2000000', '--distributors', '20000', '--time', '2000', '--clean'],
    results: ['ledger-query-l2000000'],
  },
  { script: 'ledger-insert.bench.js', args: [], results: [] },
  {
    script: 'server-load.bench.js',
    args: [
      ...['--distributors', '20000', '--subscribers', '200'],
      ...['--warmup-seconds', '1', '--max-seconds', '5', '--paced-seconds', '5'],
    ],
    results: ['server-load-d20000-s200'],
  },
  // Last: draws every results file (the largest run of each kind) and writes RESULTS.md.
  { script: 'charts.js', args: [], results: [] },
];

interface Outcome {
  readonly step: Step;
  readonly exitCode: number | null;
  readonly seconds: number;
}

function runStep(step: Step): Outcome {
  const script = fileURLToPath(new URL(`./${step.script}`, import.meta.url));
  console.log(`\n=== ${step.script} ${step.args.join(' ')}`);
  const started = Date.now();
  const run = spawnSync(process.execPath, [script, ...step.args], { stdio: 'inherit' });
  return { step, exitCode: run.status, seconds: (Date.now() - started) / 1000 };
}

function targetRowsOf(results: string): TargetRow[] {
  const file = path.join(RESULTS_DIR, `${results}.json`);
  const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as { table?: TargetRow[] };
  return (parsed.table ?? []).filter((row) => row.ok !== null);
}

function main(): void {
  printMachine(machineInfo());
  const outcomes = STEPS.map(runStep);
  console.log('\n=== summary (quick sizes: the targets are for the full sizes, see README)');
  console.table(
    outcomes.map((outcome) => ({
      bench: outcome.step.script,
      exit: outcome.exitCode,
      seconds: Math.round(outcome.seconds),
    })),
  );
  const rows: Record<string, string>[] = [];
  for (const outcome of outcomes) {
    if (outcome.exitCode !== 0) continue;
    for (const results of outcome.step.results) {
      for (const row of targetRowsOf(results)) {
        const ok = row.ok === true ? 'yes' : 'NO';
        const { figure, value, target } = row;
        rows.push({ bench: results, figure, value, target, 'ok?': ok });
      }
    }
  }
  console.table(rows);
  if (outcomes.some((outcome) => outcome.exitCode !== 0)) process.exitCode = 1;
}

main();
