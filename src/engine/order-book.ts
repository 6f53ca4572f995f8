import { assert } from '../core/assert.js';

/**
 * Accepted orders, for `order_taken` checks and refunds: id → row of typed columns. Rows are
 * never removed (a refunded order keeps its id taken). Main-thread only.
 */
export class OrderBook {
  private readonly rowById = new Map<string, number>();
  count = 0;
  buyer = new Int32Array(1024);
  pv = new Float64Array(1024);
  cvCents = new Float64Array(1024);
  period = new Int32Array(1024);
  seq = new Float64Array(1024);
  refunded = new Uint8Array(1024);

  find(orderId: string): number {
    return this.rowById.get(orderId) ?? -1;
  }

  add(orderId: string, buyer: number, pv: number, cvCents: number, period: number, seq: number) {
    assert(!this.rowById.has(orderId), 'order id already in the book');
    if (this.count === this.buyer.length) this.grow(this.count * 2);
    const row = this.count++;
    this.rowById.set(orderId, row);
    this.buyer[row] = buyer;
    this.pv[row] = pv;
    this.cvCents[row] = cvCents;
    this.period[row] = period;
    this.seq[row] = seq;
    this.refunded[row] = 0;
    return row;
  }

  entries(): IterableIterator<[string, number]> {
    return this.rowById.entries();
  }

  private grow(capacity: number): void {
    const copy = <T extends Int32Array | Float64Array | Uint8Array>(old: T, next: T): T => {
      next.set(old);
      return next;
    };
    this.buyer = copy(this.buyer, new Int32Array(capacity));
    this.pv = copy(this.pv, new Float64Array(capacity));
    this.cvCents = copy(this.cvCents, new Float64Array(capacity));
    this.period = copy(this.period, new Int32Array(capacity));
    this.seq = copy(this.seq, new Float64Array(capacity));
    this.refunded = copy(this.refunded, new Uint8Array(capacity));
  }
}
