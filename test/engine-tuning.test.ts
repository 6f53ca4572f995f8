/**
 * The pieces of this session's speed work whose mistakes the reference comparison could not
 * see: an insert order that is a permutation but not sorted only costs speed, and a default
 * that is wrong only costs time. Each is pinned down here on its own.
 */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';

import { compilePlan, qualifiedRank } from '../src/engine/compiled-plan.js';
import { defaultSnapshotInterval, SNAPSHOT_EVERY_EVENTS_MIN } from '../src/engine/engine.js';
import { createLineColumns } from '../src/ledger/line-columns.js';
import { loadPlan } from '../src/plan/plan.js';
import { BeneficiaryOrder } from '../src/store/batch-insert.js';
import { seededRandom } from './fixtures/store-helpers.js';
import { planFile } from './support/plans.js';

test('a batch enters the hot index sorted by (beneficiary, seq, ordinal), every row once', () => {
  const random = seededRandom(11);
  const order = new BeneficiaryOrder();
  for (const count of [0, 1, 2, 1000, 70_000]) {
    const lines = createLineColumns(Math.max(1, count));
    lines.count = count;
    // Rows in (seq, ordinal) order, as a batch arrives; beneficiaries over the whole id range,
    // with many repeats, so both 16-bit digits and the stability of each pass matter.
    for (let row = 0; row < count; row++) {
      lines.seq[row] = 1 + Math.floor(row / 4);
      lines.ordinal[row] = row % 4;
      const wide = 1 + Math.floor(random() * 0x7ffffffe);
      lines.beneficiary[row] = random() < 0.5 ? wide : 1 + Math.floor(random() * 300);
    }
    const sorted = order.sort(lines).subarray(0, count);
    assert.deepEqual(
      [...sorted].sort((a, b) => a - b),
      Array.from({ length: count }, (_, row) => row),
      `a permutation of ${count} rows`,
    );
    for (let at = 1; at < count; at++) {
      const [before, here] = [sorted[at - 1]!, sorted[at]!];
      const key = (row: number) => [lines.beneficiary[row]!, lines.seq[row]!, lines.ordinal[row]!];
      const [a, b] = [key(before), key(here)];
      const less =
        a[0]! < b[0]! || (a[0] === b[0] && (a[1]! < b[1]! || (a[1] === b[1] && a[2]! < b[2]!)));
      assert.ok(less, `rows ${before} and ${here} out of key order`);
    }
  }
});

test('rankGvToRise: below it no pv or legs can lift a rank, at it some rank may rise', () => {
  for (const name of ['reference', 'unilevel', 'binary'] as const) {
    const plan = compilePlan(loadPlan(planFile(name)));
    const top = plan.rankCount - 1;
    assert.equal(plan.rankGvToRise[top], Infinity, `${name}: nothing rises above the top`);
    for (let rank = 0; rank < top; rank++) {
      const gv = plan.rankGvToRise[rank]!;
      const best = (volume: number) => qualifiedRank(plan, Number.MAX_SAFE_INTEGER, volume, 1e9);
      assert.ok(best(gv - 1) <= rank, `${name}: gv ${gv - 1} lifts rank ${rank}`);
      assert.ok(best(gv) > rank, `${name}: gv ${gv} cannot lift rank ${rank} even unbounded`);
    }
  }
});

test('snapshots come every 2 events per distributor, and never more often than every 2M', () => {
  assert.equal(defaultSnapshotInterval(0), SNAPSHOT_EVERY_EVENTS_MIN);
  assert.equal(defaultSnapshotInterval(1_000_000), 2_000_000);
  assert.equal(defaultSnapshotInterval(10_000_000), 20_000_000);
});
