import { ORDER_BATCH, WALK_LINES } from '../../native-layout/batch-layouts.js';
import { createTable, type TableHandle } from '../../native-layout/table.js';
import { assert } from '../core/assert.js';
import { ChangeLog } from './change-log.js';
import { LineBuffer } from '../ledger/line-buffer.js';

export type OrderBatchHandle = TableHandle<(typeof ORDER_BATCH)['fields']>;
export type WalkLinesHandle = TableHandle<(typeof WALK_LINES)['fields']>;

/** What the merge does for a logged event of the batch. */
export const ENTRY_PLAIN = 0;
export const ENTRY_ORDER = 1;
export const ENTRY_REFUND = 2;
export const ENTRY_WITHDRAW = 3;

/**
 * Everything one batch carries between its phases. Sized once from the batch size (at most
 * `eventsMax` logged events, so at most that many orders) and reused: a batch allocates
 * nothing in steady state.
 */
export class Batch {
  readonly changes = new ChangeLog();
  readonly serialLines = new LineBuffer();
  readonly orders: OrderBatchHandle;
  readonly walkLines: WalkLinesHandle;
  orderCount = 0;
  /** Per logged event, in seq order. */
  readonly entryKind: Uint8Array;
  readonly entrySeq: Float64Array;
  /** Order row in `orders` / refunded order's seq / withdrawing slot. */
  readonly entryAux: Float64Array;
  readonly entryAmountCents: Float64Array;
  entryCount = 0;

  constructor(
    readonly eventsMax: number,
    readonly walkLinesPerOrder: number,
  ) {
    assert(Number.isInteger(eventsMax) && eventsMax >= 1, 'batch size must be >= 1');
    this.orders = createTable(ORDER_BATCH, eventsMax);
    this.walkLines = createTable(WALK_LINES, Math.max(1, eventsMax * walkLinesPerOrder));
    this.entryKind = new Uint8Array(eventsMax);
    this.entrySeq = new Float64Array(eventsMax);
    this.entryAux = new Float64Array(eventsMax);
    this.entryAmountCents = new Float64Array(eventsMax);
  }

  get full(): boolean {
    return this.entryCount === this.eventsMax;
  }

  /** Opens the entry of the next logged event; the sequencer may then refine its kind. */
  begin(seq: number): void {
    assert(this.entryCount < this.eventsMax, 'batch overflow');
    const entry = this.entryCount++;
    assert(entry === 0 || this.entrySeq[entry - 1]! + 1 === seq, 'batch seqs must be contiguous');
    this.entryKind[entry] = ENTRY_PLAIN;
    this.entrySeq[entry] = seq;
  }

  addOrder(seq: number, buyer: number, cvCents: number, atMs: number): void {
    const row = this.orderCount++;
    const orders = this.orders.views;
    orders.seq[row] = seq;
    orders.buyer[row] = buyer;
    orders.cvCents[row] = cvCents;
    orders.atMs[row] = atMs;
    orders.lineCount[row] = 0;
    this.refine(ENTRY_ORDER, row, 0);
  }

  addRefund(orderSeq: number): void {
    this.refine(ENTRY_REFUND, orderSeq, 0);
  }

  addWithdrawal(slot: number, amountCents: number): void {
    this.refine(ENTRY_WITHDRAW, slot, amountCents);
  }

  reset(): void {
    this.changes.reset();
    this.serialLines.clear();
    this.orderCount = 0;
    this.entryCount = 0;
  }

  private refine(kind: number, aux: number, amountCents: number): void {
    const entry = this.entryCount - 1;
    assert(entry >= 0 && this.entryKind[entry] === ENTRY_PLAIN, 'entry refined twice');
    this.entryKind[entry] = kind;
    this.entryAux[entry] = aux;
    this.entryAmountCents[entry] = amountCents;
  }
}
