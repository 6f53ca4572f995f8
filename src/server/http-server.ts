import { pack } from 'msgpackr';
import uWS from 'uWebSockets.js';
import type { HttpRequest, HttpResponse, WebSocket, us_listen_socket } from 'uWebSockets.js';

import { UplineError } from '../core/errors.js';
import type { Engine } from '../engine/engine.js';
import type { EventResult } from '../events/result.js';
import type { Plan } from '../plan/plan.js';
import { AdminFeed } from './admin-feed.js';
import { GroupCommit } from './group-commit.js';
import { bodyFormatOf, decodeBody, type DecodedBody } from './ingest-body.js';
import { LiveHub, distributorTopic } from './live-hub.js';
import { ServerMetrics } from './metrics.js';
import { loadStaticAssets } from './static-assets.js';
import { Auth, bearerOf, type Principal } from './tokens.js';

export interface ServerOptions {
  readonly host: string;
  /** 0 picks a free port (tests); `UplineServer.port` tells which. */
  readonly port: number;
  readonly ingestKey: string;
  readonly adminToken: string;
  readonly secret: string;
  /** Largest ingest body (HTTP) or frame (WebSocket), bytes; past it: 413 / closed socket. */
  readonly maxBodyBytes: number;
  /** Most events in one body or frame. */
  readonly maxEventsPerBody: number;
  /** Events that may wait for the engine before callers are refused with 503. */
  readonly queuedEventsMax: number;
  /** Most events one engine pass (group commit) takes. */
  readonly passEventsMax: number;
  /** Bytes a live subscriber may fall behind before it is dropped (it reconnects, fresh). */
  readonly liveBackpressureBytes: number;
}

const ADMIN_TOPIC = 'admin';
const REFUSALS = {
  overloaded: 'ingest queue full',
  stopping: 'the server is stopping',
  engine_failed: 'the engine stopped after a failed commit; restart it to recover from the log',
} as const;
const ADMIN_TICK_MS = 1_000;
/** Told to a caller refused for a full queue: the engine drains a queue in well under this. */
const RETRY_AFTER_SECONDS = 1;
/** Frames one ingest socket may have waiting for answers before its next frames are refused. */
const INGEST_FRAMES_IN_FLIGHT_MAX = 64;
/** Close codes of the live feed the dashboard acts on (4000-4999 are the application's). */
const CLOSE_UNKNOWN_DISTRIBUTOR = 4404;
const CLOSE_SHUTTING_DOWN = 1001;

interface IngestSocket {
  readonly kind: 'ingest';
  /** The answer chain: frames are answered in the order they came, whatever finishes first. */
  tail: Promise<void>;
  inFlight: number;
  closed: boolean;
}

interface LiveSocket {
  readonly kind: 'live';
  readonly principal: Principal;
  closed: boolean;
}

type SocketData = IngestSocket | LiveSocket;

/** One HTTP exchange's state across awaits: uWS forbids touching `res` once it is aborted. */
interface Exchange {
  aborted: boolean;
  answered: boolean;
}

interface ErrorBody {
  readonly code: string;
  readonly message: string;
  readonly index?: number;
  readonly reason?: string;
}

/**
 * `upline serve`'s network side (SPEC 6) on uWebSockets.js: ingest over HTTP and WebSocket into
 * the group commit, live balances over pub/sub, the dashboard, and Prometheus metrics.
 */
export class UplineServer {
  readonly metrics = new ServerMetrics();
  readonly groupCommit: GroupCommit;
  readonly live: LiveHub;
  private readonly auth: Auth;
  private readonly app = uWS.App();
  private readonly sockets = new Set<WebSocket<SocketData>>();
  private readonly adminFeed: AdminFeed;
  private readonly adminTimer: NodeJS.Timeout;
  private listenSocket: us_listen_socket | null = null;
  private liveCount = 0;
  port = 0;

  private constructor(
    engine: Engine,
    plan: Plan,
    private readonly options: ServerOptions,
  ) {
    this.auth = new Auth(options);
    this.live = new LiveHub(engine.state, plan, (topic, message) => {
      this.app.publish(topic, message, false);
    });
    this.groupCommit = new GroupCommit(engine, plan, this.live, this.metrics, {
      queuedEventsMax: options.queuedEventsMax,
      passEventsMax: options.passEventsMax,
    });
    this.adminFeed = new AdminFeed(engine, this.groupCommit, () => this.liveCount);
    this.adminTimer = setInterval(() => {
      const figures = this.adminFeed.tick();
      this.app.publish(ADMIN_TOPIC, JSON.stringify(figures), false);
    }, ADMIN_TICK_MS);
    this.adminTimer.unref();
    this.routes();
  }

  static async start(engine: Engine, plan: Plan, options: ServerOptions): Promise<UplineServer> {
    const server = new UplineServer(engine, plan, options);
    await server.listen();
    return server;
  }

  /** Stops listening, closes every socket, and answers everything already taken. */
  async close(): Promise<void> {
    clearInterval(this.adminTimer);
    if (this.listenSocket !== null) uWS.us_listen_socket_close(this.listenSocket);
    this.listenSocket = null;
    await this.groupCommit.close();
    for (const socket of [...this.sockets]) socket.end(CLOSE_SHUTTING_DOWN, 'server stopping');
  }

  private listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.app.listen(this.options.host, this.options.port, (socket) => {
        if (socket === false) {
          const where = `${this.options.host}:${this.options.port}`;
          reject(new UplineError('UPLINE_IO', `cannot listen on ${where}`));
          return;
        }
        this.listenSocket = socket;
        this.port = uWS.us_socket_local_port(socket);
        resolve();
      });
    });
  }

  private routes(): void {
    const app = this.app;
    app.post('/v1/events', (res, req) => this.postEvents(res, req));
    app.any('/v1/events', (res) =>
      answerError(res, '405 Method Not Allowed', 'method_not_allowed'),
    );
    app.get('/v1/distributors/:id', (res, req) => this.getDistributor(res, req));
    app.get('/metrics', (res) => this.getMetrics(res));
    for (const [route, asset] of loadStaticAssets()) {
      app.get(route, (res) => {
        res.writeHeader('content-type', asset.contentType);
        res.writeHeader('cache-control', 'no-cache');
        res.end(asset.body);
      });
    }
    app.ws<SocketData>('/v1/ingest', {
      maxPayloadLength: this.options.maxBodyBytes,
      idleTimeout: 120,
      upgrade: (res, req, context) => {
        const key = bearerOf(req.getHeader('authorization')) || req.getQuery('key') || '';
        if (!this.auth.isIngestKey(key)) {
          answerError(res, '401 Unauthorized', 'unauthorized');
          return;
        }
        const data: IngestSocket = {
          kind: 'ingest',
          tail: Promise.resolve(),
          inFlight: 0,
          closed: false,
        };
        upgrade(res, req, context, data);
      },
      open: (ws) => this.opened(ws),
      message: (ws, message, isBinary) => this.ingestFrame(ws, message, isBinary),
      close: (ws) => this.closed(ws),
    });
    app.ws<SocketData>('/v1/live', {
      maxPayloadLength: 1024,
      idleTimeout: 120,
      sendPingsAutomatically: true,
      maxBackpressure: this.options.liveBackpressureBytes,
      closeOnBackpressureLimit: 1,
      upgrade: (res, req, context) => {
        const principal = this.auth.principal(req.getQuery('token') ?? '');
        if (principal === null) {
          answerError(res, '401 Unauthorized', 'unauthorized');
          return;
        }
        upgrade(res, req, context, { kind: 'live', principal, closed: false });
      },
      open: (ws) => this.liveOpened(ws),
      close: (ws) => this.closed(ws),
    });
    app.any('/*', (res) => answerError(res, '404 Not Found', 'not_found'));
  }

  private postEvents(res: HttpResponse, req: HttpRequest): void {
    const exchange: Exchange = { aborted: false, answered: false };
    res.onAborted(() => (exchange.aborted = true));
    if (!this.auth.isIngestKey(bearerOf(req.getHeader('authorization')))) {
      reply(res, exchange, '401 Unauthorized', errorJson('unauthorized', 'ingest key required'));
      return;
    }
    const format = bodyFormatOf(req.getHeader('content-type'));
    if (format === null) {
      const message =
        'Content-Type must be application/json, application/x-ndjson or application/msgpack';
      this.refuse(res, exchange, '415 Unsupported Media Type', {
        code: 'unsupported_media_type',
        message,
      });
      return;
    }
    const limit = this.options.maxBodyBytes;
    const declared = Number(req.getHeader('content-length') || '0');
    if (declared > limit) {
      this.tooLarge(res, exchange);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    res.onData((chunk, isLast) => {
      if (exchange.answered || exchange.aborted) return;
      size += chunk.byteLength;
      if (size > limit) {
        this.tooLarge(res, exchange);
        return;
      }
      // The chunk's memory is reused once this callback returns: copy it.
      chunks.push(Buffer.from(new Uint8Array(chunk).slice()));
      if (!isLast) return;
      const decoded = decodeBody(
        Buffer.concat(chunks, size),
        format,
        this.options.maxEventsPerBody,
      );
      void this.ingest(decoded).then((answer) => {
        if (answer.ok) {
          reply(res, exchange, '200 OK', JSON.stringify(answer.results));
        } else {
          this.refuse(res, exchange, answer.status, answer.problem, answer.retryAfter);
        }
      });
    });
  }

  private tooLarge(res: HttpResponse, exchange: Exchange): void {
    const message = `body over ${this.options.maxBodyBytes} bytes`;
    // The rest of the body is never read, so the connection cannot carry another request.
    const closeConnection = true;
    this.refuse(
      res,
      exchange,
      '413 Payload Too Large',
      { code: 'body_too_large', message },
      false,
      closeConnection,
    );
  }

  private refuse(
    res: HttpResponse,
    exchange: Exchange,
    status: string,
    problem: ErrorBody,
    retryAfter = false,
    closeConnection = false,
  ): void {
    this.metrics.countRefusal(problem);
    const headers: [string, string][] = retryAfter
      ? [['retry-after', String(RETRY_AFTER_SECONDS)]]
      : [];
    const body = JSON.stringify({ error: problem });
    reply(res, exchange, status, body, headers, 'application/json', closeConnection);
  }

  /** Decoded body → the group commit → results, or why not (400 / 503). */
  private async ingest(decoded: DecodedBody): Promise<IngestAnswer> {
    if (!decoded.ok) {
      const status =
        decoded.problem.code === 'too_many_events' ? '413 Payload Too Large' : '400 Bad Request';
      return { ok: false, status, problem: decoded.problem };
    }
    const pending = this.groupCommit.submit(decoded.events);
    if (pending === null) {
      const code = this.groupCommit.refusal;
      return {
        ok: false,
        status: '503 Service Unavailable',
        problem: { code, message: REFUSALS[code] },
        // Only a full queue clears by itself; a stopping or failed engine needs an operator.
        retryAfter: code === 'overloaded',
      };
    }
    try {
      return { ok: true, results: await pending };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      return {
        ok: false,
        status: '503 Service Unavailable',
        problem: { code: 'engine_failed', message },
      };
    }
  }

  private ingestFrame(ws: WebSocket<SocketData>, message: ArrayBuffer, isBinary: boolean): void {
    const data = ws.getUserData();
    if (data.kind !== 'ingest') return;
    let answer: Promise<IngestAnswer>;
    if (data.inFlight >= INGEST_FRAMES_IN_FLIGHT_MAX) {
      const problem: ErrorBody = { code: 'overloaded', message: 'too many frames in flight' };
      answer = Promise.resolve({ ok: false, status: '503', problem, retryAfter: true });
    } else {
      // Decoded now: the frame's memory is only valid during this callback.
      const bytes = new Uint8Array(message);
      const format = isBinary ? 'msgpack' : 'json';
      answer = this.ingest(decodeBody(bytes, format, this.options.maxEventsPerBody));
    }
    data.inFlight++;
    data.tail = data.tail
      .then(() => answer)
      .then((outcome) => {
        data.inFlight--;
        if (data.closed) return;
        if (!outcome.ok) this.metrics.countRefusal(outcome.problem);
        const body = outcome.ok ? outcome.results : { error: outcome.problem };
        ws.send(isBinary ? pack(body) : JSON.stringify(body), isBinary);
      });
  }

  private opened(ws: WebSocket<SocketData>): void {
    this.sockets.add(ws);
    this.metrics.connections.inc({ endpoint: ws.getUserData().kind });
  }

  private liveOpened(ws: WebSocket<SocketData>): void {
    this.opened(ws);
    this.liveCount++;
    const data = ws.getUserData();
    if (data.kind !== 'live') return;
    const principal = data.principal;
    if (principal.kind === 'admin') {
      ws.subscribe(ADMIN_TOPIC);
      ws.send(JSON.stringify(this.adminFeed.current), false);
      return;
    }
    // Watch first, then read: every change after the snapshot's seq reaches the feed.
    this.live.watch(principal.id);
    ws.subscribe(distributorTopic(principal.id));
    this.groupCommit.read(principal.id).then(
      (snapshot) => {
        if (data.closed) return;
        if (snapshot === null) {
          ws.end(CLOSE_UNKNOWN_DISTRIBUTOR, 'unknown distributor');
          return;
        }
        ws.send(JSON.stringify({ type: 'snapshot', ...snapshot }), false);
      },
      () => {
        if (!data.closed) ws.end(CLOSE_SHUTTING_DOWN, 'engine not taking requests');
      },
    );
  }

  private closed(ws: WebSocket<SocketData>): void {
    const data = ws.getUserData();
    data.closed = true;
    this.sockets.delete(ws);
    this.metrics.connections.dec({ endpoint: data.kind });
    if (data.kind !== 'live') return;
    this.liveCount--;
    if (data.principal.kind === 'distributor') this.live.unwatch(data.principal.id);
  }

  private getDistributor(res: HttpResponse, req: HttpRequest): void {
    const exchange: Exchange = { aborted: false, answered: false };
    res.onAborted(() => (exchange.aborted = true));
    const idText = req.getParameter(0) ?? '';
    const principal = this.auth.principal(bearerOf(req.getHeader('authorization')));
    const id = /^[1-9][0-9]{0,9}$/.test(idText) ? Number(idText) : Number.NaN;
    if (principal === null || (principal.kind === 'distributor' && principal.id !== id)) {
      reply(
        res,
        exchange,
        '401 Unauthorized',
        errorJson('unauthorized', 'token does not open this distributor'),
      );
      return;
    }
    if (!Number.isSafeInteger(id)) {
      reply(
        res,
        exchange,
        '404 Not Found',
        errorJson('not_found', `no distributor ${JSON.stringify(idText)}`),
      );
      return;
    }
    this.groupCommit.read(id).then(
      (snapshot) => {
        if (snapshot === null) {
          reply(res, exchange, '404 Not Found', errorJson('not_found', `no distributor ${id}`));
        } else {
          reply(res, exchange, '200 OK', JSON.stringify(snapshot));
        }
      },
      (error: unknown) => {
        const message = error instanceof Error ? error.message : String(error);
        reply(res, exchange, '503 Service Unavailable', errorJson('engine_failed', message));
      },
    );
  }

  private getMetrics(res: HttpResponse): void {
    const exchange: Exchange = { aborted: false, answered: false };
    res.onAborted(() => (exchange.aborted = true));
    if (!isLoopback(Buffer.from(res.getRemoteAddressAsText()).toString())) {
      reply(
        res,
        exchange,
        '403 Forbidden',
        errorJson('forbidden', 'metrics are served on loopback only'),
      );
      return;
    }
    const registry = this.metrics.registry;
    void registry.metrics().then((text) => {
      reply(res, exchange, '200 OK', text, [], registry.contentType);
    });
  }
}

type IngestAnswer =
  | { readonly ok: true; readonly results: EventResult[] }
  | {
      readonly ok: false;
      readonly status: string;
      readonly problem: ErrorBody;
      readonly retryAfter?: boolean;
    };

function upgrade(
  res: HttpResponse,
  req: HttpRequest,
  context: uWS.us_socket_context_t,
  data: SocketData,
) {
  res.upgrade<SocketData>(
    data,
    req.getHeader('sec-websocket-key'),
    req.getHeader('sec-websocket-protocol'),
    req.getHeader('sec-websocket-extensions'),
    context,
  );
}

function errorJson(code: string, message: string): string {
  return JSON.stringify({ error: { code, message } });
}

/** A synchronous error answer (inside a route handler, where uWS has already corked). */
function answerError(res: HttpResponse, status: string, code: string): void {
  res.writeStatus(status);
  res.writeHeader('content-type', 'application/json');
  res.end(errorJson(code, status.slice(4).toLowerCase()));
}

function reply(
  res: HttpResponse,
  exchange: Exchange,
  status: string,
  body: string,
  headers: readonly [string, string][] = [],
  contentType = 'application/json',
  closeConnection = false,
): void {
  if (exchange.aborted || exchange.answered) return;
  exchange.answered = true;
  res.cork(() => {
    res.writeStatus(status);
    res.writeHeader('content-type', contentType);
    for (const [name, value] of headers) res.writeHeader(name, value);
    res.end(body, closeConnection);
  });
}

/** uWS gives IPv4 as dotted text and IPv6 in full hex, IPv4-mapped included. */
export function isLoopback(address: string): boolean {
  const lower = address.toLowerCase();
  return (
    lower.startsWith('127.') ||
    lower === '::1' ||
    lower === '0000:0000:0000:0000:0000:0000:0000:0001' ||
    lower.startsWith('0000:0000:0000:0000:0000:ffff:7f')
  );
}
