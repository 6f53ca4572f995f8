import { performance } from 'node:perf_hooks';

/**
 * Cumulative wall seconds the sequencer thread spent in each pipeline phase (docs/pipeline.md),
 * for benchmarks and operators: where does an event's time go? Timed per input chunk or per
 * batch, never per event, so the clock reads cost nothing measurable.
 *
 * - `parse`: JSON parse and validation of a chunk's inputs.
 * - `sequence`: dedupe, seq numbering and the serial phase (everything between the batch
 *   cuts that is not timed below).
 * - `walk`: the walk phase, waiting for the Piscina tasks (or walking inline).
 * - `merge`: the merge and answering each entry.
 * - `commit`: building the commit message and waiting for room in the commit queue, plus
 *   waiting for `durable` in `submit`: the time the sequencer is held back by SQLite.
 * - `close`: period close (SPEC 3.6), on the sequencer thread.
 * - `snapshot`: draining the commit queue and writing a snapshot.
 */
export interface PhaseSeconds {
  parse: number;
  sequence: number;
  walk: number;
  merge: number;
  commit: number;
  close: number;
  snapshot: number;
}

export type Phase = keyof PhaseSeconds;

export function zeroPhaseSeconds(): PhaseSeconds {
  return { parse: 0, sequence: 0, walk: 0, merge: 0, commit: 0, close: 0, snapshot: 0 };
}

/** Accumulates `performance.now()` spans into phases. */
export class PhaseTimer {
  readonly seconds: PhaseSeconds = zeroPhaseSeconds();

  /** Adds the time since `startedMs` (a `performance.now()`) to `phase`; returns now. */
  add(phase: Phase, startedMs: number): number {
    const now = performance.now();
    this.seconds[phase] += (now - startedMs) / 1000;
    return now;
  }

  reset(): void {
    Object.assign(this.seconds, zeroPhaseSeconds());
  }
}
