/**
 * The load client of server-load.bench.ts, in a process of its own (the server's event loop and
 * the client's must not share a thread, or each one's latency is the other's work).
 *
 * 1. Opens `--subscribers` live feeds (`WS /v1/live?token=T`, distributor tokens) and waits
 *    for every snapshot; one admin feed for the server's own figures.
 * 2. Phase "max": `--connections` ingest sockets each keep `--in-flight` MessagePack frames of
 *    `--frame-events` orders in flight (a new frame per answer) for `--max-seconds` after
 *    `--warmup-seconds`; events acked per second in that window is the throughput.
 * 3. Phase "paced": `--paced-fraction` of that rate, open loop: frame i is due at start + i *
 *    interval and its latency counts from then, not from when it went out, so a client that
 *    falls behind shows up as latency (no coordinated omission).
 *
 * Latencies, all read on this process's monotonic clock:
 * - ack: the frame's results arrive (the server answers only once the events are durable);
 * - event-to-push: an order was (due to be) sent -> a push whose lines name that order;
 * - push-after-ack (commit-to-push, as a client can see it): a push of seq S arrives -> the
 *   answer of the frame whose last event is S arrived. The server publishes a pass right after
 *   it is durable, one turn after it answers its frames, so this is the fan-out delay to
 *   1,000 sockets; it is negative when the push came first.
 *
 * Prints one JSON line (the figures) on stdout; progress on stderr.
 */
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import * as fs from 'node:fs';
import { Packr, unpack } from 'msgpackr';
import WebSocket from 'ws';

import { Random } from '../src/generate/random.js';
import { distributorToken } from '../src/server/tokens.js';
import { intFlag, parseBenchFlags, round, stringFlag } from './support.js';

interface Params {
  readonly url: string;
  readonly ingestKey: string;
  readonly adminToken: string;
  readonly secret: string;
  /** JSON `{subscribers: number[], buyers: number[]}` written by the bench. */
  readonly networkFile: string;
  readonly subscribers: number;
  readonly connections: number;
  readonly frameEvents: number;
  readonly pacedFrameEvents: number;
  readonly framesInFlight: number;
  readonly warmupSeconds: number;
  readonly maxSeconds: number;
  readonly pacedSeconds: number;
  /** Percent of the measured maximum the paced phase sends. */
  readonly pacedPercent: number;
}

function readParams(args: readonly string[]): Params {
  const strings = ['url', 'ingest-key', 'admin-token', 'secret', 'network'];
  const ints = ['subscribers', 'connections', 'frame-events', 'paced-frame-events', 'in-flight'];
  const times = ['warmup-seconds', 'max-seconds', 'paced-seconds', 'paced-percent'];
  const flags = parseBenchFlags(args, [...strings, ...ints, ...times]);
  const need = (name: string): string => {
    const value = stringFlag(flags, name, '');
    if (value === '') throw new Error(`--${name} is required`);
    return value;
  };
  return {
    url: need('url'),
    ingestKey: need('ingest-key'),
    adminToken: need('admin-token'),
    secret: need('secret'),
    networkFile: need('network'),
    subscribers: intFlag(flags, 'subscribers', 1000),
    connections: intFlag(flags, 'connections', 2, 1),
    frameEvents: intFlag(flags, 'frame-events', 512, 1),
    pacedFrameEvents: intFlag(flags, 'paced-frame-events', 256, 1),
    framesInFlight: intFlag(flags, 'in-flight', 8, 1),
    warmupSeconds: intFlag(flags, 'warmup-seconds', 3),
    maxSeconds: intFlag(flags, 'max-seconds', 15, 1),
    pacedSeconds: intFlag(flags, 'paced-seconds', 15, 1),
    pacedPercent: intFlag(flags, 'paced-percent', 50, 1),
  };
}

const log = (line: string): void => void process.stderr.write(`[load client] ${line}\n`);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

type Phase = 'warmup' | 'max' | 'paced';

// ---------------------------------------------------------------------------------------------
// Samples

/** Latency samples in ms; nearest-rank percentiles. */
class Samples {
  private values: number[] = [];

  add(valueMs: number): void {
    this.values.push(valueMs);
  }

  get count(): number {
    return this.values.length;
  }

  summary(): { count: number; p50: number; p99: number; max: number } {
    const sorted = Float64Array.from(this.values).sort();
    const at = (q: number): number => {
      if (sorted.length === 0) return Number.NaN;
      const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
      return round(sorted[index]!, 2);
    };
    return { count: sorted.length, p50: at(0.5), p99: at(0.99), max: at(1) };
  }
}

/** What the whole client measured; one per run. */
class Recorder {
  /** Per order index: when it was sent (or due), and in which phase. */
  readonly orderSentMs: number[] = [];
  readonly orderPhase: Phase[] = [];
  /** Last seq of each answered frame -> when its answer arrived. */
  readonly ackAtBySeq = new Map<number, number>();
  /** Every update push: its seq and when it arrived. */
  readonly pushSeq: number[] = [];
  readonly pushAtMs: number[] = [];
  readonly ackMs = { warmup: new Samples(), max: new Samples(), paced: new Samples() };
  readonly eventToPushMs = { warmup: new Samples(), max: new Samples(), paced: new Samples() };
  /** Ack receipt times and event counts, for events per second over a window. */
  readonly ackTimesMs: number[] = [];
  readonly ackEvents: number[] = [];
  notAccepted = 0;
  refusedFrames = 0;
  pushes = 0;
  pushBytes = 0;
  snapshots = 0;
  dropped = 0;
  admin: unknown = null;

  eventsAckedBetween(fromMs: number, toMs: number): number {
    let events = 0;
    for (let index = 0; index < this.ackTimesMs.length; index++) {
      const at = this.ackTimesMs[index]!;
      if (at >= fromMs && at < toMs) events += this.ackEvents[index]!;
    }
    return events;
  }

  /** Push-after-ack samples for the pushes that arrived between `fromMs` and `toMs`. */
  pushAfterAck(fromMs: number, toMs: number): Samples {
    const samples = new Samples();
    for (let index = 0; index < this.pushSeq.length; index++) {
      const at = this.pushAtMs[index]!;
      if (at < fromMs || at >= toMs) continue;
      const ackAt = this.ackAtBySeq.get(this.pushSeq[index]!);
      if (ackAt !== undefined) samples.add(at - ackAt);
    }
    return samples;
  }
}

// ---------------------------------------------------------------------------------------------
// Live subscribers

interface LiveMessage {
  readonly type: string;
  readonly seq: number;
  readonly lines?: readonly { readonly order: string | null }[];
}

function rawBytes(data: WebSocket.RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  return Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
}

/** Set before the client closes its own sockets, so those closes are not counted as drops. */
let closing = false;

/** A live feed that files every push; resolves once its snapshot is in. */
function openSubscriber(url: string, recorder: Recorder, prefix: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { perMessageDeflate: false });
    let subscribed = false;
    socket.on('message', (data) => {
      const atMs = performance.now();
      const text = rawBytes(data).toString('utf8');
      const message = JSON.parse(text) as LiveMessage;
      if (message.type === 'snapshot') {
        recorder.snapshots++;
        subscribed = true;
        resolve(socket);
        return;
      }
      if (message.type !== 'update') return;
      recorder.pushes++;
      recorder.pushBytes += text.length;
      recorder.pushSeq.push(message.seq);
      recorder.pushAtMs.push(atMs);
      for (const line of message.lines ?? []) {
        if (line.order === null || !line.order.startsWith(prefix)) continue;
        const index = Number(line.order.slice(prefix.length));
        const sentMs = recorder.orderSentMs[index];
        const phase = recorder.orderPhase[index];
        if (sentMs !== undefined && phase !== undefined) {
          recorder.eventToPushMs[phase].add(atMs - sentMs);
        }
      }
    });
    socket.once('error', reject);
    socket.on('close', (code) => {
      if (!subscribed) reject(new Error(`live feed closed (${code}) before its snapshot`));
      else if (!closing) recorder.dropped++;
    });
  });
}

/** Opened a few dozen at a time: a thousand handshakes at once only measure the listen queue. */
async function openSubscribers(
  params: Params,
  ids: readonly number[],
  recorder: Recorder,
  prefix: string,
): Promise<WebSocket[]> {
  const sockets: WebSocket[] = [];
  const step = 50;
  for (let start = 0; start < ids.length; start += step) {
    const opened = await Promise.all(
      ids.slice(start, start + step).map((id) => {
        const token = encodeURIComponent(distributorToken(params.secret, id));
        return openSubscriber(`${params.url}/v1/live?token=${token}`, recorder, prefix);
      }),
    );
    sockets.push(...opened);
  }
  return sockets;
}

interface AdminSample {
  readonly phase: string;
  readonly figures: unknown;
}

function openAdmin(params: Params, samples: AdminSample[], phase: () => string): WebSocket {
  const token = encodeURIComponent(params.adminToken);
  const socket = new WebSocket(`${params.url}/v1/live?token=${token}`, {
    perMessageDeflate: false,
  });
  socket.on('message', (data) => {
    samples.push({ phase: phase(), figures: JSON.parse(rawBytes(data).toString('utf8')) });
  });
  socket.on('error', (error) => log(`admin feed: ${error.message}`));
  return socket;
}

// ---------------------------------------------------------------------------------------------
// Ingest

/** Orders by random enrolled buyers, numbered so a push's line names its send time. */
class OrderSource {
  private index = 0;
  /** The buyers need no quality, only the same sequence every run: the generator's PRNG. */
  private readonly random = new Random(0x2545f491);

  constructor(
    private readonly prefix: string,
    private readonly buyers: readonly number[],
    private readonly recorder: Recorder,
  ) {}

  next(count: number, phase: Phase, sentMs: number): object[] {
    const events: object[] = new Array<object>(count);
    const at = Date.now();
    for (let slot = 0; slot < count; slot++) {
      const index = this.index++;
      const id = `${this.prefix}${index}`;
      this.recorder.orderSentMs[index] = sentMs;
      this.recorder.orderPhase[index] = phase;
      const distributor = this.buyers[this.random.below(this.buyers.length)]!;
      events[slot] = { id, type: 'order', at, order: id, distributor, pv: 100, cv: 10_000 };
    }
    return events;
  }
}

/** One ingest socket: frames answered in order, so a FIFO of what is in flight suffices. */
class IngestConnection {
  private readonly pending: { dueMs: number; count: number; phase: Phase }[] = [];
  /** How real clients pack (SPEC 6): records, each frame carrying its own definitions. */
  private readonly packr = new Packr({ useRecords: true });
  onAnswer: () => void = () => undefined;

  constructor(
    private readonly socket: WebSocket,
    private readonly recorder: Recorder,
    private readonly orders: OrderSource,
  ) {
    socket.on('message', (data) => this.answered(rawBytes(data)));
    socket.on('close', (code) => {
      if (!closing) throw new Error(`ingest socket closed (${code})`);
    });
  }

  static open(params: Params, recorder: Recorder, orders: OrderSource): Promise<IngestConnection> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(`${params.url}/v1/ingest`, {
        headers: { authorization: `Bearer ${params.ingestKey}` },
        perMessageDeflate: false,
      });
      socket.once('open', () => resolve(new IngestConnection(socket, recorder, orders)));
      socket.once('error', reject);
    });
  }

  get inFlight(): number {
    return this.pending.length;
  }

  /** `dueMs`: when the frame was due (paced) or is sent (closed loop). */
  send(count: number, phase: Phase, dueMs: number): void {
    // msgpackr packs into a reused buffer and ws may write it later: copy.
    const frame = Buffer.from(this.packr.pack(this.orders.next(count, phase, dueMs)));
    this.socket.send(frame, { binary: true });
    this.pending.push({ dueMs, count, phase });
  }

  close(): void {
    this.socket.close();
  }

  private answered(data: Buffer): void {
    const atMs = performance.now();
    const frame = this.pending.shift();
    if (frame === undefined) throw new Error('an answer for no frame');
    const answer = unpack(data) as unknown;
    if (!Array.isArray(answer)) {
      if (this.recorder.refusedFrames++ === 0) log(`frame refused: ${JSON.stringify(answer)}`);
      this.onAnswer();
      return;
    }
    let lastSeq = -1;
    for (const result of answer as { seq: number | null; status: string }[]) {
      if (result.status !== 'accepted') this.recorder.notAccepted++;
      if (result.seq !== null) lastSeq = result.seq;
    }
    this.recorder.ackAtBySeq.set(lastSeq, atMs);
    this.recorder.ackMs[frame.phase].add(atMs - frame.dueMs);
    this.recorder.ackTimesMs.push(atMs);
    this.recorder.ackEvents.push(frame.count);
    this.onAnswer();
  }
}

async function drain(connections: readonly IngestConnection[]): Promise<void> {
  const deadline = performance.now() + 120_000;
  while (connections.some((connection) => connection.inFlight > 0)) {
    if (performance.now() > deadline) throw new Error('frames still unanswered after 120 s');
    await sleep(5);
  }
}

// ---------------------------------------------------------------------------------------------
// Phases

interface Window {
  readonly fromMs: number;
  readonly toMs: number;
}

let currentPhase = 'connecting';

/** Closed loop: every answer sends the next frame on its socket. */
async function runMax(params: Params, connections: readonly IngestConnection[]): Promise<Window> {
  let phase: Phase = 'warmup';
  let sending = true;
  currentPhase = phase;
  for (const connection of connections) {
    connection.onAnswer = () => {
      if (sending) connection.send(params.frameEvents, phase, performance.now());
    };
    for (let frame = 0; frame < params.framesInFlight; frame++) {
      connection.send(params.frameEvents, phase, performance.now());
    }
  }
  await sleep(params.warmupSeconds * 1000);
  phase = 'max';
  currentPhase = phase;
  const fromMs = performance.now();
  await sleep(params.maxSeconds * 1000);
  const toMs = performance.now();
  sending = false;
  currentPhase = 'drain';
  await drain(connections);
  return { fromMs, toMs };
}

/** The server refuses a socket's 65th frame in flight; a paced sender that far behind waits. */
const PACED_IN_FLIGHT_MAX = 60;

/** Open loop at `eventsPerSecond`, frames spread over the sockets in turn. */
async function runPaced(
  params: Params,
  connections: readonly IngestConnection[],
  eventsPerSecond: number,
): Promise<Window & { heldFrames: number; frames: number }> {
  for (const connection of connections) connection.onAnswer = () => undefined;
  currentPhase = 'paced';
  const intervalMs = (params.pacedFrameEvents / eventsPerSecond) * 1000;
  const frames = Math.max(1, Math.floor((params.pacedSeconds * 1000) / intervalMs));
  const fromMs = performance.now() + 10;
  let next = 0;
  let heldFrames = 0;
  while (next < frames) {
    const nowMs = performance.now();
    while (next < frames && fromMs + next * intervalMs <= nowMs) {
      const connection = connections[next % connections.length]!;
      if (connection.inFlight >= PACED_IN_FLIGHT_MAX) {
        heldFrames++;
        break;
      }
      connection.send(params.pacedFrameEvents, 'paced', fromMs + next * intervalMs);
      next++;
    }
    await sleep(Math.max(0, Math.min(fromMs + next * intervalMs - performance.now(), 5)));
  }
  const toMs = fromMs + frames * intervalMs;
  currentPhase = 'drain';
  await drain(connections);
  return { fromMs, toMs, heldFrames, frames };
}

async function main(): Promise<void> {
  const params = readParams(process.argv.slice(2));
  const network = JSON.parse(fs.readFileSync(params.networkFile, 'utf8')) as {
    subscribers: number[];
    buyers: number[];
  };
  const recorder = new Recorder();
  const prefix = `l${Date.now().toString(36)}-`;
  const adminSamples: AdminSample[] = [];
  const admin = openAdmin(params, adminSamples, () => currentPhase);
  const ids = network.subscribers.slice(0, params.subscribers);
  const subscribers = await openSubscribers(params, ids, recorder, prefix);
  log(`${subscribers.length} live subscribers have their snapshots`);
  const orders = new OrderSource(prefix, network.buyers, recorder);
  const connections = await Promise.all(
    Array.from({ length: params.connections }, () =>
      IngestConnection.open(params, recorder, orders),
    ),
  );

  const max = await runMax(params, connections);
  const maxEvents = recorder.eventsAckedBetween(max.fromMs, max.toMs);
  const maxRate = maxEvents / ((max.toMs - max.fromMs) / 1000);
  log(`max: ${Math.round(maxRate)} events/s acked over ${params.maxSeconds} s`);
  await sleep(1000);
  const maxPushEndMs = performance.now();

  const pacedRate = Math.max(1, Math.round((maxRate * params.pacedPercent) / 100));
  log(`paced: ${pacedRate} events/s for ${params.pacedSeconds} s`);
  // The client's own event loop is part of every latency it measures (an ack waits behind a
  // thousand pushes being parsed): its delay in the paced window says how much.
  const loopDelay = monitorEventLoopDelay({ resolution: 1 });
  loopDelay.enable();
  const paced = await runPaced(params, connections, pacedRate);
  loopDelay.disable();
  await sleep(1000);
  const pacedPushEndMs = performance.now();

  closing = true;
  for (const connection of connections) connection.close();
  for (const socket of [...subscribers, admin]) socket.close();
  const cpu = process.cpuUsage();
  const pacedEvents = paced.frames * params.pacedFrameEvents;
  const result = {
    params,
    subscribers: {
      requested: ids.length,
      snapshots: recorder.snapshots,
      dropped: recorder.dropped,
      pushes: recorder.pushes,
      pushBytes: recorder.pushBytes,
    },
    max: {
      seconds: round((max.toMs - max.fromMs) / 1000, 3),
      eventsAcked: maxEvents,
      eventsPerSecond: Math.round(maxRate),
      ackMs: recorder.ackMs.max.summary(),
      eventToPushMs: recorder.eventToPushMs.max.summary(),
      pushAfterAckMs: recorder.pushAfterAck(max.fromMs, maxPushEndMs).summary(),
    },
    paced: {
      targetEventsPerSecond: pacedRate,
      sentEventsPerSecond: Math.round(pacedEvents / ((paced.toMs - paced.fromMs) / 1000)),
      frames: paced.frames,
      heldFrames: paced.heldFrames,
      ackMs: recorder.ackMs.paced.summary(),
      eventToPushMs: recorder.eventToPushMs.paced.summary(),
      pushAfterAckMs: recorder.pushAfterAck(paced.fromMs, pacedPushEndMs).summary(),
      clientLoopDelayMs: {
        p50: round(loopDelay.percentile(50) / 1e6, 1),
        p99: round(loopDelay.percentile(99) / 1e6, 1),
        max: round(loopDelay.max / 1e6, 1),
      },
    },
    notAccepted: recorder.notAccepted,
    refusedFrames: recorder.refusedFrames,
    clientCpuSeconds: { user: round(cpu.user / 1e6, 2), system: round(cpu.system / 1e6, 2) },
    admin: adminSamples,
  };
  console.log(JSON.stringify(result));
}

await main();
