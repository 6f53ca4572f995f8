import { strict as assert } from 'node:assert';
import { test } from 'node:test';

import Database from 'better-sqlite3';

import { LineInserter } from '../src/store/batch-insert.js';
import {
  INDEX_NOTHING,
  INDEX_SEAL,
  IndexRuns,
  isIndexed,
  type IndexState,
} from '../src/store/index-runs.js';
import { LineBuffer } from '../src/ledger/line-buffer.js';
import { BENEFICIARY_END, SCHEMA_SQL } from '../src/store/schema.js';
import { seededRandom, syntheticBatch } from './fixtures/store-helpers.js';

test('a run is indexed over most commits until the next seal, and done before it', () => {
  const db = new Database(':memory:');
  db.exec(SCHEMA_SQL);
  const runs = new IndexRuns(new LineInserter(db), 1);
  // The engine's policy (Engine.indexControl): seal once a run's worth is gathered, this
  // commit's lines included, and no run is open.
  const runLines = 6_000;
  const random = seededRandom(2026);
  let state: IndexState = { cursor: 0, runEnd: 0, runFrom: BENEFICIARY_END };
  let cursor = 0;
  let gathered = 0;
  let seals = 0;
  let commitsMidRun = 0;
  const all = new LineBuffer();
  const commits = 600;
  for (let commit = 0; commit < commits; commit++) {
    // Up to 300 events of 3 lines: a commit brings at most 15% of a run.
    const batch = syntheticBatch(cursor, 1 + Math.floor(random() * 300), 3);
    cursor = batch.events.at(-1)!.seq;
    const open = state.cursor < state.runEnd;
    all.append(batch.lines);
    gathered += batch.lines.count;
    assert.ok(!open || gathered < runLines, `commit ${commit}: run open at ${gathered} gathered`);
    const seal = gathered >= runLines;
    state = runs.step(batch.lines, cursor, seal ? INDEX_SEAL : INDEX_NOTHING, state);
    if (seal) {
      seals++;
      gathered = 0;
    }
    if (state.cursor < state.runEnd) commitsMidRun++;
  }
  assert.ok(seals >= 30, `${seals} runs sealed`);
  // At a pace of 2 a run is done halfway to the next seal; the slower pace spreads it further.
  const share = commitsMidRun / commits;
  assert.ok(share > 0.55, `${share} of the commits carried a run's rows`);
  let expected = 0;
  for (let row = 0; row < all.count; row++) {
    if (isIndexed(state, all.beneficiary[row]!, all.seq[row]!)) expected++;
  }
  const indexed = db.prepare('SELECT count(*) FROM line_index').pluck().get();
  assert.ok(expected > 0);
  assert.equal(indexed, expected, 'the index holds what the state says, each line once');
  db.close();
});
