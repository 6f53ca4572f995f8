import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

import {
  CHECKPOINT_INTERVAL_MS,
  CHECKPOINT_STOP,
  WAL_RESTART_PAGES,
  type CheckpointResult,
} from './checkpointer.js';

/**
 * The checkpoint thread (checkpointer.ts): its own connection copies committed WAL frames into
 * the database file with PASSIVE checkpoints, which never block the writer, every interval.
 * Only when the WAL has outgrown WAL_RESTART_PAGES (the writer never found it fully copied
 * at the start of a transaction, so never rewound it) does it RESTART, which waits for the
 * writer once, briefly, since PASSIVE has copied nearly everything already.
 */
const { dbFile, control } = workerData as { dbFile: string; control: Int32Array };
const db = new Database(dbFile);
db.pragma('busy_timeout = 5000');
// This connection never writes rows: it must not checkpoint on its own schedule either.
db.pragma('wal_autocheckpoint = 0');

function checkpoint(mode: 'PASSIVE' | 'RESTART'): CheckpointResult {
  const [row] = db.pragma(`wal_checkpoint(${mode})`) as CheckpointResult[];
  if (row === undefined) throw new Error('wal_checkpoint returned no row');
  return row;
}

try {
  while (Atomics.load(control, CHECKPOINT_STOP) === 0) {
    const passive = checkpoint('PASSIVE');
    if (passive.log >= WAL_RESTART_PAGES) checkpoint('RESTART');
    // Sleeps the interval, or less when close() notifies.
    Atomics.wait(control, CHECKPOINT_STOP, 0, CHECKPOINT_INTERVAL_MS);
  }
} finally {
  db.close();
  parentPort?.close();
}
