/**
 * Product target (e): sustained ingest over WebSocket with 1,000 live subscribers.
 *
 * 1. Generates a network (enrollments only, `generateEvents` with no orders, the generator of
 *    `upline generate`) and picks the subscribers: the distributors with the largest sponsor
 *    subtrees, whose volumes (and often lines) change with most orders, so they get pushes.
 * 2. Starts the real server in a child process (`upline serve --config`, demo mode off, the
 *    config's synchronous mode: FULL by default) and seeds the network over `POST /v1/events`
 *    as NDJSON chunks (not measured).
 * 3. Runs server-load-client.ts in a second child process: 1,000 live feeds, then ingest of
 *    MessagePack order frames, first closed loop at full speed (events/s), then open loop at
 *    half that rate (ack latency p50/p99, event-to-push and push-after-ack p99).
 *
 * Figures are printed next to their targets and never asserted. Server and client share this
 * machine's cores: on 2 cores, the client's JSON parsing of every push competes with the
 * server, so the figures are what one box does with its own load generator on it.
 *
 *   node dist/bench/server-load.bench.js [--distributors N] [--subscribers S] [--connections C]
 *     [--frame-events B] [--paced-frame-events B] [--in-flight F] [--warmup-seconds W]
 *     [--max-seconds T] [--paced-seconds T] [--workers W] [--batch B] [--synchronous FULL|NORMAL]
 *     [--seed S] [--keep]   (defaults: 100k, 1000, 2, 512, 256, 8, 3, 15, 15, 2, 4096, FULL, 1)
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

import { generateEvents } from '../src/generate/generate.js';
import {
  checkChild,
  CLI_MAIN,
  formatBytes,
  formatCount,
  intFlag,
  KIB,
  lastJsonLine,
  machineInfo,
  parseBenchFlags,
  printMachine,
  printTargets,
  procMemory,
  runNodeChild,
  stringFlag,
  WORK_DIR,
  writeResults,
  type ChildRun,
  type TargetRow,
} from './support.js';

const EVENTS_PER_SECOND_MIN = 50_000;
const ACK_P99_MS_MAX = 50;
const COMMIT_TO_PUSH_P99_MS_MAX = 50;
const CLIENT = fileURLToPath(new URL('./server-load-client.js', import.meta.url));
/** Seeding chunk: well under the server's maxEventsPerBody and maxBodyBytes defaults. */
const SEED_LINES_PER_BODY = 20_000;

const INGEST_KEY = 'bench-ingest-key-0123456789';
const ADMIN_TOKEN = 'bench-admin-token-0123456789';
const SECRET = 'bench-secret-0123456789abcdef';

interface Params {
  readonly distributors: number;
  readonly subscribers: number;
  readonly connections: number;
  readonly frameEvents: number;
  readonly pacedFrameEvents: number;
  readonly inFlight: number;
  readonly warmupSeconds: number;
  readonly maxSeconds: number;
  readonly pacedSeconds: number;
  readonly workers: number;
  readonly batch: number;
  readonly synchronous: 'FULL' | 'NORMAL';
  readonly seed: number;
  readonly keep: boolean;
}

function readParams(args: readonly string[]): Params {
  const ints = ['distributors', 'subscribers', 'connections', 'frame-events', 'in-flight'];
  const more = ['paced-frame-events', 'warmup-seconds', 'max-seconds', 'paced-seconds'];
  const engine = ['workers', 'batch', 'seed', 'synchronous'];
  const flags = parseBenchFlags(args, [...ints, ...more, ...engine], ['keep']);
  const synchronous = stringFlag(flags, 'synchronous', 'FULL');
  if (synchronous !== 'FULL' && synchronous !== 'NORMAL') {
    throw new Error(`--synchronous must be FULL or NORMAL, got ${JSON.stringify(synchronous)}`);
  }
  return {
    distributors: intFlag(flags, 'distributors', 100_000, 1),
    subscribers: intFlag(flags, 'subscribers', 1000),
    connections: intFlag(flags, 'connections', 2, 1),
    frameEvents: intFlag(flags, 'frame-events', 512, 1),
    pacedFrameEvents: intFlag(flags, 'paced-frame-events', 256, 1),
    inFlight: intFlag(flags, 'in-flight', 8, 1),
    warmupSeconds: intFlag(flags, 'warmup-seconds', 3),
    maxSeconds: intFlag(flags, 'max-seconds', 15, 1),
    pacedSeconds: intFlag(flags, 'paced-seconds', 15, 1),
    workers: intFlag(flags, 'workers', 2),
    batch: intFlag(flags, 'batch', 4096, 1),
    synchronous,
    seed: intFlag(flags, 'seed', 1),
    keep: flags['keep'] === true,
  };
}

// ---------------------------------------------------------------------------------------------
// The network

interface Network {
  /** NDJSON of the enrollments (and whatever else the generator writes without orders). */
  readonly text: string;
  readonly lineCount: number;
  /** Every generated distributor id, by sponsor-subtree size, largest first. */
  readonly byDescendants: number[];
  readonly largestSubtree: number;
}

function buildNetwork(params: Params): Network {
  const chunks: string[] = [];
  generateEvents({ distributors: params.distributors, orders: 0, seed: params.seed }, (chunk) =>
    chunks.push(chunk),
  );
  const text = chunks.join('');
  const ids: number[] = [];
  const sponsorIndex: number[] = [];
  const indexOf = new Map<number, number>();
  let lineCount = 0;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    lineCount++;
    const event = JSON.parse(line) as { type: string; distributor?: number; sponsor?: number };
    if (event.type !== 'enroll' || event.distributor === undefined) continue;
    if (indexOf.has(event.distributor)) continue; // a generated retry
    indexOf.set(event.distributor, ids.length);
    sponsorIndex.push(event.sponsor == null ? -1 : (indexOf.get(event.sponsor) ?? -1));
    ids.push(event.distributor);
  }
  // A sponsor enrolls before its recruits: one pass from the end sums every subtree.
  const subtree = new Float64Array(ids.length).fill(1);
  for (let index = ids.length - 1; index >= 0; index--) {
    const sponsor = sponsorIndex[index]!;
    if (sponsor >= 0) subtree[sponsor]! += subtree[index]!;
  }
  const order = ids.map((_, index) => index).sort((a, b) => subtree[b]! - subtree[a]!);
  return {
    text,
    lineCount,
    byDescendants: order.map((index) => ids[index]!),
    largestSubtree: subtree[order[0] ?? 0] ?? 0,
  };
}

// ---------------------------------------------------------------------------------------------
// The server child

interface Server {
  readonly child: ChildProcessWithoutNullStreams;
  readonly port: number;
  /** Every JSON status line the server printed (it logs events/s every 5 s). */
  readonly statusLines: unknown[];
  readonly exited: Promise<number | null>;
}

function writeConfig(dir: string, params: Params): string {
  const file = path.join(dir, 'config.json');
  const capacity = 1 << 21;
  const config = {
    host: '127.0.0.1',
    port: 0,
    dataDir: path.join(dir, 'data'),
    ingestKey: INGEST_KEY,
    adminToken: ADMIN_TOKEN,
    secret: SECRET,
    workers: params.workers,
    batch: params.batch,
    synchronous: params.synchronous,
    // Sized up front so that no table grows (a handover) in the middle of a measurement.
    distributorCapacity: Math.max(65_536, params.distributors * 2),
    orderCapacity: capacity,
    eventCapacity: capacity * 2,
    demoDistributors: 0,
    demoOrdersPerSecond: 0,
  };
  fs.writeFileSync(file, JSON.stringify(config, null, 2));
  return file;
}

/** `upline serve` in a child; resolves once it printed its "ready" line. */
function startServer(configFile: string): Promise<Server> {
  // UPLINE_SERVER_NODE_ARGS: extra node flags for the server, e.g. `--cpu-prof` to profile it.
  const nodeArgs = (process.env.UPLINE_SERVER_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
  const child = spawn(process.execPath, [...nodeArgs, CLI_MAIN, 'serve', '--config', configFile], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  child.stderr.on('data', (chunk: Buffer) => process.stderr.write(chunk));
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  const statusLines: unknown[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('server not ready in 120 s')), 120_000);
    void exited.then((code) => reject(new Error(`server exited (${String(code)}) before ready`)));
    createInterface({ input: child.stdout }).on('line', (line) => {
      // Anything else the server prints (say, `--trace-gc` in UPLINE_SERVER_NODE_ARGS) goes to
      // stderr with the other progress, not into the figures on stdout.
      if (!line.startsWith('{')) {
        process.stderr.write(`[server] ${line}\n`);
        return;
      }
      const status = JSON.parse(line) as { status?: string; dashboard?: string };
      statusLines.push(status);
      if (status.status !== 'ready' || status.dashboard === undefined) return;
      clearTimeout(timer);
      const port = Number(new URL(status.dashboard).port);
      resolve({ child, port, statusLines, exited });
    });
  });
}

async function stopServer(server: Server): Promise<void> {
  server.child.kill('SIGTERM');
  const code = await server.exited;
  if (code !== 0) throw new Error(`server exited with ${String(code)}`);
}

/**
 * The network over HTTP in NDJSON chunks, each answered once durable; the distributors whose
 * enrollment was accepted (the generator also writes retries and colliding placements).
 */
async function seedNetwork(port: number, network: Network): Promise<Set<number>> {
  const lines = network.text.split('\n').filter((line) => line !== '');
  const enrolled = new Set<number>();
  for (let start = 0; start < lines.length; start += SEED_LINES_PER_BODY) {
    const chunk = lines.slice(start, start + SEED_LINES_PER_BODY);
    const response = await fetch(`http://127.0.0.1:${port}/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${INGEST_KEY}`, 'content-type': 'application/x-ndjson' },
      body: `${chunk.join('\n')}\n`,
    });
    const text = await response.text();
    if (response.status !== 200) throw new Error(`seeding: ${response.status} ${text}`);
    const results = JSON.parse(text) as { status: string }[];
    results.forEach((result, index) => {
      if (result.status !== 'accepted') return;
      const event = JSON.parse(chunk[index]!) as { type: string; distributor?: number };
      if (event.type === 'enroll' && event.distributor !== undefined) {
        enrolled.add(event.distributor);
      }
    });
  }
  return enrolled;
}

// ---------------------------------------------------------------------------------------------
// Figures

interface Summary {
  readonly count: number;
  readonly p50: number | null;
  readonly p99: number | null;
  readonly max: number | null;
}

/** A latency target holds only if it was measured. */
const under = (value: number | null, limit: number): boolean => value !== null && value < limit;

/** The client's JSON line, as far as the table reads it. */
interface ClientResult {
  readonly subscribers: {
    readonly requested: number;
    readonly snapshots: number;
    readonly dropped: number;
    readonly pushes: number;
    readonly pushBytes: number;
  };
  readonly max: {
    readonly eventsPerSecond: number;
    readonly ackMs: Summary;
    readonly eventToPushMs: Summary;
    readonly pushAfterAckMs: Summary;
  };
  readonly paced: {
    readonly targetEventsPerSecond: number;
    readonly sentEventsPerSecond: number;
    readonly heldFrames: number;
    readonly ackMs: Summary;
    readonly eventToPushMs: Summary;
    readonly pushAfterAckMs: Summary;
    /** The client's event-loop delay in the paced window. */
    readonly clientLoopDelayMs: {
      readonly p50: number;
      readonly p99: number;
      readonly max: number;
    };
  };
  readonly notAccepted: number;
  readonly refusedFrames: number;
  readonly clientCpuSeconds: { readonly user: number; readonly system: number };
}

/** Percentiles of no samples come back as null (NaN in JSON). */
const ms = (value: number | null): string =>
  value === null || Number.isNaN(value) ? 'n/a' : `${value.toFixed(1)} ms`;
const spread = (summary: Summary): string =>
  `p50 ${ms(summary.p50)}, p99 ${ms(summary.p99)} (n=${formatCount(summary.count)})`;

function row(figure: string, value: string): TargetRow {
  return { figure, value, target: '', ok: null };
}

function targetRows(params: Params, client: ClientResult, serverPeakKiB: number): TargetRow[] {
  const { max, paced, subscribers } = client;
  const half = `at ${formatCount(paced.targetEventsPerSecond)}/s`;
  return [
    row(
      'live subscribers (snapshots / dropped)',
      `${subscribers.snapshots} / ${subscribers.dropped}`,
    ),
    {
      figure: `ingest throughput, WS msgpack, ${params.connections}x${params.inFlight} frames`,
      value: `${formatCount(max.eventsPerSecond)} events/s`,
      target: `>= ${formatCount(EVENTS_PER_SECOND_MIN)} events/s`,
      ok: max.eventsPerSecond >= EVENTS_PER_SECOND_MIN,
    },
    row('ack latency at full speed (closed loop)', spread(max.ackMs)),
    row('paced load sent (half of full speed)', `${formatCount(paced.sentEventsPerSecond)} ev/s`),
    {
      figure: `ack latency p99 ${half} (p50 ${ms(paced.ackMs.p50)})`,
      value: ms(paced.ackMs.p99),
      target: `< ${ACK_P99_MS_MAX} ms`,
      ok: under(paced.ackMs.p99, ACK_P99_MS_MAX),
    },
    row(`event-to-push ${half}`, spread(paced.eventToPushMs)),
    {
      figure: `commit-to-push p99 ${half} (push after ack)`,
      value: ms(paced.pushAfterAckMs.p99),
      target: `< ${COMMIT_TO_PUSH_P99_MS_MAX} ms, ${subscribers.requested} subscribers`,
      ok: under(paced.pushAfterAckMs.p99, COMMIT_TO_PUSH_P99_MS_MAX),
    },
    row(
      `client event-loop delay ${half} (part of every latency above)`,
      `p50 ${ms(paced.clientLoopDelayMs.p50)}, p99 ${ms(paced.clientLoopDelayMs.p99)}, ` +
        `max ${ms(paced.clientLoopDelayMs.max)}`,
    ),
    row('event-to-push at full speed', spread(max.eventToPushMs)),
    row('push after ack at full speed', spread(max.pushAfterAckMs)),
    row(
      'pushes received',
      `${formatCount(subscribers.pushes)} (${formatBytes(subscribers.pushBytes)})`,
    ),
    row('events not accepted / frames refused', `${client.notAccepted} / ${client.refusedFrames}`),
    row('server peak RSS (VmHWM)', formatBytes(serverPeakKiB * KIB)),
    row(
      'client CPU (user + system)',
      `${(client.clientCpuSeconds.user + client.clientCpuSeconds.system).toFixed(1)} s`,
    ),
  ];
}

function clientArgs(params: Params, port: number, networkFile: string): string[] {
  const flag = (name: string, value: number | string): string[] => [`--${name}`, String(value)];
  return [
    ...flag('url', `ws://127.0.0.1:${port}`),
    ...flag('ingest-key', INGEST_KEY),
    ...flag('admin-token', ADMIN_TOKEN),
    ...flag('secret', SECRET),
    ...flag('network', networkFile),
    ...flag('subscribers', params.subscribers),
    ...flag('connections', params.connections),
    ...flag('frame-events', params.frameEvents),
    ...flag('paced-frame-events', params.pacedFrameEvents),
    ...flag('in-flight', params.inFlight),
    ...flag('warmup-seconds', params.warmupSeconds),
    ...flag('max-seconds', params.maxSeconds),
    ...flag('paced-seconds', params.pacedSeconds),
  ];
}

async function main(): Promise<void> {
  const params = readParams(process.argv.slice(2));
  const machine = machineInfo();
  printMachine(machine);
  const dir = path.join(WORK_DIR, `server-load-${process.pid}`);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const network = buildNetwork(params);
  const server = await startServer(writeConfig(dir, params));
  let serverPeakKiB = 0;
  const poll = setInterval(() => {
    const memory = procMemory(server.child.pid ?? 0);
    if (memory !== undefined) serverPeakKiB = Math.max(serverPeakKiB, memory.hwmKiB);
  }, 200);
  let client: ClientResult;
  let clientRun: ChildRun;
  let seedMs: number;
  let enrolled: Set<number>;
  try {
    const seedStarted = performance.now();
    console.error(`seeding ${network.lineCount} events over HTTP ...`);
    enrolled = await seedNetwork(server.port, network);
    seedMs = performance.now() - seedStarted;
    console.error(`seeded ${enrolled.size} distributors in ${(seedMs / 1000).toFixed(1)} s`);
    // Only enrolled distributors: a feed of an unknown one is closed, its orders are rejected.
    const networkFile = path.join(dir, 'network.json');
    const subscribers = network.byDescendants.filter((id) => enrolled.has(id));
    const picked = { subscribers: subscribers.slice(0, params.subscribers), buyers: [...enrolled] };
    fs.writeFileSync(networkFile, JSON.stringify(picked));
    clientRun = await runNodeChild([], CLIENT, clientArgs(params, server.port, networkFile));
    checkChild(clientRun, 'load client');
    const line = lastJsonLine(clientRun.stdout);
    if (line === undefined) throw new Error(`no result line from the load client`);
    client = line as unknown as ClientResult;
  } finally {
    clearInterval(poll);
    await stopServer(server);
  }

  const rows = targetRows(params, client, serverPeakKiB);
  console.log(
    `\nserver load: ${formatCount(params.distributors)} distributors (largest subtree ` +
      `${formatCount(network.largestSubtree)}), ${params.subscribers} live subscribers, ` +
      `workers ${params.workers}, batch ${params.batch}, synchronous ${params.synchronous}`,
  );
  printTargets(rows);
  for (const target of rows.filter((one) => one.ok !== null)) {
    console.log(`${target.ok === true ? 'MET    ' : 'NOT MET'}  ${target.figure}: ${target.value}`);
  }
  // Named by size, so a quick run (npm run bench) never replaces the full-size figures.
  const file = writeResults(`server-load-d${params.distributors}-s${params.subscribers}`, {
    params,
    loadAverageAtStart: machine.loadAverage,
    seeding: { events: network.lineCount, enrolled: enrolled.size, ms: Math.round(seedMs) },
    server: { peakRssBytes: serverPeakKiB * KIB, statusLines: server.statusLines },
    client: { ...client, peakRssBytes: clientRun.peakRssKiB * KIB, wallMs: clientRun.wallMs },
    table: rows,
  });
  console.log(`results: ${file}`);
  if (!params.keep) fs.rmSync(dir, { recursive: true, force: true });
}

await main();
