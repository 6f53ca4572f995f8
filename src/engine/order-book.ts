import { ORDER_BOOK, type OrderBookFields } from '../../native-layout/string-ids.js';
import { createTable, growTable, type TableHandle } from '../../native-layout/table.js';
import type { TableViews } from '../../native-layout/schema.js';
import { assert } from '../core/assert.js';
import { StringIdTable, type ConfirmEntry } from './string-id-table.js';

export type OrderBookHandle = TableHandle<OrderBookFields>;

/**
 * Accepted orders, for `order_taken` checks and refunds: the order id's fingerprint →
 * a row of the ORDER_BOOK table. Rows are never removed (a refunded order keeps its id
 * taken). Main-thread only; both tables go into snapshots as bytes.
 */
export class OrderBook {
  table: OrderBookHandle;
  rows: TableViews<OrderBookFields>;
  ids: StringIdTable;
  count = 0;
  /** Confirms a fingerprint match: the row's order event really names this order id. */
  private readonly confirm: ConfirmEntry;

  constructor(orderIdAtSeq: (seq: number) => string | undefined, capacity = 1024) {
    this.table = createTable(ORDER_BOOK, capacity);
    this.rows = this.table.views;
    this.ids = StringIdTable.createFor(capacity);
    this.confirm = (row, orderId) => orderIdAtSeq(this.rows.seq[row]!) === orderId;
  }

  /** Takes over a snapshot's tables. */
  adopt(table: OrderBookHandle, ids: StringIdTable, count: number): void {
    assert(ids.size === count, 'order ids and order rows must agree');
    this.table = table;
    this.rows = table.views;
    this.ids = ids;
    this.count = count;
  }

  find(orderId: string): number {
    return this.ids.get(orderId, this.confirm);
  }

  add(orderId: string, buyer: number, pv: number, cvCents: number, period: number, seq: number) {
    if (this.count === this.table.capacity) {
      this.table = growTable(this.table, this.table.capacity * 2);
      this.rows = this.table.views;
    }
    const row = this.count++;
    const rows = this.rows;
    rows.buyer[row] = buyer;
    rows.pv[row] = pv;
    rows.cvCents[row] = cvCents;
    rows.period[row] = period;
    rows.seq[row] = seq;
    rows.refunded[row] = 0;
    this.ids.set(orderId, row);
    return row;
  }
}
