import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig, type Config } from '../config/config.js';
import { Engine } from '../engine/engine.js';
import { generateEvents } from '../generate/generate.js';
import { Random } from '../generate/random.js';
import { loadPlan } from '../plan/plan.js';
import { parseFlags } from './args.js';
import type { UplineEvent } from '../events/types.js';
import { UplineServer, type ServerOptions } from '../server/http-server.js';
import { distributorToken } from '../server/tokens.js';

const COMMAND = 'serve';
const STATUS_INTERVAL_MS = 5_000;
const DEMO_TICK_MS = 100;

/** The plan shipped with the package, used when the config names none. */
export const EMBEDDED_PLAN_FILE = fileURLToPath(
  new URL('../../../plans/reference.json', import.meta.url),
);

/**
 * `upline serve`: opens (and recovers) the engine, starts the network side (SPEC 6), and in
 * demo mode fills an empty database with a generated network and feeds gentle synthetic orders
 * through the same group commit as any client. Prints where the dashboard is and tokens to
 * open it with; stops cleanly on SIGINT/SIGTERM, answering everything already taken.
 */
export async function serveCommand(
  args: readonly string[],
  log: (line: string) => void,
  stopSignal: Promise<void>,
): Promise<void> {
  const flags = parseFlags(COMMAND, args, { config: { type: 'string' } });
  const config = loadConfig(flags.config);
  const plan = loadPlan(config.plan === '' ? EMBEDDED_PLAN_FILE : config.plan);
  mkdirSync(config.dataDir, { recursive: true });
  const dbFile = join(config.dataDir, 'upline.db');
  const engine = await Engine.open({
    plan,
    dbFile,
    workers: config.workers,
    batchSize: config.batch,
    synchronous: config.synchronous,
    capacity: {
      distributors: Math.max(config.distributorCapacity, config.demoDistributors),
      orders: config.orderCapacity,
      events: config.eventCapacity,
    },
    warn: (message) => log(JSON.stringify({ status: 'warning', message })),
  });
  let server: UplineServer | null = null;
  try {
    await seedDemoNetwork(engine, config, log);
    server = await UplineServer.start(engine, plan, serverOptions(config));
    const base = `http://${config.host}:${server.port}/`;
    const demoId = richestDistributor(engine);
    log(
      JSON.stringify({
        status: 'ready',
        db: dbFile,
        dashboard: base,
        distributors: engine.state.count,
        seq: engine.state.lastSeq,
      }),
    );
    if (demoId !== null) {
      const token = distributorToken(config.secret, demoId);
      log(`dashboard for distributor ${demoId}: ${base}?token=${encodeURIComponent(token)}`);
    }
    log(`admin dashboard: ${base}?token=${encodeURIComponent(config.adminToken)}`);
    const demo = new DemoStream(engine, server, config);
    let running = true;
    void stopSignal.then(() => (running = false));
    let lastStatus = Date.now();
    let lastAccepted = engine.counters.accepted;
    while (running) {
      demo.tick();
      await new Promise((resolve) => setTimeout(resolve, DEMO_TICK_MS));
      if (Date.now() - lastStatus >= STATUS_INTERVAL_MS) {
        const accepted = engine.counters.accepted;
        const seconds = (Date.now() - lastStatus) / 1000;
        log(
          JSON.stringify({
            status: 'running',
            eventsPerSecond: Math.round((accepted - lastAccepted) / seconds),
            distributors: engine.state.count,
            seq: engine.state.lastSeq,
            period: engine.state.period,
          }),
        );
        lastStatus = Date.now();
        lastAccepted = accepted;
      }
    }
  } finally {
    await server?.close();
    await engine.close();
  }
  log(JSON.stringify({ status: 'stopped', seq: engine.state.lastSeq }));
}

function serverOptions(config: Config): ServerOptions {
  return {
    host: config.host,
    port: config.port,
    ingestKey: config.ingestKey,
    adminToken: config.adminToken,
    secret: config.secret,
    maxBodyBytes: config.maxBodyBytes,
    maxEventsPerBody: config.maxEventsPerBody,
    queuedEventsMax: config.ingestQueueEvents,
    passEventsMax: config.batch,
    liveBackpressureBytes: config.liveBufferBytes,
  };
}

/** The demo distributor to show: the one who has earned most, so its page moves. */
function richestDistributor(engine: Engine): number | null {
  const { count, d } = engine.state;
  let best = -1;
  for (let slot = 0; slot < count; slot++) {
    if (best === -1 || d.balance[slot]! > d.balance[best]!) best = slot;
  }
  return best === -1 ? null : d.externalId[best]!;
}

async function seedDemoNetwork(
  engine: Engine,
  config: Config,
  log: (line: string) => void,
): Promise<void> {
  if (engine.state.lastSeq > 0 || config.demoDistributors === 0) return;
  log(JSON.stringify({ status: 'seeding demo network', distributors: config.demoDistributors }));
  let text = '';
  generateEvents(
    { distributors: config.demoDistributors, orders: config.demoDistributors * 2, seed: 1 },
    (chunk) => (text += chunk),
  );
  await engine.submit(text.split('\n').filter((line) => line !== ''));
}

/** Synthetic orders by random enrolled distributors, a few per tick. */
class DemoStream {
  private sequence = 0;
  private readonly prefix = `demo-${Date.now().toString(36)}`;
  /** Demo traffic needs no quality, only no dependency on Math.random: the generator's PRNG. */
  private readonly random = new Random(0x9e3779b9);

  constructor(
    private readonly engine: Engine,
    private readonly server: UplineServer,
    private readonly config: Config,
  ) {}

  /** Queues a tick's orders like any client; a full queue just skips the tick. */
  tick(): void {
    const count = Math.round((this.config.demoOrdersPerSecond * DEMO_TICK_MS) / 1000);
    const distributors = this.engine.state.count;
    if (count === 0 || distributors === 0) return;
    const events: UplineEvent[] = [];
    for (let index = 0; index < count; index++) {
      const slot = this.random.below(distributors);
      const id = `${this.prefix}-${this.sequence++}`;
      const pv = [25, 50, 100, 150][this.random.below(4)]!;
      events.push({
        id,
        type: 'order',
        at: Date.now(),
        order: id,
        distributor: this.engine.state.d.externalId[slot]!,
        pv,
        cv: pv * 100,
      });
    }
    void this.server.groupCommit.submit(events)?.catch(() => undefined);
  }
}
