/**
 * The commit thread's progress, shared with the sequencer thread through one small
 * SharedArrayBuffer, so the sequencer learns of a commit without an event-loop turn (it runs
 * whole batches synchronously and would otherwise read replies late, then wait for room that
 * is already free while the commit thread idles).
 *
 *   slot 0  COMMITTED  id of the last batch whose transaction committed (ids start at 1)
 *   slot 1  FAILED     id of the batch whose commit failed, or 0
 *
 * Handshake: the commit thread commits batch N, then `Atomics.store(COMMITTED, N)` and
 * `Atomics.notify(COMMITTED)`. The sequencer reads COMMITTED with `Atomics.load` before it
 * trusts a batch as durable (its lines may then be read from SQLite) and, when the queue is
 * full, sleeps in `Atomics.waitAsync(COMMITTED, current)` until the value moves. Batches
 * commit in order, so COMMITTED = N means every batch up to N is durable. A failure sets
 * FAILED before COMMITTED would have moved, and the details follow as a message.
 */
export const PROGRESS_COMMITTED = 0;
export const PROGRESS_FAILED = 1;
const PROGRESS_SLOTS = 2;

export function createProgress(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(PROGRESS_SLOTS * Int32Array.BYTES_PER_ELEMENT));
}

/** The commit thread's side: publishes that `batchId` is durable and wakes the sequencer. */
export function publishCommitted(progress: Int32Array, batchId: number): void {
  Atomics.store(progress, PROGRESS_COMMITTED, batchId);
  Atomics.notify(progress, PROGRESS_COMMITTED);
}

export function publishFailed(progress: Int32Array, batchId: number): void {
  Atomics.store(progress, PROGRESS_FAILED, batchId);
  Atomics.notify(progress, PROGRESS_COMMITTED);
}
