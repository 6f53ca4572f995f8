/**
 * The ledger as readers see it while the engine runs: the line index (SQLite) plus the
 * ledger tail, the lines of committed events not indexed yet (docs/pipeline.md "The line
 * index"). Each read takes the cursor, the index state and the index rows in one read
 * transaction, so it is exact as of one commit whatever the commit thread does meanwhile.
 */
import { assert, assertSafeInteger } from '../core/assert.js';
import { exportLines } from '../export/export.js';
import type { LedgerTail } from '../ledger/ledger-tail.js';
import type { LineRow } from '../store/schema.js';
import { lineTypeFromCode, type EarningType, type Line } from '../ledger/line.js';
import { RECENT_LINES_LIMIT_MAX, type Store } from '../store/store.js';
import type { EngineState } from './state.js';

export class LedgerReads {
  constructor(
    private readonly store: Store,
    private readonly tail: LedgerTail,
    private readonly state: EngineState,
    /** Batches sent to the commit thread and not yet durable. */
    private readonly commitsInFlight: () => number,
  ) {}

  /**
   * A distributor's newest lines of committed events first, each with its order id: those
   * the index does not hold yet from the tail, then the index's. Pages like
   * Store.recentLines.
   */
  recentLines(distributor: number, limit: number, beforeSeq?: number, beforeOrdinal = 0): Line[] {
    assert(Number.isInteger(limit) && limit >= 1, 'recentLines limit must be >= 1');
    assert(limit <= RECENT_LINES_LIMIT_MAX, `recentLines limit > ${RECENT_LINES_LIMIT_MAX}`);
    const store = this.store;
    return store.consistentRead(() => {
      // Lines of events not committed yet are in the tail too; nobody may see them.
      const end = store.cursor() + 1;
      const [seq, ordinal] =
        beforeSeq === undefined || beforeSeq > end ? [end, 0] : [beforeSeq, beforeOrdinal];
      const unindexed: LineRow[] = [];
      this.tail.recent(distributor, store.indexState(), seq, ordinal, limit, unindexed);
      const lines = store.withOrders(unindexed);
      // Every indexed line of a distributor is older than every unindexed one (index-runs.ts).
      if (lines.length < limit) {
        lines.push(...store.recentLines(distributor, limit - lines.length, seq, ordinal));
      }
      return lines;
    });
  }

  /** One distributor's net earnings by type from the lines of events up to `upto`. */
  earningsOf(distributor: number, upto: number): Record<EarningType, number> {
    const store = this.store;
    return store.consistentRead(() => {
      const earned = store.earningsOf(distributor, upto);
      const committedUpto = Math.min(upto, store.cursor());
      this.tail.sum(distributor, store.indexState(), committedUpto, (code, amountCents) => {
        const type = lineTypeFromCode(code);
        if (type !== 'withdrawal') earned[type] += amountCents;
      });
      for (const total of Object.values(earned)) assertSafeInteger(total, 'earnings total');
      return earned;
    });
  }

  /**
   * SPEC 4's export as the engine stands, the lines not indexed yet included. Only between
   * commits (none in flight), when neither the cursor nor the index moves.
   */
  *exportLines(): IterableIterator<string> {
    assert(this.commitsInFlight() === 0, 'export between commits');
    const index = this.store.indexState();
    const upto = this.store.cursor();
    yield* exportLines(this.state, this.store, (distributor, add) =>
      this.tail.sum(distributor, index, upto, add),
    );
  }
}
