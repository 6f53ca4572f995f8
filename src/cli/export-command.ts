import { existsSync } from 'node:fs';
import { UplineError } from '../core/errors.js';
import { Engine } from '../engine/engine.js';
import { parsePlan } from '../plan/plan.js';
import { Store } from '../store/store.js';
import { parseFlags, required } from './args.js';

const COMMAND = 'export';

/** `upline export --db FILE`: SPEC 4 on `write`, with the plan the database was made with. */
export async function exportCommand(
  args: readonly string[],
  write: (text: string) => void,
): Promise<void> {
  const flags = parseFlags(COMMAND, args, { db: { type: 'string' } });
  const dbFile = required(COMMAND, 'db', flags.db);
  if (!existsSync(dbFile)) throw new UplineError('UPLINE_IO', `${dbFile}: no such database`);
  const store = Store.open(dbFile, { readonly: true });
  const planJson = store.plan();
  store.close();
  if (planJson === undefined) {
    throw new UplineError('UPLINE_DB_MISMATCH', `${dbFile}: not an upline database (no plan)`);
  }
  const plan = parsePlan(JSON.parse(planJson), `${dbFile} plan`);
  const engine = await Engine.open({ plan, dbFile, workers: 0, batchSize: 4096 });
  try {
    let chunk = '';
    for (const line of engine.ledger.exportLines()) {
      chunk += line + '\n';
      if (chunk.length >= 1 << 20) {
        write(chunk);
        chunk = '';
      }
    }
    if (chunk !== '') write(chunk);
  } finally {
    await engine.close();
  }
}
