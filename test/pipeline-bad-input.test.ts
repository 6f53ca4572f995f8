/**
 * Bad input never crashes the engine and never changes state (SPEC 2: "A rejected event never
 * stops the engine and never changes any state"; SPEC 7.1, 7.9; docs/plan-semantics.md).
 *
 * A small generated stream, plus two distributors of our own, is run twice through the
 * pipeline: clean, and with a bad line before each of a series of probe orders. Every bad line
 * must be answered `rejected` with its exact reason code, the probe right after it must be
 * accepted, and the export, ledger and event log must be those of the clean run:
 * - a line that fails validation takes no seq and no id, so all three are byte-identical;
 * - a valid event rejected by a rule (unknown distributor, unknown order, ...) takes a seq
 *   and its id, so the ledger is compared with each line's seq named by its event's id.
 * The serial reference must give the same answers on the dirty stream. Then the same through
 * `upline replay` (exit 0, counts by reason) and its usage errors (exit 1, one line naming the
 * file or flag), and a seeded fast-check fuzz of junk and mutated events.
 */
import * as assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import * as fc from 'fast-check';
import { ruleReasonCode, type RuleReason } from '../src/events/reasons.js';
import type { EventResult } from '../src/events/result.js';
import { DEFAULT_START_AT_MS, generateEvents } from '../src/generate/generate.js';
import {
  ruleBadLines,
  validationBadLines,
  type BadLine,
  type BadLineContext,
} from './support/bad-input.js';
import { assertUsageError, parseReplaySummary, runCli } from './support/cli.js';
import { idsBySeq, ledgerByEventId, readEventLog } from './support/event-log.js';
import {
  runPipeline,
  runReference,
  tempDir,
  type PipelineRun,
  type RunOutcome,
} from './support/pipeline.js';
import { planFile, referencePlan } from './support/plans.js';
import { eventLines } from './support/random-stream.js';

const SEED = 20261124;
const plan = referencePlan();
const dir = tempDir('upline-bad-input-');
after(() => dir.dispose());

let databaseCount = 0;
function freshDb(): string {
  return join(dir.path, `run-${databaseCount++}.db`);
}

/** A small realistic stream: enrollments, orders, refunds, withdrawals, three period closes. */
function generatedLines(): string[] {
  let text = '';
  const options = { distributors: 60, orders: 450, seed: SEED, periodOrders: 150 };
  generateEvents(options, (chunk) => (text += chunk));
  return text.split('\n').filter((line) => line !== '');
}

const generated = generatedLines();
const enrolled = new Set(
  generated
    .map((line) => JSON.parse(line) as { type: string; distributor?: number })
    .filter((event) => event.type === 'enroll')
    .map((event) => event.distributor),
);
/** Our own distributors, and ids nobody enrolls (the generator's ids are random in 1..2^31-1). */
const ROOT = 2_000_000_001;
const MEMBER = 2_000_000_002;
const NOBODY = 2_000_000_003; // NOBODY + 1 is unused too
for (const id of [ROOT, MEMBER, NOBODY, NOBODY + 1]) assert.ok(!enrolled.has(id), `${id} is free`);

const context: BadLineContext = {
  root: ROOT,
  member: MEMBER,
  nobody: NOBODY,
  takenEventId: 'probe-root',
  takenOrderId: 'probe-o0',
  at: DEFAULT_START_AT_MS,
};

const at = DEFAULT_START_AT_MS;
/**
 * Enrolls ROOT and MEMBER under it; both order (`probe-o0` is MEMBER's), so ROOT is active
 * and earns fast start and unilevel lines from MEMBER's orders until the first period close.
 */
const HEADER = [
  { id: 'probe-root', type: 'enroll', at, distributor: ROOT, sponsor: null },
  { id: 'probe-member', type: 'enroll', at, distributor: MEMBER, sponsor: ROOT },
  { id: 'probe-active', type: 'order', at, order: 'probe-or', distributor: ROOT, pv: 100, cv: 0 },
  { id: 'probe-1st', type: 'order', at, order: 'probe-o0', distributor: MEMBER, pv: 100, cv: 900 },
].map((event) => JSON.stringify(event));

/** The valid order after each bad line: it must be accepted (and pays ROOT while active). */
function probe(index: number, atMs: number): string {
  const [id, order] = [`probe-${index}`, `probe-o${index + 1}`];
  const event = { id, type: 'order', at: atMs, order, distributor: MEMBER, pv: 20, cv: 700 };
  return JSON.stringify(event);
}

interface Streams {
  readonly clean: string[];
  readonly dirty: string[];
  /** Index in `dirty` of each bad line, and of the probe right after it. */
  readonly badAt: number[];
  readonly probeAt: number[];
}

/** The header, then the generated stream with bad line + probe pairs spread through it. */
function streams(bad: readonly BadLine[]): Streams {
  const clean = [...HEADER];
  const dirty = [...HEADER];
  const badAt: number[] = [];
  const probeAt: number[] = [];
  let next = 0;
  const placeAt = (index: number) => Math.floor((index * generated.length) / bad.length);
  generated.forEach((line, position) => {
    const atMs = (JSON.parse(line) as { at: number }).at;
    for (; next < bad.length && placeAt(next) <= position; next++) {
      badAt.push(dirty.length);
      dirty.push(bad[next]!.line);
      probeAt.push(dirty.length);
      dirty.push(probe(next, atMs));
      clean.push(probe(next, atMs));
    }
    clean.push(line);
    dirty.push(line);
  });
  assert.equal(badAt.length, bad.length, 'every bad line is placed');
  return { clean, dirty, badAt, probeAt };
}

function withoutIndexes<T>(items: readonly T[], indexes: readonly number[]): T[] {
  const skip = new Set(indexes);
  return items.filter((_, index) => !skip.has(index));
}

/** The pipeline on the dirty stream answers, exports and writes what the serial oracle does. */
function assertEqualsReference(actual: RunOutcome, lines: readonly string[], label: string) {
  const expected = runReference(plan, lines);
  assert.deepEqual(actual.results, expected.results, `${label}: results vs reference`);
  assert.equal(actual.exportText, expected.exportText, `${label}: export vs reference`);
  assert.deepEqual(actual.ledger, expected.ledger, `${label}: ledger vs reference`);
}

function assertProbesAccepted(
  results: readonly EventResult[],
  streams: Streams,
  bad: readonly BadLine[],
): void {
  streams.probeAt.forEach((index, badIndex) => {
    const name = bad[badIndex]!.name;
    assert.equal(results[index]?.status, 'accepted', `the event after "${name}" is accepted`);
  });
}

const DIRTY_RUNS: readonly PipelineRun[] = [
  { workers: 2, batchSize: 7, submitSize: 50 },
  { workers: 0, batchSize: 1, submitSize: 1000 },
];
const CLEAN_RUN: PipelineRun = { workers: 2, batchSize: 64, submitSize: 1000 };

test('failing validation: exact reason, no seq, engine goes on, state byte-identical', async () => {
  const bad = validationBadLines(context);
  const lines = streams(bad);
  const cleanDb = freshDb();
  const clean = await runPipeline(plan, lines.clean, cleanDb, CLEAN_RUN);
  for (const run of DIRTY_RUNS) {
    const label = `workers ${run.workers}, batch ${run.batchSize}`;
    const dirtyDb = freshDb();
    const dirty = await runPipeline(plan, lines.dirty, dirtyDb, run);
    lines.badAt.forEach((index, badIndex) => {
      const { name, reason } = bad[badIndex]!;
      const expected = { seq: null, status: 'rejected', reason };
      assert.deepEqual(dirty.results[index], expected, `"${name}" (${label})`);
    });
    assertProbesAccepted(dirty.results, lines, bad);
    const answered = withoutIndexes(dirty.results, lines.badAt);
    assert.deepEqual(answered, clean.results, `${label}: every other answer unchanged`);
    assert.equal(dirty.exportText, clean.exportText, `${label}: export`);
    assert.deepEqual(dirty.ledger, clean.ledger, `${label}: ledger`);
    assert.deepEqual(readEventLog(dirtyDb), readEventLog(cleanDb), `${label}: event log`);
    assertEqualsReference(dirty, lines.dirty, label);
  }
});

/** An answer without its seq (which a rule-rejected event before it shifts by one). */
function outcomeOf(result: EventResult | undefined): unknown {
  assert.ok(result !== undefined, 'every line is answered');
  const { seq: _seq, ...outcome } = result;
  return outcome;
}

test('unknown or taken ids: rule reason, engine goes on, no state', async () => {
  const bad = ruleBadLines(context);
  const lines = streams(bad);
  // Sent again at the end, each is a duplicate that repeats its first outcome.
  const dirtyLines = [...lines.dirty, ...bad.map((line) => line.line)];
  const cleanDb = freshDb();
  const dirtyDb = freshDb();
  const clean = await runPipeline(plan, lines.clean, cleanDb, CLEAN_RUN);
  const dirty = await runPipeline(plan, dirtyLines, dirtyDb, DIRTY_RUNS[0]!);
  const dirtyLog = readEventLog(dirtyDb);
  const badIds = new Set<string>();
  lines.badAt.forEach((index, badIndex) => {
    const { name, line, reason } = bad[badIndex]!;
    const result = dirty.results[index];
    assert.ok(result?.status === 'rejected', `"${name}" is rejected: ${JSON.stringify(result)}`);
    assert.equal(result.reason, reason, `"${name}" reason`);
    assert.ok(result.seq !== null, `"${name}" is valid: it takes a seq`);
    const id = (JSON.parse(line) as { id: string }).id;
    badIds.add(id);
    const logged = dirtyLog[result.seq - 1];
    assert.ok(logged !== undefined, `"${name}" is logged`);
    assert.deepEqual([logged[0], logged[1]], [result.seq, id], `"${name}" is logged`);
    assert.equal(logged[4], ruleReasonCode(reason as RuleReason), `"${name}" logged outcome`);
    const again = dirty.results[lines.dirty.length + badIndex];
    const first = { status: 'rejected', reason };
    assert.deepEqual(again, { seq: result.seq, status: 'duplicate', first }, `"${name}" again`);
  });
  assertProbesAccepted(dirty.results, lines, bad);
  const answered = withoutIndexes(dirty.results.slice(0, lines.dirty.length), lines.badAt);
  assert.deepEqual(answered.map(outcomeOf), clean.results.map(outcomeOf), 'other answers');
  assert.equal(dirty.exportText, clean.exportText, 'export');
  const cleanLog = readEventLog(cleanDb);
  assert.deepEqual(
    ledgerByEventId(dirty.ledger, idsBySeq(dirtyLog)),
    ledgerByEventId(clean.ledger, idsBySeq(cleanLog)),
    'ledger, lines named by event id',
  );
  const withoutSeq = (rows: typeof dirtyLog) => rows.map(([, ...rest]) => rest);
  const dirtyOthers = dirtyLog.filter((row) => !badIds.has(row[1]));
  assert.deepEqual(withoutSeq(dirtyOthers), withoutSeq(cleanLog), 'the rest of the event log');
  assertEqualsReference(dirty, dirtyLines, 'rule rejects');
});

function countReasons(bad: readonly BadLine[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const { reason } of bad) counts.set(reason, (counts.get(reason) ?? 0) + 1);
  return counts;
}

function replayArgs(eventsFile: string, dbFile: string): string[] {
  return ['replay', '--plan', planFile('reference'), '--events', eventsFile, '--db', dbFile];
}

test('upline replay: bad lines counted by reason, exit 0, same export as without', async () => {
  const bad = [...validationBadLines(context), ...ruleBadLines(context)];
  const lines = streams(bad);
  const cleanFile = join(dir.path, 'clean.ndjson');
  const dirtyFile = join(dir.path, 'dirty.ndjson');
  writeFileSync(cleanFile, lines.clean.join('\n') + '\n');
  const middle = Math.floor(lines.dirty.length / 2);
  writeFileSync(
    dirtyFile,
    Buffer.concat([
      Buffer.from(lines.dirty.slice(0, middle).join('\n') + '\n'),
      Buffer.from([0xff, 0xfe, 0x7b, 0x0a]), // not UTF-8: decodes to U+FFFD U+FFFD "{"
      Buffer.from(lines.dirty.slice(middle).join('\n') + '\n'),
    ]),
  );
  const [cleanDb, dirtyDb] = [freshDb(), freshDb()];
  const clean = parseReplaySummary(await runCli(replayArgs(cleanFile, cleanDb)), 'clean replay');
  const dirty = parseReplaySummary(await runCli(replayArgs(dirtyFile, dirtyDb)), 'dirty replay');
  const expected = new Map(Object.entries(clean.rejected));
  const added = countReasons([...bad, { name: 'not UTF-8', line: '', reason: 'malformed_json' }]);
  for (const [reason, count] of added) expected.set(reason, (expected.get(reason) ?? 0) + count);
  assert.deepEqual(new Map(Object.entries(dirty.rejected)), expected, 'rejected by reason');
  assert.equal(dirty.accepted, clean.accepted, 'accepted');
  assert.equal(dirty.duplicates, clean.duplicates, 'duplicates');
  const cleanExport = await runCli(['export', '--db', cleanDb]);
  const dirtyExport = await runCli(['export', '--db', dirtyDb]);
  assert.equal(cleanExport.code, 0, cleanExport.stderr);
  assert.equal(dirtyExport.code, 0, dirtyExport.stderr);
  assert.ok(cleanExport.stdout.split('\n').length > 60, 'the export lists the network');
  assert.equal(dirtyExport.stdout, cleanExport.stdout, 'export');
});

/** `args` with the value after `flag` replaced. */
function withFlag(args: readonly string[], flag: string, value: string): string[] {
  const index = args.indexOf(flag);
  assert.ok(index >= 0 && index + 1 < args.length, `${flag} is in the arguments`);
  return args.map((arg, at) => (at === index + 1 ? value : arg));
}

test('upline replay: a missing file or a bad flag exits 1 with one line naming it', async () => {
  const eventsFile = join(dir.path, 'usage.ndjson');
  writeFileSync(eventsFile, HEADER.join('\n') + '\n');
  const planPath = planFile('reference');
  const missingEvents = join(dir.path, 'no-such-dir', 'events.ndjson');
  const dbFile = freshDb();
  const missingPlan = `${planPath}.missing`;
  const base = ['replay', '--plan', planPath, '--events', eventsFile, '--db', dbFile];
  const cases: [string, string[], string][] = [
    ['missing events file', withFlag(base, '--events', missingEvents), missingEvents],
    ['missing plan file', withFlag(base, '--plan', missingPlan), missingPlan],
    ['no --db', ['replay', '--plan', planPath, '--events', eventsFile], '--db'],
    ['empty --db', ['replay', '--plan', planPath, '--events', eventsFile, '--db', ''], '--db'],
    ['no --events', ['replay', '--plan', planPath, '--db', dbFile], '--events'],
    ['--workers two', [...base, '--workers', 'two'], '--workers'],
    ['--workers=-1', [...base, '--workers=-1'], '--workers'],
    ['--workers 1.5', [...base, '--workers', '1.5'], '--workers'],
    ['--workers 65', [...base, '--workers', '65'], '--workers'],
    ['--batch 0', [...base, '--batch', '0'], '--batch'],
    ['unknown flag', [...base, '--bogus', '1'], '--bogus'],
  ];
  for (const [label, args, names] of cases) {
    assertUsageError(await runCli(args), names, label);
    assert.ok(!existsSync(dbFile), `${label}: no database is created`);
  }
});

/**
 * Regression: SPEC 5 asks for a one-line message, but for a flag value that starts with a dash
 * (`--workers -1`) `util.parseArgs` throws a three-line message ("... is ambiguous.\nDid you
 * forget ...\nTo specify ...") and `parseFlags` in src/cli/args.ts passed it through whole.
 */
test('upline replay --workers -1: exit 1 with one line naming --workers', async () => {
  const eventsFile = join(dir.path, 'usage-dash.ndjson');
  writeFileSync(eventsFile, HEADER.join('\n') + '\n');
  const dbFile = freshDb();
  const args = ['--plan', planFile('reference'), '--events', eventsFile, '--db', dbFile];
  const end = await runCli(['replay', ...args, '--workers', '-1']);
  assertUsageError(end, '--workers', '--workers -1');
});

// ---------------------------------------------------------------------------------------------
// Fuzz: junk text, random JSON values and mutated events spliced into a random valid stream.

const EVENT_FIELDS = [
  ...['type', 'at', 'distributor', 'sponsor', 'placement'],
  ...['order', 'pv', 'cv', 'amount'],
] as const;

const badValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom<unknown>(-1, 0, 1, 1.5, 2 ** 31, 2 ** 53, 1e300, '', '1', 'L', 'X', null, true),
  fc.constantFrom<unknown>([], {}, 'x'.repeat(65), { parent: 1, leg: 'X' }),
  fc.constantFrom<unknown>({ parent: 1, leg: 'L' }, { parent: 1 }),
  fc.integer(),
  fc.double(),
  fc.string({ maxLength: 8 }),
  fc.jsonValue({ maxDepth: 2 }),
);
/** Ids that can never be valid, so a mutant never takes or collides with a stream's id. */
const invalidId: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom<unknown>('', 5, null, [], {}, true),
  fc.string({ minLength: 65, maxLength: 70 }),
);

type Mutation =
  | { readonly kind: 'set'; readonly field: string; readonly value: unknown }
  | { readonly kind: 'delete'; readonly field: string }
  | { readonly kind: 'id'; readonly value: unknown };

const eventField = fc.constantFrom(...EVENT_FIELDS);
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), field: eventField, value: badValue }),
  fc.record({ kind: fc.constant('delete' as const), field: eventField }),
  fc.record({ kind: fc.constant('id' as const), value: invalidId }),
);

type Junk = { readonly text: string } | { readonly source: number; readonly mutation: Mutation };

/** Mostly mutants: they get past the parser and meet validation and the rules. */
const junk: fc.Arbitrary<Junk> = fc.oneof(
  fc.record({ text: fc.string({ unit: 'grapheme', maxLength: 30 }) }),
  fc.record({ text: fc.string({ unit: 'binary', maxLength: 30 }) }),
  fc.record({ text: fc.jsonValue({ maxDepth: 3 }).map((value) => JSON.stringify(value)) }),
  { weight: 6, arbitrary: fc.record({ source: fc.nat(), mutation }) },
);

/**
 * A mutated copy of a stream line. Its id is a fresh `fz<k>` (or, for an id mutation, an
 * invalid one), so whatever it does, it never shadows or duplicates an event of the stream.
 */
function mutant(base: readonly string[], source: number, change: Mutation, k: number): string {
  const line = base[source % base.length]!;
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return line; // the random stream's own malformed lines stay malformed
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return line;
  const event: Record<string, unknown> = { ...(parsed as Record<string, unknown>), id: `fz${k}` };
  if (change.kind === 'id') event['id'] = change.value;
  else if (change.kind === 'delete') delete event[change.field];
  else event[change.field] = change.value;
  return JSON.stringify(event);
}

interface Spliced {
  readonly lines: string[];
  readonly isJunk: boolean[];
}

function splice(base: readonly string[], items: readonly (readonly [number, Junk])[]): Spliced {
  const placed = items
    .map(([position, item], k) => ({
      position: position % (base.length + 1),
      k,
      text: 'text' in item ? item.text : mutant(base, item.source, item.mutation, k),
    }))
    .sort((left, right) => left.position - right.position || left.k - right.k);
  const lines: string[] = [];
  const isJunk: boolean[] = [];
  let next = 0;
  base.forEach((line, position) => {
    for (; next < placed.length && placed[next]!.position <= position; next++) {
      lines.push(placed[next]!.text);
      isJunk.push(true);
    }
    lines.push(line);
    isJunk.push(false);
  });
  for (; next < placed.length; next++) {
    lines.push(placed[next]!.text);
    isJunk.push(true);
  }
  return { lines, isJunk };
}

/** `seq -> event id` of a reference run, from its answers. */
function seqIds(lines: readonly string[], results: readonly EventResult[]): Map<number, string> {
  const ids = new Map<number, string>();
  results.forEach((result, index) => {
    if (result.status === 'duplicate' || result.seq === null) return;
    ids.set(result.seq, (JSON.parse(lines[index]!) as { id: string }).id);
  });
  return ids;
}

const FUZZ_RUNS: readonly PipelineRun[] = [
  { workers: 0, batchSize: 1, submitSize: 7 },
  { workers: 1, batchSize: 64, submitSize: 13 },
  { workers: 2, batchSize: 7, submitSize: 1000 },
];

test('fuzz: junk and mutated events change nothing; pipeline equals the reference', async () => {
  await fc.assert(
    fc.asyncProperty(
      eventLines(120),
      fc.array(fc.tuple(fc.nat(), junk), { minLength: 1, maxLength: 30, size: 'max' }),
      fc.constantFrom(...FUZZ_RUNS),
      async (base, items, run) => {
        const { lines, isJunk } = splice(base, items);
        const expected = runReference(plan, lines);
        const actual = await runPipeline(plan, lines, freshDb(), run);
        assert.deepEqual(actual.results, expected.results, 'results vs reference');
        assert.equal(actual.exportText, expected.exportText, 'export vs reference');
        assert.deepEqual(actual.ledger, expected.ledger, 'ledger vs reference');
        // Drop every rejected junk line that took no id, or a fresh fz<k> no one else uses:
        // the state must be the same as with them.
        const kept = lines.filter((line, index) => {
          const result = expected.results[index]!;
          if (isJunk[index] !== true || result.status !== 'rejected') return true;
          return !(result.seq === null || (JSON.parse(line) as { id: string }).id.startsWith('fz'));
        });
        const without = runReference(plan, kept);
        assert.equal(without.exportText, expected.exportText, 'export without rejected junk');
        assert.deepEqual(
          ledgerByEventId(without.ledger, seqIds(kept, without.results)),
          ledgerByEventId(expected.ledger, seqIds(lines, expected.results)),
          'ledger without rejected junk',
        );
      },
    ),
    // A fixed number of runs, no time limit: fast-check's interruptAfterTimeLimit returns
    // without awaiting the run in flight, which then went on after the test, found its temp
    // directory removed, and failed the file with an unhandled rejection (seen twice in CI).
    { seed: SEED, numRuns: 60 },
  );
});
