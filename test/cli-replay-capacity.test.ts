/**
 * `upline replay --distributor-capacity N --order-capacity N --event-capacity N`: initial
 * table sizes, the config keys' meaning and bounds (config.ts). They may only change how the
 * tables are allocated, never a result: the summary's counts and the export must be those of
 * a replay without them, with a hint that fits the network and with one far too small (the
 * tables then grow past it). The snapshot the engine writes at close records each table's
 * capacity, which shows the hint reached the engine and the growth happened. Bad values exit
 * 1 with one line naming the flag, and create no database.
 */
import * as assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { CONFIGURED_CAPACITY_MAX } from '../native-layout/layouts.js';
import { stringIdsCapacityFor } from '../native-layout/string-ids.js';
import { readSnapshot, snapshotPathFor, type SnapshotImage } from '../src/engine/snapshot.js';
import { generateToFile } from '../src/generate/generate.js';
import {
  assertUsageError,
  parseReplaySummary,
  runCli,
  type ReplaySummaryLine,
} from './support/cli.js';
import { tempDir } from './support/pipeline.js';
import { planFile } from './support/plans.js';

const dir = tempDir('upline-replay-capacity-');
after(() => dir.dispose());

/** Enrollments, orders, refunds, withdrawals and three period closes. */
const eventsFile = join(dir.path, 'events.ndjson');
const stats = generateToFile(
  { distributors: 80, orders: 600, seed: 20261207, periodOrders: 200 },
  eventsFile,
);

let databaseCount = 0;
function freshDb(): string {
  return join(dir.path, `run-${databaseCount++}.db`);
}

/**
 * One worker and small batches, so tables outgrown mid-replay are handed over to a walk
 * thread between batches, as in a big replay.
 */
function replayArgs(dbFile: string, extra: readonly string[] = []): string[] {
  const files = ['--plan', planFile('reference'), '--events', eventsFile, '--db', dbFile];
  return ['replay', ...files, '--workers', '1', '--batch', '64', ...extra];
}

interface Replayed {
  readonly summary: ReplaySummaryLine;
  readonly exported: string;
  readonly snapshot: SnapshotImage;
}

async function replay(label: string, extra: readonly string[] = []): Promise<Replayed> {
  const dbFile = freshDb();
  const summary = parseReplaySummary(await runCli(replayArgs(dbFile, extra)), label);
  const exportEnd = await runCli(['export', '--db', dbFile]);
  assert.equal(exportEnd.code, 0, `${label}: export: ${exportEnd.stderr}`);
  const snapshot = readSnapshot(snapshotPathFor(dbFile));
  assert.ok(snapshot !== undefined, `${label}: the engine wrote a snapshot at close`);
  return { summary, exported: exportEnd.stdout, snapshot };
}

let plainRun: Promise<Replayed> | undefined;
/** The replay without hints that every other is compared with (run once). */
function plainReplay(): Promise<Replayed> {
  plainRun ??= replay('no hints');
  return plainRun;
}

function capacityFlags(distributors: number, orders: number, events: number): string[] {
  return [
    ...['--distributor-capacity', String(distributors)],
    ...['--order-capacity', String(orders)],
    ...['--event-capacity', String(events)],
  ];
}

/** Same counts and same export: the hints changed nothing but the allocation. */
function assertSameResults(run: Replayed, plain: Replayed, label: string): void {
  assert.equal(run.summary.accepted, plain.summary.accepted, `${label}: accepted`);
  assert.equal(run.summary.duplicates, plain.summary.duplicates, `${label}: duplicates`);
  assert.deepEqual(run.summary.rejected, plain.summary.rejected, `${label}: rejected`);
  assert.equal(run.exported, plain.exported, `${label}: export`);
}

function capacities(snapshot: SnapshotImage) {
  return {
    distributors: snapshot.distributors.capacity,
    orders: snapshot.orderBook.capacity,
    events: snapshot.eventIds.capacity,
  };
}

test('upline replay: capacity hints change no count and no export line', async () => {
  const plain = await plainReplay();
  assert.ok(plain.summary.accepted > stats.enrollments, 'the file is replayed');
  assert.ok(plain.exported.split('\n').length > 60, 'the export lists the network');

  // What an operator would configure: the file's own counts.
  const fitting = capacityFlags(stats.enrollments, stats.orders, stats.events);
  const sized = await replay('fitting hints', fitting);
  assertSameResults(sized, plain, 'fitting hints');
  // The hints reached the engine: every table has the size asked for, not the default, and
  // none had to grow.
  assert.deepEqual(capacities(sized.snapshot), {
    distributors: stats.enrollments,
    orders: stats.orders,
    events: stringIdsCapacityFor(stats.events),
  });
  const defaults = capacities(plain.snapshot);
  assert.notEqual(defaults.distributors, stats.enrollments, 'the default is another size');
  assert.notEqual(defaults.orders, stats.orders, 'the default is another size');
  assert.notEqual(defaults.events, stringIdsCapacityFor(stats.events), 'another size');
});

test('upline replay: hints smaller than the network are outgrown', async () => {
  const plain = await plainReplay();
  const tiny = await replay('hints of 1', capacityFlags(1, 1, 1));
  assertSameResults(tiny, plain, 'hints of 1');
  // Grown from 1 by doubling to hold the whole network.
  const grown = capacities(tiny.snapshot);
  const { count, orderCount } = tiny.snapshot.scalars;
  assert.ok(grown.distributors >= count && count > 1, `distributors ${grown.distributors}`);
  assert.equal(grown.distributors & (grown.distributors - 1), 0, 'doubled from 1');
  assert.ok(grown.orders >= orderCount && orderCount > 1, `orders ${grown.orders}`);
  assert.equal(grown.orders & (grown.orders - 1), 0, 'doubled from 1');
  const eventIdCount = tiny.snapshot.eventIds.size;
  assert.ok(grown.events > stringIdsCapacityFor(1), `event ids ${grown.events}`);
  assert.ok(grown.events >= stringIdsCapacityFor(eventIdCount), `event ids ${grown.events}`);

  // One hint alone: the other tables keep the engine's defaults.
  const partial = await replay('distributor hint only', ['--distributor-capacity', '4096']);
  assertSameResults(partial, plain, 'distributor hint only');
  const defaults = capacities(plain.snapshot);
  assert.deepEqual(capacities(partial.snapshot), { ...defaults, distributors: 4096 });
});

test('upline replay: a bad capacity exits 1 with one line naming the flag', async () => {
  const flags = ['--distributor-capacity', '--order-capacity', '--event-capacity'];
  const values = ['0', '-1', '1.5', 'ten', String(CONFIGURED_CAPACITY_MAX + 1), '2147483648'];
  for (const flag of flags) {
    for (const value of values) {
      const label = `${flag}=${value}`;
      const dbFile = freshDb();
      const end = await runCli(replayArgs(dbFile, [`${flag}=${value}`]));
      const message = assertUsageError(end, flag, label);
      // The config's bound, so a size valid in one place is valid in the other.
      const bound = `from 1 to ${CONFIGURED_CAPACITY_MAX}`;
      assert.ok(message.includes(bound), `${label}: the bound: ${message}`);
      assert.ok(!existsSync(dbFile), `${label}: no database is created`);
    }
  }
  // A value after a space that starts with a dash: util.parseArgs' own message, one line.
  const dbFile = freshDb();
  const end = await runCli(replayArgs(dbFile, ['--order-capacity', '-5']));
  assertUsageError(end, '--order-capacity', '--order-capacity -5');
  assert.ok(!existsSync(dbFile), 'no database is created');
});
