import { assert } from '../core/assert.js';
import type { Random } from './random.js';

/**
 * Where generated events go: numbers them (`e-1`, `e-2`, ...), batches them into ~1 MiB
 * strings for the writer (one `write` call per chunk, not per event, so a 500 MB file costs a
 * few hundred syscalls), and repeats a few of them verbatim shortly after, the way a client
 * retries a request whose answer it lost. Nothing is kept per event but the one pending retry.
 */

export const CHUNK_SIZE_MAX = 1 << 20;
/** Share of retriable events that are sent twice. */
export const DUPLICATE_RATE = 0.001;
/** A retry follows its original after 1..this many other events. */
export const DUPLICATE_DELAY_MAX = 8;

export class EventSink {
  events = 0;
  duplicates = 0;
  bytes = 0;
  private chunk = '';
  private nextEventNumber = 1;
  private pending: string | null = null;
  private pendingCountdown = 0;

  constructor(
    private readonly write: (chunk: string) => void,
    private readonly random: Random,
  ) {}

  /**
   * Emits one event; `body` is the JSON members after `id`, starting with `"type"`. Lines
   * are pure ASCII (ids, numbers, fixed keys), so a string's length is its size in bytes.
   * `retriable` events may be duplicated; period closes are not, so that the number of
   * period closes in a file is exactly the number of periods.
   */
  emit(body: string, retriable: boolean): void {
    const line = `{"id":"e-${this.nextEventNumber}",${body}}\n`;
    this.nextEventNumber += 1;
    this.append(line);
    if (this.pending !== null) {
      this.pendingCountdown -= 1;
      if (this.pendingCountdown === 0) this.flushRetry();
    } else if (retriable && this.random.chance(DUPLICATE_RATE)) {
      this.pending = line;
      this.pendingCountdown = 1 + this.random.below(DUPLICATE_DELAY_MAX);
    }
  }

  /** Sends a pending retry now: called at phase ends so a retry never crosses a phase. */
  flushRetry(): void {
    if (this.pending === null) return;
    this.append(this.pending);
    this.duplicates += 1;
    this.pending = null;
    this.pendingCountdown = 0;
  }

  /** Writes what is buffered; the sink may not be used afterwards. */
  finish(): void {
    this.flushRetry();
    if (this.chunk.length > 0) this.writeChunk();
  }

  private append(line: string): void {
    this.events += 1;
    this.chunk += line;
    if (this.chunk.length >= CHUNK_SIZE_MAX) this.writeChunk();
  }

  private writeChunk(): void {
    assert(this.chunk.length > 0, 'writing an empty chunk');
    this.bytes += this.chunk.length;
    this.write(this.chunk);
    this.chunk = '';
  }
}
