import { parentPort, workerData } from 'node:worker_threads';
import { Store } from '../store/store.js';
import { loggedEvents, type CommitMessage, type CommitReply } from './commit-message.js';

/**
 * The commit thread: owns the database's only write connection and commits batches in the
 * order they arrive, one transaction each, answering each with its batch id. It runs beside
 * the sequencer thread, so SQLite's time overlaps the next batch's computation.
 */
const { dbFile, synchronous } = workerData as { dbFile: string; synchronous: 'FULL' | 'NORMAL' };
const store = Store.open(dbFile, { synchronous });
const port = parentPort;
if (port === null) throw new Error('commit-worker must run as a worker thread');

port.on('message', (message: CommitMessage | 'close') => {
  if (message === 'close') {
    store.close();
    port.close();
    return;
  }
  let reply: CommitReply;
  try {
    store.commitBatch(loggedEvents(message), message.lines, message.cursorSeq);
    reply = { batchId: message.batchId, ok: true };
  } catch (error) {
    reply = { batchId: message.batchId, ok: false, error: String((error as Error).stack ?? error) };
  }
  port.postMessage(reply);
});
