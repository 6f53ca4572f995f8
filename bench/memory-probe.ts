/**
 * Memory probe, run as a child by memory.bench.ts (with --expose-gc) so that the resident
 * memory it reports is its own. One mode per run:
 *
 * - `state`: the shared distributor table and id index alone, built from native-layout the way
 *   EngineState grows them (doubling, handover to new buffers), N rows filled.
 * - `engine`: the real path: Engine.open on a fresh database, then the enrollment file
 *   submitted in chunks of 65,536 lines (like `upline replay`), every batch committed.
 *
 * Prints one JSON line: build time, VmRSS after a full GC (and its anonymous / file / shmem
 * split), VmHWM (peak), the V8 breakdown, and the bytes the shared tables were allocated with.
 * With UPLINE_SMAPS_TO=FILE it also copies /proc/self/smaps there after the GC, to see which
 * mappings hold the memory (the shared tables are one large mapping; V8 pages are 256 KiB).
 *
 *   node --expose-gc dist/bench/memory-probe.js --mode M --distributors N [--events FILE]
 *     [--db FILE] [--workers W] [--batch B]
 */
import fs from 'node:fs';
import { performance } from 'node:perf_hooks';

import { IdIndex } from '../native-layout/id-index.js';
import { DISTRIBUTORS, ID_INDEX, idIndexCapacityFor } from '../native-layout/layouts.js';
import { SLOT_NONE } from '../native-layout/schema.js';
import { createTable, growTable } from '../native-layout/table.js';
import { Engine } from '../src/engine/engine.js';
import { LineReader } from '../src/io/line-reader.js';
import { loadPlan } from '../src/plan/plan.js';
import { intFlag, parseBenchFlags, procMemory, REFERENCE_PLAN, stringFlag } from './support.js';

const LINES_PER_SUBMIT = 65_536;
const PROGRESS_EVERY = 1_048_576;
const START_AT_MS = 1_735_689_600_000;

type Mode = 'state' | 'engine';
const INITIAL_CAPACITY = 1024;

interface Built {
  readonly count: number;
  readonly distributorCapacity: number;
  readonly idIndexCapacity: number;
  readonly close: () => Promise<void>;
}

/**
 * Distinct, scattered ids in 1..2^31-1: multiplying by an odd number is a bijection mod 2^31,
 * and index + 1 < 2^31 is never 0 mod 2^31, so no id is 0 (the index's empty key).
 */
function externalIdOf(index: number): number {
  return Math.imul(index + 1, 0x2c1b3c6d) & 0x7fff_ffff;
}

/** As EngineState.addDistributor and grow do it, without the engine around them. */
function buildState(distributors: number): Built {
  let table = createTable(DISTRIBUTORS, INITIAL_CAPACITY);
  let index = IdIndex.create(idIndexCapacityFor(INITIAL_CAPACITY), table);
  for (let slot = 0; slot < distributors; slot++) {
    if (slot === table.capacity) {
      table = growTable(table, table.capacity * 2);
      index = index.grow(table);
    }
    const d = table.views;
    d.externalId[slot] = externalIdOf(slot);
    // Sponsor: an earlier distributor, as in a real network (the root has none).
    d.sponsor[slot] = slot === 0 ? SLOT_NONE : Math.floor(slot / 2);
    d.enrolledAt[slot] = START_AT_MS + slot;
    index.set(externalIdOf(slot), slot);
    if ((slot + 1) % PROGRESS_EVERY === 0) progress(slot + 1);
  }
  return {
    count: distributors,
    distributorCapacity: table.capacity,
    idIndexCapacity: index.capacity,
    // Holds the buffers until after the measurement (the engine holds its own likewise).
    close: () => Promise.resolve(void [table, index]),
  };
}

function capacityFlags(flags: ReturnType<typeof parseBenchFlags>) {
  const distributors = intFlag(flags, 'capacity', 0, 0);
  if (distributors === 0) return {};
  return { distributors, events: distributors, orders: 1024 };
}

async function buildEngine(flags: ReturnType<typeof parseBenchFlags>): Promise<Built> {
  const eventsFile = stringFlag(flags, 'events', '');
  const dbFile = stringFlag(flags, 'db', '');
  if (eventsFile === '' || dbFile === '') throw new Error('engine mode needs --events and --db');
  const engine = await Engine.open({
    plan: loadPlan(REFERENCE_PLAN),
    dbFile,
    workers: intFlag(flags, 'workers', 2),
    batchSize: intFlag(flags, 'batch', 4096, 1),
    // Sized as an operator would size it (config distributorCapacity / eventCapacity), so the
    // figure is the steady state, not doubling's slack; 0 measures growth from the minimum.
    capacity: capacityFlags(flags),
  });
  const reader = new LineReader(eventsFile);
  let submitted = 0;
  let reported = 0;
  try {
    for (let lines = reader.next(LINES_PER_SUBMIT); lines.length > 0;) {
      await engine.submit(lines);
      submitted += lines.length;
      if (submitted - reported >= PROGRESS_EVERY) {
        progress(submitted);
        reported = submitted;
      }
      lines = reader.next(LINES_PER_SUBMIT);
    }
  } finally {
    reader.close();
  }
  return {
    count: engine.state.count,
    distributorCapacity: engine.state.distributors.capacity,
    idIndexCapacity: engine.state.idIndex.capacity,
    close: () => engine.close(),
  };
}

function progress(count: number): void {
  const memory = procMemory('self');
  const mib = (kib: number | undefined) => ((kib ?? 0) / 1024).toFixed(0);
  const seconds = (performance.now() / 1000).toFixed(0);
  console.error(
    `  ${count} in, RSS ${mib(memory?.rssKiB)} MiB (anon ${mib(memory?.anonKiB)}, file ` +
      `${mib(memory?.fileKiB)}, shmem ${mib(memory?.shmemKiB)}), peak ${mib(memory?.hwmKiB)} ` +
      `MiB, t=${seconds} s`,
  );
}

/**
 * Full GCs with pauses between: a retired SharedArrayBuffer (the table before a grow) is
 * released after its last reference dies, and V8 frees backing stores off the main thread.
 */
async function collectGarbage(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) return;
  for (let round = 0; round < 3; round++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function main(): Promise<void> {
  const flags = parseBenchFlags(process.argv.slice(2), [
    'mode',
    'distributors',
    'events',
    'db',
    'capacity',
    'workers',
    'batch',
  ]);
  const mode = stringFlag(flags, 'mode', 'state') as Mode;
  if (mode !== 'state' && mode !== 'engine') throw new Error(`bad --mode ${mode}`);
  const distributors = intFlag(flags, 'distributors', 1_000_000, 1);
  const baseline = procMemory('self');
  const started = performance.now();
  const built = mode === 'engine' ? await buildEngine(flags) : buildState(distributors);
  const buildMs = performance.now() - started;
  await collectGarbage();
  const memory = procMemory('self');
  const usage = process.memoryUsage();
  const smapsTo = process.env.UPLINE_SMAPS_TO;
  if (smapsTo !== undefined)
    fs.writeFileSync(smapsTo, fs.readFileSync('/proc/self/smaps', 'latin1'));
  const result = {
    mode,
    count: built.count,
    buildMs: Math.round(buildMs),
    baselineRssKiB: baseline?.rssKiB ?? 0,
    rssKiB: memory?.rssKiB ?? 0,
    hwmKiB: memory?.hwmKiB ?? 0,
    anonKiB: memory?.anonKiB ?? 0,
    fileKiB: memory?.fileKiB ?? 0,
    shmemKiB: memory?.shmemKiB ?? 0,
    heapUsedBytes: usage.heapUsed,
    externalBytes: usage.external,
    arrayBuffersBytes: usage.arrayBuffers,
    distributorCapacity: built.distributorCapacity,
    distributorTableBytes: built.distributorCapacity * DISTRIBUTORS.bytesPerRow,
    idIndexCapacity: built.idIndexCapacity,
    idIndexBytes: built.idIndexCapacity * ID_INDEX.bytesPerRow,
  };
  await built.close();
  console.log(JSON.stringify(result));
}

await main();
