import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  COLUMN_ALIGN_BYTES,
  DISTRIBUTORS,
  FLAG_AUTO_NEXT_RIGHT,
  FLAG_FIRST_ORDER_DONE,
  FLAG_PLACED,
  FLAG_PLACED_RIGHT,
  FLAG_TERMINATED,
  ID_INDEX,
  SHARED_BYTES_PER_DISTRIBUTOR_MAX,
  SLOT_NONE,
  createTable,
  growTable,
  idIndexCapacityFor,
  layoutFor,
  renderBudgetTable,
  sharedBytesPerDistributor,
} from '../native-layout/index.js';

describe('DISTRIBUTORS', () => {
  it('declares the fields the engine relies on, with their types and fills', () => {
    const declared = DISTRIBUTORS.fieldNames.map((name) => {
      const spec = DISTRIBUTORS.fields[name];
      return `${name}:${spec.type}=${spec.fill}`;
    });
    assert.deepEqual(declared, [
      'externalId:i32=0',
      'sponsor:i32=-1',
      'parent:i32=-1',
      'childL:i32=-1',
      'childR:i32=-1',
      'legs:i32=0',
      'enrollments:i32=0',
      'pv:f64=0',
      'gv:f64=0',
      'legVolumeL:f64=0',
      'legVolumeR:f64=0',
      'balance:f64=0',
      'enrolledAt:f64=0',
      'paidRank:u8=0',
      'title:u8=0',
      'flags:u8=0',
    ]);
    assert.equal(DISTRIBUTORS.bytesPerRow, 79);
  });

  it('has distinct single-bit flags that fit the u8 flags column', () => {
    const flags = [
      FLAG_TERMINATED,
      FLAG_FIRST_ORDER_DONE,
      FLAG_PLACED_RIGHT,
      FLAG_PLACED,
      FLAG_AUTO_NEXT_RIGHT,
    ];
    assert.deepEqual(flags, [1, 2, 4, 8, 16]);
    assert.equal(
      flags.reduce((all, flag) => all | flag, 0),
      31,
    );
  });

  it('stores money at the offsets its layout names, at any capacity', () => {
    for (const capacity of [1, 3, 8, 1000]) {
      const table = createTable(DISTRIBUTORS, capacity);
      const row = capacity - 1;
      const gvRegion = table.layout.column.gv;
      const flagsRegion = table.layout.column.flags;
      table.views.gv[row] = 12345;
      table.views.balance[row] = 2 ** 53 - 1;
      table.views.flags[row] = FLAG_PLACED | FLAG_PLACED_RIGHT;
      const data = new DataView(table.buffer);
      assert.equal(data.getFloat64(gvRegion.byteOffset + row * 8, true), 12345);
      const balanceRegion = table.layout.column.balance;
      const { byteOffset, byteLength } = balanceRegion;
      const balanceData = new DataView(table.buffer, byteOffset, byteLength);
      assert.equal(balanceData.getFloat64(row * 8, true), 2 ** 53 - 1, 'exact 53-bit cents');
      assert.equal(new Uint8Array(table.buffer, flagsRegion.byteOffset)[row], 12);
      assert.equal(table.views.sponsor[row], SLOT_NONE);
      for (const region of table.layout.columns) {
        assert.equal(region.byteOffset % COLUMN_ALIGN_BYTES, 0);
      }
    }
  });

  it('keeps genealogy across a growth handover', () => {
    const small = createTable(DISTRIBUTORS, 4);
    small.views.externalId.set([17, 42, 9]);
    small.views.sponsor.set([SLOT_NONE, 0, 0]);
    small.views.childL[0] = 1;
    small.views.childR[0] = 2;
    small.views.parent.set([SLOT_NONE, 0, 0]);
    const big = growTable(small, 8);
    assert.deepEqual([...big.views.externalId], [17, 42, 9, 0, 0, 0, 0, 0]);
    assert.deepEqual([...big.views.sponsor], [-1, 0, 0, -1, -1, -1, -1, -1]);
    assert.deepEqual([...big.views.childL], [1, -1, -1, -1, -1, -1, -1, -1]);
    assert.deepEqual([...big.views.childR], [2, -1, -1, -1, -1, -1, -1, -1]);
  });
});

describe('bytes per distributor (README budget table)', () => {
  it('meets the product target of at most 96 shared bytes per distributor', () => {
    const total = sharedBytesPerDistributor();
    assert.equal(total, 87);
    assert.ok(total <= SHARED_BYTES_PER_DISTRIBUTOR_MAX, `${total} > 96`);
  });

  it('matches what the buffers actually cost for a power-of-two table', () => {
    const capacity = 1 << 16;
    const rowsBytes = layoutFor(DISTRIBUTORS, capacity).byteLength;
    const indexBytes = layoutFor(ID_INDEX, idIndexCapacityFor(capacity)).byteLength;
    assert.equal((rowsBytes + indexBytes) / capacity, sharedBytesPerDistributor());
  });

  it('is in native-layout/README.md verbatim (regenerate with renderBudgetTable())', () => {
    const readme = readFileSync(new URL('../../native-layout/README.md', import.meta.url), 'utf8');
    const expected = renderBudgetTable();
    assert.ok(
      readme.includes(expected),
      `native-layout/README.md is stale; replace its generated block with:\n\n${expected}\n`,
    );
  });
});
