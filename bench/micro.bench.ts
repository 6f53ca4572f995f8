/**
 * Micro-benchmarks of the engine's kernels (tinybench, explicit time and warm-up), on a real
 * engine state: the generated network submitted through `Engine` up to its first period
 * close (engine-network.ts), so the tables, depths, activity and ranks are the engine's own.
 * Each kernel is measured on a batch of items and reported per item; where a natural baseline
 * exists it is measured beside it and the ratio printed.
 *
 * - sponsor upline walk: `walkOrders` (the walk phase's own code: unilevel with dynamic
 *   compression and rank-unlocked levels, matching) over a batch of orders by random buyers;
 *   beside it, the full sponsor line to the root that the serial phase climbs for `gv`.
 * - placement upline walk: a buyer's placement line to the root over the `parent` column,
 *   adding its cv to each ancestor's leg (SPEC 3.2 step 6 done per order, into scratch legs).
 *   The engine does not do this per order: period close sums every subtree in one pass. The
 *   figure is what the per-order design would pay.
 * - id index lookup: `IdIndex.get` against a `Map<number, number>` holding the same ids.
 * - batch encode/decode: the event log's codec (`encodeEvent` msgpackr / `decodeEvent`, which
 *   validates) against JSON text (`JSON.stringify` + UTF-8 / `JSON.parse` + `validateEvent`).
 * - ledger insert: one transaction of 16,384 lines through the store's multi-row inserter
 *   against single-row INSERTs (synchronous=FULL, real schema).
 *
 *   node dist/bench/micro.bench.js [--distributors N] [--orders M] [--seed S] [--time MS]
 *     (defaults: 1M distributors, 5M orders in the file, seed 1, 2000 ms per task)
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

import { Bench, type Task } from 'tinybench';

import { DISTRIBUTOR_ID_MAX } from '../src/events/validate.js';
import { Batch } from '../src/engine/batch.js';
import type { EngineState } from '../src/engine/state.js';
import { walkOrders, type WalkContext } from '../src/engine/walk.js';
import type { UplineEvent } from '../src/events/types.js';
import { parseEventLine, validateEvent } from '../src/events/validate.js';
import { decodeEvent, encodeEvent } from '../src/store/event-codec.js';
import { buildEngineNetwork } from './engine-network.js';
import { fillLineBatch, LINES_PER_BATCH, openInsertVariant } from './ledger-batch.js';
import {
  formatCount,
  intFlag,
  machineInfo,
  parseBenchFlags,
  printMachine,
  round,
  WORK_DIR,
  writeResults,
} from './support.js';

/** Items per task call: big enough that the timer's resolution does not matter. */
const ITEMS = 4096;
const CODEC_EVENTS = 4096;
const LEDGER_BASE_LINES = 262_144;
const WARMUP_MS = 500;

interface Params {
  readonly distributors: number;
  readonly orders: number;
  readonly seed: number;
  readonly timeMs: number;
}

function readParams(args: readonly string[]): Params {
  const flags = parseBenchFlags(args, ['distributors', 'orders', 'seed', 'time']);
  return {
    distributors: intFlag(flags, 'distributors', 1_000_000, 1),
    orders: intFlag(flags, 'orders', 5_000_000),
    seed: intFlag(flags, 'seed', 1),
    timeMs: intFlag(flags, 'time', 2_000, 100),
  };
}

/** A task and how many items one call of it processes. */
interface Kernel {
  readonly kernel: string;
  readonly name: string;
  readonly items: number;
  readonly fn: () => void;
}

/** Results of read-only kernels land here, so the JIT cannot drop their loops as dead code. */
let blackhole = 0;

let randomState = 0x9e3779b9;
/** xorshift32 in [0, bound): seeded, so every run walks the same buyers. */
function randomBelow(bound: number): number {
  randomState ^= randomState << 13;
  randomState ^= randomState >>> 17;
  randomState ^= randomState << 5;
  return (randomState >>> 0) % bound;
}

/** A batch of ITEMS orders by random buyers, as the sequencer would leave it for the walk. */
function walkContext(state: EngineState, buyers: Int32Array): WalkContext {
  const batch = new Batch(ITEMS, state.plan.orderWalkLinesMax);
  for (let index = 0; index < ITEMS; index++) {
    const seq = state.lastSeq + 1 + index;
    batch.begin(seq);
    batch.addOrder(seq, buyers[index]!, 5_000 + randomBelow(20_000), Date.UTC(2025, 6, 1));
  }
  return {
    plan: state.plan,
    distributors: state.d,
    changes: batch.changes.views,
    orders: batch.orders.views,
    lines: batch.walkLines.views,
  };
}

function walkKernels(state: EngineState): Kernel[] {
  const d = state.d;
  const buyers = Int32Array.from({ length: ITEMS }, () => randomBelow(state.count));
  const context = walkContext(state, buyers);
  const legL = new Float64Array(state.count);
  const legR = new Float64Array(state.count);
  return [
    {
      kernel: 'sponsor upline walk',
      name: 'walkOrders: unilevel 7 levels compressed + matching',
      items: ITEMS,
      fn: () => walkOrders(context, 0, ITEMS),
    },
    {
      kernel: 'sponsor upline walk',
      name: 'sponsor line to the root (the gv path)',
      items: ITEMS,
      fn: () => {
        for (let index = 0; index < ITEMS; index++) {
          for (let slot = buyers[index]!; slot !== -1; slot = d.sponsor[slot]!)
            blackhole += d.gv[slot]!;
        }
      },
    },
    {
      kernel: 'placement upline walk',
      name: 'placement line to the root, cv to each leg',
      items: ITEMS,
      fn: () => {
        for (let index = 0; index < ITEMS; index++) {
          let child = buyers[index]!;
          for (let parent = d.parent[child]!; parent !== -1; parent = d.parent[child]!) {
            const legs = d.childR[parent] === child ? legR : legL;
            legs[parent] = legs[parent]! + 1;
            child = parent;
          }
        }
      },
    },
  ];
}

function idKernels(state: EngineState): Kernel[] {
  const ids = Int32Array.from(
    { length: ITEMS },
    () => state.d.externalId[randomBelow(state.count)]!,
  );
  // Ids that are absent too: a lookup of a new distributor's id must miss quickly.
  for (let index = 0; index < ITEMS; index += 8) ids[index] = 1 + randomBelow(DISTRIBUTOR_ID_MAX);
  const map = new Map<number, number>();
  for (let slot = 0; slot < state.count; slot++) map.set(state.d.externalId[slot]!, slot);
  return [
    {
      kernel: 'id index lookup',
      name: 'IdIndex.get (shared open addressing)',
      items: ITEMS,
      fn: () => {
        for (let index = 0; index < ITEMS; index++) blackhole += state.idIndex.get(ids[index]!);
      },
    },
    {
      kernel: 'id index lookup',
      name: 'baseline: Map<number, number>.get',
      items: ITEMS,
      fn: () => {
        for (let index = 0; index < ITEMS; index++) blackhole += map.get(ids[index]!) ?? -1;
      },
    },
  ];
}

function codecKernels(events: readonly UplineEvent[]): Kernel[] {
  const packed = events.map((event) => encodeEvent(event));
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  const texts = events.map((event) => encoder.encode(JSON.stringify(event)));
  const count = events.length;
  return [
    {
      kernel: 'batch encode',
      name: 'msgpackr (encodeEvent, the log codec)',
      items: count,
      fn: () => events.forEach((event) => encodeEvent(event)),
    },
    {
      kernel: 'batch encode',
      name: 'baseline: JSON.stringify + UTF-8',
      items: count,
      fn: () => events.forEach((event) => encoder.encode(JSON.stringify(event))),
    },
    {
      kernel: 'batch decode',
      name: 'msgpackr + validate (decodeEvent)',
      items: count,
      fn: () => packed.forEach((body) => decodeEvent(body)),
    },
    {
      kernel: 'batch decode',
      name: 'baseline: UTF-8 + JSON.parse + validate',
      items: count,
      fn: () => texts.forEach((text) => validateEvent(JSON.parse(decoder.decode(text)))),
    },
  ];
}

function ledgerKernels(dir: string): Kernel[] {
  const variants = [
    openInsertVariant(dir, 'store: multi-row INSERT, 256 rows/statement', 256, LEDGER_BASE_LINES),
    openInsertVariant(dir, 'baseline: single-row INSERT', 1, LEDGER_BASE_LINES),
  ];
  return variants.map((variant) => {
    const insert = variant.db.transaction(() => variant.inserter.insertAll(variant.lines));
    return {
      kernel: 'ledger insert',
      name: variant.name,
      items: LINES_PER_BATCH,
      fn: () => {
        variant.seqNext = fillLineBatch(variant.lines, variant.seqNext);
        insert();
      },
    };
  });
}

interface Measured {
  readonly kernel: string;
  readonly name: string;
  readonly itemsPerCall: number;
  readonly nsPerItem: number;
  readonly itemsPerSecond: number;
  readonly rmePercent: number;
  readonly samples: number;
}

function measured(kernel: Kernel, task: Task): Measured {
  const result = task.result;
  if (!('latency' in result)) throw new Error(`${kernel.name}: ${result.state}`);
  const nsPerItem = (result.latency.mean * 1e6) / kernel.items;
  return {
    kernel: kernel.kernel,
    name: kernel.name,
    itemsPerCall: kernel.items,
    nsPerItem: round(nsPerItem, 1),
    itemsPerSecond: Math.round(1e9 / nsPerItem),
    rmePercent: round(result.latency.rme, 2),
    samples: result.latency.samplesCount,
  };
}

/** Per kernel with a baseline: how many times faster the engine's way is. */
function comparisons(rows: readonly Measured[]): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const baseline of rows.filter((row) => row.name.startsWith('baseline'))) {
    const subject = rows.find((row) => row.kernel === baseline.kernel && row !== baseline);
    if (subject === undefined) continue;
    const speedup = round(baseline.nsPerItem / subject.nsPerItem, 2);
    out.push({ kernel: baseline.kernel, subject: subject.name, baseline: baseline.name, speedup });
  }
  return out;
}

/** Mean sponsor and placement depth over a sample of slots (context for the walk figures). */
function depths(state: EngineState): { sponsorDepthMean: number; placementDepthMean: number } {
  const d = state.d;
  let sponsor = 0;
  let placement = 0;
  for (let index = 0; index < ITEMS; index++) {
    const slot = randomBelow(state.count);
    for (let at = d.sponsor[slot]!; at !== -1; at = d.sponsor[at]!) sponsor++;
    for (let at = d.parent[slot]!; at !== -1; at = d.parent[at]!) placement++;
  }
  return {
    sponsorDepthMean: round(sponsor / ITEMS, 1),
    placementDepthMean: round(placement / ITEMS, 1),
  };
}

async function main(): Promise<void> {
  const params = readParams(process.argv.slice(2));
  const machine = machineInfo();
  printMachine(machine);
  console.error('building the engine state through its first period ...');
  const network = await buildEngineNetwork({ ...params, workers: 0, tailLinesMax: CODEC_EVENTS });
  const state = network.engine.state;
  console.error(
    `built ${formatCount(state.count)} distributors in ${round(network.buildMs / 1000, 1)} s`,
  );
  const events = network.tail.flatMap((line) => {
    const validated = parseEventLine(line);
    return validated.ok ? [validated.event] : [];
  });
  const dir = fs.mkdtempSync(path.join(WORK_DIR, 'micro-'));
  try {
    const kernels = [
      ...walkKernels(state),
      ...idKernels(state),
      ...codecKernels(events),
      ...ledgerKernels(dir),
    ];
    const bench = new Bench({ time: params.timeMs, warmupTime: WARMUP_MS });
    for (const kernel of kernels) bench.add(kernel.name, kernel.fn);
    bench.runSync();
    const rows = kernels.map((kernel, index) => measured(kernel, bench.tasks[index]!));
    console.log(`\nmicro: ${formatCount(state.count)} distributors, ns per item`);
    console.table(rows.map(({ samples: _samples, ...row }) => row));
    const compared = comparisons(rows);
    console.table(compared);
    const shape = depths(state);
    console.log(`sample depths: ${JSON.stringify(shape)} (checksum ${blackhole % 1000})`);
    const file = writeResults(`micro-d${params.distributors}`, {
      params,
      loadAverageAtStart: machine.loadAverage,
      network: { distributors: state.count, buildMs: Math.round(network.buildMs), ...shape },
      tasks: rows,
      comparisons: compared,
    });
    console.log(`results: ${file}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
    await network.dispose();
  }
}

await main();
