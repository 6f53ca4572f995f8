/**
 * Durability and exactly-once through the whole pipeline (SPEC 2: "replaying the same log
 * twice, or after a crash, gives the same state as replaying it once").
 *
 * A generated stream is replayed once without interruption (the baseline). Then the same
 * `upline replay` runs on fresh databases and is SIGKILLed, restarted, killed again, and
 * finally run to its end; the restarted replays re-read the whole file, so every event
 * committed before a kill comes back as a duplicate. After every kill a read-only connection
 * checks the store's crash invariants, and at the end the event log, the full ledger and the
 * export must equal the baseline's: no event or line is lost or written twice.
 *
 * Two kinds of kill point:
 * - random-time: a seeded random delay within the first half of the baseline's duration, so
 *   kills land in startup, recovery, the walk, between commits or inside one;
 * - mid-commit: the fixture `fixtures/pipeline-crash-replay.ts` (the same `replayCommand`)
 *   kills its own process inside the N-th batch's SQLite transaction, after rows were
 *   inserted and before COMMIT, so every one of these is certain to hit an open transaction.
 */
import * as assert from 'node:assert/strict';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { generateToFile } from '../src/generate/generate.js';
import {
  parseReplaySummary,
  runCli,
  runNode,
  summaryTotal,
  type ChildEnd,
  type ReplaySummaryLine,
} from './support/cli.js';
import {
  assertLogInvariants,
  readEventLog,
  readIndexState,
  type EventLogRow,
} from './support/event-log.js';
import { readDatabase, tempDir, type LedgerRow } from './support/pipeline.js';
import { planFile } from './support/plans.js';
import { seededRandom } from './fixtures/store-helpers.js';
import {
  CRASH_FIXTURE_ENV,
  KILL_AT_COMMIT_ENV,
  KILL_IN_RUN_ENV,
} from './fixtures/pipeline-crash-replay.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/pipeline-crash-replay.js', import.meta.url));
const SEED = 20261124;
const BATCH = 64;
/** Kills per database before it is replayed to completion; chains * kills = kill points. */
const CHAINS = 2;
const KILLS_PER_CHAIN = 5;
/** The stream's events are ~290 batches of 64; 5 kills of at most 40 commits never finish. */
const KILL_AT_COMMIT_MAX = 40;

const dir = tempDir('upline-pipeline-crash-');
after(() => dir.dispose());
const eventsFile = join(dir.path, 'events.ndjson');
const plan = planFile('reference');

interface Baseline {
  readonly summary: ReplaySummaryLine;
  readonly durationMs: number;
  readonly exportText: string;
  readonly ledger: LedgerRow[];
  readonly log: EventLogRow[];
}

let baseline: Baseline | undefined;
let databaseCount = 0;

function freshDb(): string {
  return join(dir.path, `replay-${databaseCount++}.db`);
}

function replayArgs(dbFile: string, workers = 2): string[] {
  const args = ['--plan', plan, '--events', eventsFile, '--db', dbFile];
  return [...args, '--workers', String(workers), '--batch', String(BATCH)];
}

before(async () => {
  generateToFile({ distributors: 3000, orders: 15_000, seed: SEED }, eventsFile);
  const dbFile = freshDb();
  const started = performance.now();
  const end = await runCli(['replay', ...replayArgs(dbFile)]);
  const durationMs = performance.now() - started; // only to spread the kill delays
  const summary = parseReplaySummary(end, 'baseline replay');
  const { exportText, ledger } = await readDatabase(dbFile);
  baseline = { summary, durationMs, exportText, ledger, log: readEventLog(dbFile) };
  assert.ok(ledger.length > 10_000, 'the baseline writes a real ledger');
  assert.equal(baseline.log.length, baseline.summary.accepted + ruleRejected(summary));
});

function ruleRejected(summary: ReplaySummaryLine): number {
  // The generated file is well formed: every rejection is a rule rejection (it takes a seq).
  return Object.values(summary.rejected).reduce((sum, count) => sum + count, 0);
}

function theBaseline(): Baseline {
  assert.ok(baseline !== undefined, 'the baseline ran');
  return baseline;
}

/**
 * After the kills: one uninterrupted replay on the same database, which must account for the
 * events committed before it (`cursor` of them come back as duplicates) and leave exactly the
 * baseline's log, ledger and export.
 */
async function finishAndCompare(dbFile: string, cursor: number, label: string): Promise<void> {
  const expected = theBaseline();
  const summary = parseReplaySummary(await runCli(['replay', ...replayArgs(dbFile)]), label);
  assert.equal(summaryTotal(summary), summaryTotal(expected.summary), `${label}: every line`);
  assert.equal(
    summary.duplicates,
    expected.summary.duplicates + cursor,
    `${label}: the ${cursor} events committed before the restart come back as duplicates`,
  );
  assert.equal(assertLogInvariants(dbFile, label), expected.log.length);
  assert.deepEqual(readEventLog(dbFile), expected.log, `${label}: event log`);
  const actual = await readDatabase(dbFile);
  assert.deepEqual(actual.ledger, expected.ledger, `${label}: ledger`);
  assert.equal(actual.exportText, expected.exportText, `${label}: export`);
}

function childReport(end: ChildEnd): string {
  return `exit ${end.code} signal ${end.signal}\n${end.stdout}${end.stderr}`;
}

test('SIGKILL at seeded random moments, restart: same log, ledger, export', async (t) => {
  const { durationMs } = theBaseline();
  const random = seededRandom(SEED);
  let kills = 0;
  for (let chain = 0; chain < CHAINS; chain++) {
    const dbFile = freshDb();
    let cursor = 0;
    // A kill that comes too late (the replay already ended) is no kill point: try again.
    const killsWanted = (chain + 1) * KILLS_PER_CHAIN;
    for (let attempt = 0; attempt < 3 * KILLS_PER_CHAIN && kills < killsWanted; attempt++) {
      // Within the first half of a full replay's time: a restart spends part of it on
      // startup, recovery and skipping duplicates, so later kills in a chain still land.
      const killAfterMs = Math.round(durationMs * (0.1 + 0.5 * random()));
      const label = `chain ${chain} attempt ${attempt} (kill after ${killAfterMs} ms)`;
      const end = await runCli(['replay', ...replayArgs(dbFile, attempt % 2 === 0 ? 2 : 0)], {
        killAfterMs,
      });
      if (end.signal === 'SIGKILL') {
        kills++;
      } else {
        assert.equal(end.code, 0, `${label}: ${childReport(end)}`);
        t.diagnostic(`${label}: the replay ended before the kill`);
      }
      const next = assertLogInvariants(dbFile, label);
      assert.ok(next >= cursor, `${label}: cursor went back from ${cursor} to ${next}`);
      t.diagnostic(`${label}: cursor ${cursor} -> ${next}`);
      cursor = next;
    }
    const total = theBaseline().log.length;
    t.diagnostic(`chain ${chain}: cursor ${cursor} of ${total} before the last run`);
    await finishAndCompare(dbFile, cursor, `random chain ${chain}`);
  }
  assert.equal(kills, CHAINS * KILLS_PER_CHAIN, 'every planned random-time kill happened');
});

test('SIGKILL inside a commit transaction, restart: same log, ledger, export', async (t) => {
  const random = seededRandom(SEED + 1);
  // Kills that left a line index run half inserted: every odd kill waits for one.
  let midRun = 0;
  for (let chain = 0; chain < CHAINS; chain++) {
    const dbFile = freshDb();
    let cursor = 0;
    for (let kill = 0; kill < KILLS_PER_CHAIN; kill++) {
      // The first kill of a chain hits the very first commit of a fresh database.
      const killAtCommit = kill === 0 ? 1 : 1 + Math.floor(random() * KILL_AT_COMMIT_MAX);
      const label = `chain ${chain} kill ${kill} (inside commit ${killAtCommit})`;
      const end = await runNode(FIXTURE, replayArgs(dbFile, kill % 2 === 0 ? 2 : 0), {
        env: {
          [CRASH_FIXTURE_ENV]: '1',
          [KILL_AT_COMMIT_ENV]: String(killAtCommit),
          // Odd kills wait for a run half indexed (the fixture makes runs small).
          [KILL_IN_RUN_ENV]: kill % 2 === 1 ? '1' : '0',
        },
      });
      assert.equal(
        end.signal,
        'SIGKILL',
        `${label}: the fixture must die inside a commit (do commits still go through ` +
          `EventInserter.insert, on the replay thread or an upline worker?): ${childReport(end)}`,
      );
      const next = assertLogInvariants(dbFile, label);
      const index = readIndexState(dbFile);
      if (index.cursor < index.runEnd) midRun++;
      t.diagnostic(`${label}: cursor ${next}, index ${JSON.stringify(index)}`);
      // Commits 1 .. N-1 of this process are durable; the N-th was rolled back.
      if (killAtCommit > 1) assert.ok(next > cursor, `${label}: no progress from ${cursor}`);
      else assert.equal(next, cursor, `${label}: the killed first commit left rows`);
      cursor = next;
    }
    await finishAndCompare(dbFile, cursor, `mid-commit chain ${chain}`);
  }
  const runKills = CHAINS * Math.floor(KILLS_PER_CHAIN / 2);
  assert.ok(midRun >= runKills, `${midRun} kills left a run half indexed, want >= ${runKills}`);
});
