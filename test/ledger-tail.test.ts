import * as assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, test } from 'node:test';
import * as fc from 'fast-check';

import { Engine } from '../src/engine/engine.js';
import { emptyEarnings } from '../src/export/summary.js';
import { LedgerTail } from '../src/ledger/ledger-tail.js';
import type { LineRow } from '../src/store/schema.js';
import { LineBuffer } from '../src/ledger/line-buffer.js';
import { lineTypeFromCode } from '../src/ledger/line.js';
import { isIndexed, type IndexState } from '../src/store/index-runs.js';
import { BENEFICIARY_END } from '../src/store/schema.js';
import { tempDir } from './support/pipeline.js';
import { referencePlan } from './support/plans.js';
import { eventLines } from './support/random-stream.js';

/**
 * The ledger tail serves the lines the index lacks. Its chains must give exactly what a plain
 * filter over every line gives, for any index state the commit thread can be in; and the
 * engine's reads, tail plus index, must equal every line committed so far, mid-stream, with
 * runs sealed and half inserted all the time.
 */
const dir = tempDir('upline-tail-');
after(() => dir.dispose());

/** What a reader must see: lines the state does not index, before the cursor, newest first. */
function expectedRecent(
  all: LineBuffer,
  beneficiary: number,
  state: IndexState,
  beforeSeq: number,
  beforeOrdinal: number,
  limit: number,
): LineRow[] {
  const lines: LineRow[] = [];
  for (let row = all.count - 1; row >= 0 && lines.length < limit; row--) {
    const [seq, ordinal] = [all.seq[row]!, all.ordinal[row]!];
    if (all.beneficiary[row] !== beneficiary || isIndexed(state, beneficiary, seq)) continue;
    if (seq > beforeSeq || (seq === beforeSeq && ordinal >= beforeOrdinal)) continue;
    lines.push({
      seq,
      ordinal,
      beneficiary,
      type: all.type[row]!,
      level: all.level[row]!,
      source: all.source[row]!,
      amountCents: all.amountCents[row]!,
    });
  }
  return lines;
}

test('tail chains equal a filter over every line, for any index state', () => {
  const batch = fc.array(fc.array(fc.integer({ min: 1, max: 6 }), { maxLength: 5 }), {
    minLength: 1,
    maxLength: 4,
  });
  fc.assert(
    fc.property(
      fc.array(fc.record({ batch, seal: fc.boolean() }), { minLength: 1, maxLength: 30 }),
      fc.double({ min: 0, max: 1, noNaN: true }),
      fc.double({ min: 0, max: 1, noNaN: true }),
      fc.integer({ min: 0, max: 7 }),
      (batches, cursorAt, runAt, runFrom) => {
        const tail = new LedgerTail();
        const all = new LineBuffer();
        let seq = 0;
        const seals: number[] = [];
        for (const { batch: events, seal } of batches) {
          const lines = new LineBuffer();
          for (const beneficiaries of events) {
            seq++;
            beneficiaries.forEach((beneficiary, ordinal) =>
              lines.push(seq, ordinal, beneficiary, ordinal % 4, ordinal, 9, 100 * seq + ordinal),
            );
          }
          tail.append(lines);
          all.append(lines);
          if (seal) {
            tail.seal(seq);
            seals.push(seq);
          }
        }
        // An index state the commit thread could be in: c0 at a seal (or 0), the open run the
        // next seal's, its boundary anywhere.
        const sealsAndZero = [0, ...seals];
        const c0 = sealsAndZero[Math.floor(cursorAt * (sealsAndZero.length - 1))]!;
        const later = seals.filter((at) => at > c0);
        const open = later.length > 0 && runAt > 0.3;
        const state: IndexState = open
          ? { cursor: c0, runEnd: later[0]!, runFrom }
          : { cursor: c0, runEnd: c0, runFrom: BENEFICIARY_END };
        tail.dropIndexed(c0);
        for (let beneficiary = 1; beneficiary <= 6; beneficiary++) {
          for (const [beforeSeq, beforeOrdinal, limit] of [
            [seq + 1, 0, 1000],
            [seq, 2, 3],
            [Math.ceil(seq / 2), 1, 2],
          ] as const) {
            const got: LineRow[] = [];
            tail.recent(beneficiary, state, beforeSeq, beforeOrdinal, limit, got);
            const want = expectedRecent(all, beneficiary, state, beforeSeq, beforeOrdinal, limit);
            assert.deepEqual(got, want, `beneficiary ${beneficiary} before ${beforeSeq}`);
          }
          let sum = 0;
          tail.sum(beneficiary, state, seq, (_type, amount) => (sum += amount));
          const want = expectedRecent(all, beneficiary, state, seq + 1, 0, all.count + 1);
          assert.equal(
            sum,
            want.reduce((total, line) => total + line.amountCents, 0),
          );
        }
      },
    ),
    { seed: 20261125, numRuns: 300 },
  );
});

let counter = 0;

test('engine reads mid-stream equal every committed line, while runs seal and index', async () => {
  await fc.assert(
    fc.asyncProperty(eventLines(200), fc.integer({ min: 1, max: 40 }), async (lines, runLines) => {
      const engine = await Engine.open({
        plan: referencePlan(),
        dbFile: join(dir.path, `tail-${counter++}.db`),
        workers: 0,
        batchSize: 5,
        synchronous: 'NORMAL',
        indexRunLines: runLines,
        indexChunkMin: 1,
      });
      const committed = new LineBuffer();
      const observed = new LineBuffer();
      engine.batchObserver = (batch) => observed.append(batch.lines);
      try {
        for (let start = 0; start < lines.length; start += 17) {
          await engine.submit(lines.slice(start, start + 17));
          committed.append(observed);
          observed.clear();
          const cursor = engine.state.lastSeq;
          for (let beneficiary = 1; beneficiary <= 26; beneficiary++) {
            const got = engine.ledger.recentLines(beneficiary, 50);
            const everything: IndexState = { cursor: 0, runEnd: 0, runFrom: BENEFICIARY_END };
            const want = expectedRecent(committed, beneficiary, everything, cursor + 1, 0, 50);
            assert.deepEqual(
              got.map((line) => [line.seq, line.ordinal, line.type, line.amountCents]),
              want.map((line) => [
                line.seq,
                line.ordinal,
                lineTypeFromCode(line.type),
                line.amountCents,
              ]),
              `distributor ${beneficiary} after seq ${cursor}`,
            );
            const earned = emptyEarnings();
            for (const line of expectedRecent(
              committed,
              beneficiary,
              everything,
              cursor + 1,
              0,
              1e9,
            )) {
              const type = lineTypeFromCode(line.type);
              if (type !== 'withdrawal') earned[type] += line.amountCents;
            }
            assert.deepEqual(engine.ledger.earningsOf(beneficiary, cursor), earned);
          }
        }
      } finally {
        await engine.close();
      }
    }),
    { seed: 20261125, numRuns: 10 },
  );
});
