import { join } from 'node:path';
import WebSocket from 'ws';

import { Engine } from '../../src/engine/engine.js';
import type { Plan } from '../../src/plan/plan.js';
import { UplineServer, type ServerOptions } from '../../src/server/http-server.js';
import { distributorToken } from '../../src/server/tokens.js';
import { tempDir } from './pipeline.js';
import { referencePlan } from './plans.js';

export const INGEST_KEY = 'test-ingest-key-0123';
export const ADMIN_TOKEN = 'test-admin-token-0123';
export const SECRET = 'test-secret-0123456789abcdef';

export interface TestServer {
  readonly engine: Engine;
  readonly server: UplineServer;
  readonly plan: Plan;
  /** `http://127.0.0.1:PORT` */
  readonly base: string;
  readonly wsBase: string;
  readonly dbFile: string;
  tokenFor(id: number): string;
  /** POSTs events as JSON with the ingest key. */
  post(events: readonly unknown[]): Promise<Response>;
  /** The SPEC 4 export once everything taken is durable, as text. */
  exportNow(): Promise<string>;
  close(): Promise<void>;
}

export interface TestServerOptions {
  readonly plan?: Plan;
  readonly workers?: number;
  readonly batch?: number;
  readonly server?: Partial<ServerOptions>;
}

/** An engine and server on a free loopback port over a fresh database. */
export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const dir = tempDir('upline-server-');
  const plan = options.plan ?? referencePlan();
  const dbFile = join(dir.path, 'upline.db');
  const engine = await Engine.open({
    plan,
    dbFile,
    workers: options.workers ?? 0,
    batchSize: options.batch ?? 256,
    synchronous: 'NORMAL',
  });
  const server = await UplineServer.start(engine, plan, {
    host: '127.0.0.1',
    port: 0,
    ingestKey: INGEST_KEY,
    adminToken: ADMIN_TOKEN,
    secret: SECRET,
    maxBodyBytes: 1024 * 1024,
    maxEventsPerBody: 10_000,
    queuedEventsMax: 100_000,
    passEventsMax: 4096,
    liveBackpressureBytes: 1024 * 1024,
    ...options.server,
  });
  const base = `http://127.0.0.1:${server.port}`;
  let closed = false;
  return {
    engine,
    server,
    plan,
    base,
    wsBase: `ws://127.0.0.1:${server.port}`,
    dbFile,
    tokenFor: (id) => distributorToken(SECRET, id),
    post: (events) =>
      fetch(`${base}/v1/events`, {
        method: 'POST',
        headers: { authorization: `Bearer ${INGEST_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify(events),
      }),
    exportNow: async () => {
      // Only committed state may be exported: wait for everything taken to be answered.
      await server.groupCommit.settled();
      return [...engine.ledger.exportLines()].join('');
    },
    close: async () => {
      if (closed) return;
      closed = true;
      await server.close();
      await engine.close();
      dir.dispose();
    },
  };
}

/** A WebSocket client that queues every message it gets, for tests to await in order. */
export class TestSocket {
  readonly messages: unknown[] = [];
  private waiters: (() => void)[] = [];
  closeCode: number | null = null;

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data, isBinary) => {
      this.messages.push(isBinary ? data : JSON.parse(String(data)));
      this.wake();
    });
    socket.on('close', (code) => {
      this.closeCode = code;
      this.wake();
    });
  }

  /** Opens `url`; rejects with the HTTP status when the upgrade is refused. */
  static open(url: string, headers: Record<string, string> = {}): Promise<TestSocket> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url, { headers });
      socket.once('open', () => resolve(new TestSocket(socket)));
      socket.once('unexpected-response', (_request, response) => {
        reject(new Error(`upgrade refused: ${response.statusCode}`));
      });
      socket.once('error', reject);
    });
  }

  /** The next message not yet taken, waiting up to `timeoutMs`. */
  async next(timeoutMs = 5_000): Promise<unknown> {
    const deadline = Date.now() + timeoutMs;
    while (this.messages.length === 0) {
      if (this.closeCode !== null) throw new Error(`socket closed (${this.closeCode})`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('no message in time');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.messages.shift();
  }

  /** Waits until the server closes the socket; the close code. */
  async closed(timeoutMs = 5_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    while (this.closeCode === null) {
      if (Date.now() > deadline) throw new Error('socket not closed in time');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return this.closeCode;
  }

  close(): void {
    this.socket.close();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}
