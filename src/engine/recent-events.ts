import { assert } from '../core/assert.js';
import { orderIdOf, type UplineEvent } from '../events/types.js';

/**
 * The ids (and order ids) of the newest events by seq, in a ring. The string-id tables keep
 * only fingerprints, so on a fingerprint match the engine confirms the key against the event
 * that took it; events not yet committed can only be found here, and recent committed ones
 * are found here without a database read. Sized to hold every event not yet durable (the
 * open batch plus the batches in flight), which `recordedSpan` asserts.
 */
export class RecentEvents {
  private readonly ids: string[];
  private readonly orderIds: (string | undefined)[];
  private newestSeq = 0;
  /** The first seq recorded since the start or the last restart: older slots hold nothing. */
  private oldestSeq = 1;

  constructor(readonly capacity: number) {
    assert(Number.isInteger(capacity) && capacity >= 1, 'recent events capacity must be >= 1');
    this.ids = new Array<string>(capacity).fill('');
    this.orderIds = new Array<string | undefined>(capacity).fill(undefined);
  }

  record(seq: number, event: UplineEvent): void {
    assert(seq === this.newestSeq + 1, 'recent events must be recorded in seq order');
    const index = seq % this.capacity;
    this.ids[index] = event.id;
    this.orderIds[index] = orderIdOf(event) ?? undefined;
    this.newestSeq = seq;
  }

  /** Forgets everything (after a snapshot is adopted, seqs jump). */
  restartAt(seq: number): void {
    this.newestSeq = seq;
    this.oldestSeq = seq + 1;
  }

  holds(seq: number): boolean {
    return seq <= this.newestSeq && seq > this.newestSeq - this.capacity && seq >= this.oldestSeq;
  }

  idAt(seq: number): string | undefined {
    return this.holds(seq) ? this.ids[seq % this.capacity] : undefined;
  }

  orderIdAt(seq: number): string | undefined {
    return this.holds(seq) ? this.orderIds[seq % this.capacity] : undefined;
  }
}
