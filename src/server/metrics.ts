import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

import type { EventResult } from '../events/result.js';

/**
 * The server's Prometheus figures (`GET /metrics`), in a registry of its own so two servers in
 * one process (tests) never share counters. prom-client rather than hand-written exposition:
 * the text format's escaping, histogram buckets and process metrics are a solved problem.
 */
export class ServerMetrics {
  readonly registry = new Registry();
  readonly events = new Counter({
    name: 'upline_events_total',
    help: 'Events answered, by status (accepted, duplicate, rejected).',
    labelNames: ['status'] as const,
    registers: [this.registry],
  });
  readonly rejected = new Counter({
    name: 'upline_events_rejected_total',
    help: 'Events rejected by a rule of the plan, by reason.',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly bodiesRefused = new Counter({
    name: 'upline_ingest_bodies_refused_total',
    help: 'Ingest bodies or frames refused whole, by code (invalid_event carries a reason).',
    labelNames: ['code', 'reason'] as const,
    registers: [this.registry],
  });
  readonly commitEvents = new Histogram({
    name: 'upline_commit_batch_events',
    help: 'Events per group commit (one engine pass, one or more SQLite transactions).',
    buckets: [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536],
    registers: [this.registry],
  });
  readonly commitSeconds = new Histogram({
    name: 'upline_commit_latency_seconds',
    help: 'From a group commit taking its events to their being durable.',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly queueEvents = new Gauge({
    name: 'upline_ingest_queue_events',
    help: 'Events waiting for the next group commit.',
    registers: [this.registry],
  });
  readonly connections = new Gauge({
    name: 'upline_websocket_connections',
    help: 'Open WebSocket connections, by endpoint (ingest, live).',
    labelNames: ['endpoint'] as const,
    registers: [this.registry],
  });
  readonly distributors = new Gauge({
    name: 'upline_distributors',
    help: 'Distributors enrolled.',
    registers: [this.registry],
  });
  readonly seq = new Gauge({
    name: 'upline_committed_seq',
    help: 'The last committed sequence number.',
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'upline_' });
  }

  /** A body or frame refused whole (invalid_event carries the first bad event's reason). */
  countRefusal(problem: { readonly code: string; readonly reason?: string }): void {
    this.bodiesRefused.inc({ code: problem.code, reason: problem.reason ?? '' });
  }

  countResults(results: readonly EventResult[]): void {
    let accepted = 0;
    let duplicates = 0;
    for (const result of results) {
      if (result.status === 'accepted') accepted++;
      else if (result.status === 'duplicate') duplicates++;
      else this.rejected.inc({ reason: result.reason });
    }
    this.events.inc({ status: 'accepted' }, accepted);
    this.events.inc({ status: 'duplicate' }, duplicates);
    this.events.inc({ status: 'rejected' }, results.length - accepted - duplicates);
  }
}
