import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig, type Config } from '../config/config.js';
import { Engine } from '../engine/engine.js';
import { generateEvents } from '../generate/generate.js';
import { loadPlan } from '../plan/plan.js';
import { parseFlags } from './args.js';

const COMMAND = 'serve';
const STATUS_INTERVAL_MS = 5_000;
const DEMO_TICK_MS = 100;

/** The plan shipped with the package, used when the config names none. */
export const EMBEDDED_PLAN_FILE = fileURLToPath(
  new URL('../../../plans/reference.json', import.meta.url),
);

/**
 * `upline serve`: opens (and recovers) the engine on the config's defaults and runs its
 * ingest loop. Until the network front end lands, the loop is fed by the demo stream: an
 * empty database gets a generated demo network, then gentle synthetic orders arrive every
 * tick, and a status line is printed every few seconds. Stops cleanly on SIGINT/SIGTERM.
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
      distributors: config.distributorCapacity,
      orders: config.orderCapacity,
      events: config.eventCapacity,
    },
    warn: (message) => log(JSON.stringify({ status: 'warning', message })),
  });
  log(
    JSON.stringify({
      status: 'ready',
      db: dbFile,
      distributors: engine.state.count,
      seq: engine.state.lastSeq,
    }),
  );
  await seedDemoNetwork(engine, config);
  const demo = new DemoStream(engine, config);
  let running = true;
  void stopSignal.then(() => (running = false));
  let lastStatus = Date.now();
  let lastAccepted = engine.counters.accepted;
  while (running) {
    await demo.tick();
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
  await engine.close();
  log(JSON.stringify({ status: 'stopped', seq: engine.state.lastSeq }));
}

async function seedDemoNetwork(engine: Engine, config: Config): Promise<void> {
  if (engine.state.lastSeq > 0 || config.demoDistributors === 0) return;
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
  private state = 0x9e3779b9;

  constructor(
    private readonly engine: Engine,
    private readonly config: Config,
  ) {}

  async tick(): Promise<void> {
    const count = Math.round((this.config.demoOrdersPerSecond * DEMO_TICK_MS) / 1000);
    const distributors = this.engine.state.count;
    if (count === 0 || distributors === 0) return;
    const events: unknown[] = [];
    for (let index = 0; index < count; index++) {
      const slot = this.random() % distributors;
      const id = `${this.prefix}-${this.sequence++}`;
      const pv = [25, 50, 100, 150][this.random() % 4]!;
      events.push({
        id,
        type: 'order',
        at: Date.now(),
        order: id,
        distributor: this.engine.state.d.externalId[slot],
        pv,
        cv: pv * 100,
      });
    }
    await this.engine.submit(events);
  }

  /** xorshift32: demo traffic needs no quality, only no dependency on Math.random. */
  private random(): number {
    let x = this.state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.state = x >>> 0;
    return this.state;
  }
}
