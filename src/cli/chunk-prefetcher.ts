import { performance } from 'node:perf_hooks';
import { assert } from '../core/assert.js';
import { checkInput, type Validated } from '../events/validate.js';

/** Lines read and parsed per turn of the event loop: about a millisecond of work. */
export const PREFETCH_SLICE_LINES = 512;

/** Where lines come from (a LineReader): fewer than asked only at the end. */
export interface LineSource {
  next(linesMax: number): string[];
}

/**
 * Reads and parses the next chunk of a replay file while the engine waits on its threads.
 *
 * The sequencer thread is a replay's critical path, yet it idles while the walk workers run a
 * batch and while the commit queue is full (about 11 of 74 s at 1M / 5M, profiled). Reading
 * and parsing depend on nothing but the file, so they fill those waits: the prefetcher does
 * one slice per `setImmediate` turn, and those turns come only while the engine awaits. A
 * slice is small because the engine resumes only once the slice in hand is done. What is left
 * of a chunk when the replay asks for it is finished there and then.
 *
 * (A parse thread handing chunks over as MessagePack records was measured too: the sequencer
 * decoded a chunk in half the time it parses one, yet the replay got slower, 74-88k against
 * 88-96k events/s on a 3M-event prefix, its sequence phase 17-21 s against 13.6-13.7.)
 *
 * Bounded: one chunk is prefetched while the engine works on the one before.
 */
export class ChunkPrefetcher {
  /** One per line read ahead, as `checkInput` answers; the lines themselves are not kept. */
  private validations: Validated[] = [];
  private ended = false;
  private scheduled: NodeJS.Immediate | null = null;
  /** A read that failed in the background, thrown to the caller by `take`. */
  private failure: { readonly error: unknown } | null = null;
  /** Seconds spent reading and parsing, wherever it happened. */
  readSeconds = 0;
  parseSeconds = 0;

  constructor(
    private readonly reader: LineSource,
    private readonly linesPerChunk: number,
  ) {
    assert(Number.isInteger(linesPerChunk) && linesPerChunk >= 1, 'lines per chunk >= 1');
    this.schedule();
  }

  /**
   * The next chunk's validations, one per line in file order (empty at the end of the file);
   * starts prefetching the chunk after it.
   */
  take(): Validated[] {
    if (this.scheduled !== null) clearImmediate(this.scheduled);
    this.scheduled = null;
    if (this.failure !== null) throw this.failure.error;
    while (!this.full()) this.slice();
    const chunk = this.validations;
    assert(chunk.length <= this.linesPerChunk, 'a chunk holds at most linesPerChunk lines');
    this.validations = [];
    this.schedule();
    return chunk;
  }

  /** Lines read and parsed ahead, ready for the next `take`. */
  get prefetched(): number {
    return this.validations.length;
  }

  /** Stops prefetching; the reader stays the caller's to close. */
  stop(): void {
    if (this.scheduled !== null) clearImmediate(this.scheduled);
    this.scheduled = null;
    this.ended = true;
  }

  private full(): boolean {
    return this.ended || this.validations.length >= this.linesPerChunk;
  }

  private schedule(): void {
    if (this.full()) return;
    this.scheduled = setImmediate(() => {
      this.scheduled = null;
      try {
        this.slice();
      } catch (error) {
        this.failure = { error };
        return;
      }
      this.schedule();
    });
  }

  private slice(): void {
    const want = Math.min(PREFETCH_SLICE_LINES, this.linesPerChunk - this.validations.length);
    const readStarted = performance.now();
    const lines = this.reader.next(want);
    const parseStarted = performance.now();
    this.readSeconds += (parseStarted - readStarted) / 1000;
    if (lines.length < want) this.ended = true;
    for (const line of lines) this.validations.push(checkInput(line));
    this.parseSeconds += (performance.now() - parseStarted) / 1000;
  }
}
