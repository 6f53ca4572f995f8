import { parentPort, workerData } from 'node:worker_threads';
import { Store } from '../store/store.js';
import { loggedEvents, type CommitMessage, type CommitReply } from './commit-message.js';
import { publishCommitted, publishFailed } from './commit-progress.js';
import type { CommitSettings } from './commit-writer.js';

/**
 * The commit thread: owns the database's only write connection and commits batches in the
 * order they arrive, one transaction each, publishing each batch id in the shared progress
 * (commit-progress.ts) as it commits. It runs beside the sequencer thread, so SQLite's time
 * overlaps the next batch's computation.
 */
const { dbFile, synchronous, indexChunkMin, progress } = workerData as CommitSettings & {
  progress: Int32Array;
};

/**
 * How long a commit waits for the write lock. The only other holder is the checkpoint
 * thread's RESTART, which keeps the lock while it waits for readers (up to its own 5 s
 * busy timeout) and then copies and syncs the WAL's remainder: on a loaded machine that
 * passed the 5 s default once, and the failed commit stopped the engine. Waiting longer
 * only delays answers; giving up loses the engine.
 */
const WRITER_BUSY_TIMEOUT_MS = 60_000;

// The checkpoint thread copies the WAL into the database file (store/checkpointer.ts).
const store = Store.open(dbFile, {
  synchronous,
  autoCheckpoint: false,
  indexChunkMin,
  busyTimeoutMs: WRITER_BUSY_TIMEOUT_MS,
});
const port = parentPort;
if (port === null) throw new Error('commit-worker must run as a worker thread');

port.on('message', (message: CommitMessage | 'close') => {
  if (message === 'close') {
    store.close();
    port.close();
    return;
  }
  try {
    store.commitBatch(loggedEvents(message), message.lines, message.cursorSeq, message.index);
  } catch (error) {
    publishFailed(progress, message.batchId);
    const reply: CommitReply = {
      batchId: message.batchId,
      ok: false,
      error: String((error as Error).stack ?? error),
    };
    port.postMessage(reply);
    return;
  }
  publishCommitted(progress, message.batchId);
});
