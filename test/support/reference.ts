import type { EventResult } from '../../src/events/result.js';
import type { Line, LineType } from '../../src/ledger/line.js';
import type { Plan } from '../../src/plan/plan.js';
import { ReferenceEngine } from '../../src/reference/engine.js';
import type { DistributorView } from '../../src/reference/state.js';

/** A line as `[beneficiary, type, level, amountCents]`: what hand-computed tests compare. */
export type LineTuple = readonly [number, LineType, number, number];

export function tuple(line: Line): LineTuple {
  return [line.beneficiary, line.type, line.level, line.amountCents];
}

/** Feeds events as NDJSON lines (so validation runs too) and returns the results. */
export function feed(engine: ReferenceEngine, events: readonly object[]): EventResult[] {
  return events.map((event) => engine.processLine(JSON.stringify(event)));
}

/** A new engine for `plan` that has processed `events`. */
export function run(plan: Plan, events: readonly object[]): ReferenceEngine {
  const engine = new ReferenceEngine(plan);
  for (const result of feed(engine, events)) {
    if (result.status !== 'accepted') {
      throw new Error(`setup event not accepted: ${JSON.stringify(result)}`);
    }
  }
  return engine;
}

/** The lines written by the event at `seq`, as tuples. */
export function linesAt(engine: ReferenceEngine, seq: number): LineTuple[] {
  return engine.lines.filter((line) => line.seq === seq).map(tuple);
}

/** Feeds one event, asserts it was accepted, returns the tuples of the lines it wrote. */
export function step(engine: ReferenceEngine, event: object): LineTuple[] {
  const result = engine.processLine(JSON.stringify(event));
  if (result.status !== 'accepted') {
    throw new Error(`event not accepted: ${JSON.stringify(result)}`);
  }
  return linesAt(engine, result.seq);
}

/** Current balance of a distributor (its export line's balance). */
export function balanceOf(engine: ReferenceEngine, distributor: number): number {
  const view = engine.distributor(distributor);
  if (view === undefined) throw new Error(`no distributor ${distributor}`);
  return view.balanceCents;
}

/** A distributor's state, failing the test if it does not exist. */
export function stateOf(engine: ReferenceEngine, distributor: number): DistributorView {
  const view = engine.distributor(distributor);
  if (view === undefined) throw new Error(`no distributor ${distributor}`);
  return view;
}
