import { assert } from '../core/assert.js';
import type { EngineState } from '../engine/state.js';
import { lineTypeFromCode } from '../ledger/line.js';
import type { Store } from '../store/store.js';
import { emptyEarnings, formatSummaryLine } from './summary.js';

/**
 * SPEC 4: one NDJSON line per enrolled distributor, in id order. Earnings, withdrawals and
 * balances are summed by SQLite from the ledger; title and paid-as rank come from the engine's
 * state. Each balance is checked against the live balance column: the two are computed apart
 * (one from committed lines, one by the merge), so a difference means a lost or doubled line.
 * `unindexed` adds a distributor's committed lines the line index does not hold yet (the
 * engine's ledger tail; LedgerReads.exportLines), line by line.
 */
export function* exportLines(
  state: EngineState,
  store: Store,
  unindexed?: (distributor: number, add: (type: number, amountCents: number) => void) => void,
): IterableIterator<string> {
  const ids = state.d.externalId.slice(0, state.count).sort();
  const earnings = store.earningsByDistributor();
  let next = earnings.next();
  for (let index = 0; index < ids.length; index++) {
    const distributor = ids[index]!;
    const slot = state.slotOf(distributor);
    assert(slot !== -1, 'exported distributor has a slot');
    let summary = {
      distributor,
      balanceCents: 0,
      title: state.d.title[slot]!,
      paidRank: state.d.paidRank[slot]!,
      earnedCents: emptyEarnings(),
      withdrawnCents: 0,
    };
    if (!next.done && next.value.distributor === distributor) {
      const totals = next.value;
      summary = { ...summary, ...totals, title: summary.title, paidRank: summary.paidRank };
      next = earnings.next();
    }
    assert(!next.done ? next.value.distributor > distributor : true, 'ledger names an unknown id');
    if (unindexed !== undefined) {
      const totals = { ...summary, earnedCents: { ...summary.earnedCents } };
      unindexed(distributor, (code, amountCents) => {
        const type = lineTypeFromCode(code);
        if (type === 'withdrawal') totals.withdrawnCents -= amountCents;
        else totals.earnedCents[type] += amountCents;
        totals.balanceCents += amountCents;
      });
      summary = totals;
    }
    assert(summary.balanceCents === state.d.balance[slot], `balance of ${distributor} differs`);
    yield formatSummaryLine(summary);
  }
  assert(next.done === true, 'ledger names a distributor that was never enrolled');
}
