import type { Engine } from '../engine/engine.js';
import type { GroupCommit } from './group-commit.js';

/** What the admin feed pushes once a second (SPEC 6 `WS /v1/live` with the admin token). */
export interface AdminFigures {
  readonly type: 'admin';
  readonly at: number;
  readonly eventsPerSecond: number;
  readonly commitLatencyMs: { readonly p50: number; readonly p99: number };
  readonly queueDepth: number;
  readonly distributors: number;
  readonly period: number;
  readonly seq: number;
  readonly liveConnections: number;
  readonly acceptedTotal: number;
  readonly duplicatesTotal: number;
  readonly rejectedTotal: number;
}

/** Turns the engine's running totals into per-second figures, one sample per tick. */
export class AdminFeed {
  private lastAnswered: number;
  private lastAtMs = Date.now();
  private lastRate = 0;
  private lastLatenciesMs: number[] = [];

  constructor(
    private readonly engine: Engine,
    private readonly groupCommit: GroupCommit,
    private readonly liveConnections: () => number,
  ) {
    this.lastAnswered = groupCommit.answeredEvents;
  }

  /** Figures now, with the last second's rates: for a new admin subscriber not to wait. */
  get current(): AdminFigures {
    return this.figures(this.lastRate, this.lastLatenciesMs);
  }

  tick(): AdminFigures {
    const now = Date.now();
    const answered = this.groupCommit.answeredEvents;
    const seconds = Math.max((now - this.lastAtMs) / 1000, 0.001);
    const rate = Math.round((answered - this.lastAnswered) / seconds);
    this.lastAnswered = answered;
    this.lastAtMs = now;
    this.lastRate = rate;
    this.lastLatenciesMs = this.groupCommit.takeLatencies().sort((a, b) => a - b);
    return this.figures(rate, this.lastLatenciesMs);
  }

  /** `latenciesMs` sorted ascending. */
  private figures(eventsPerSecond: number, latenciesMs: readonly number[]): AdminFigures {
    const counters = this.engine.counters;
    let rejectedTotal = 0;
    for (const count of counters.rejected.values()) rejectedTotal += count;
    return {
      type: 'admin',
      at: Date.now(),
      eventsPerSecond,
      commitLatencyMs: { p50: quantile(latenciesMs, 0.5), p99: quantile(latenciesMs, 0.99) },
      queueDepth: this.groupCommit.queuedEvents,
      distributors: this.engine.state.count,
      period: this.engine.state.period,
      seq: this.engine.state.lastSeq,
      liveConnections: this.liveConnections(),
      acceptedTotal: counters.accepted,
      duplicatesTotal: counters.duplicates,
      rejectedTotal,
    };
  }
}

/** Nearest-rank quantile of sorted values, rounded to 0.01 ms; 0 when there are none. */
function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  const index = Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1);
  return Math.round(sorted[Math.max(index, 0)]! * 100) / 100;
}
