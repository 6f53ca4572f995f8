import type { LineColumns } from './line-columns.js';

/**
 * A growable columnar buffer of lines, reused batch after batch: the serial phase's own lines
 * (distributors as slots) and the merged batch (distributors as external ids, handed to the
 * store as `LineColumns`). Grows by doubling, so steady state allocates nothing.
 */
export class LineBuffer implements LineColumns {
  count = 0;
  seq: Float64Array;
  ordinal: Int32Array;
  beneficiary: Int32Array;
  type: Uint8Array;
  level: Uint8Array;
  source: Int32Array;
  amountCents: Float64Array;

  constructor(capacity = 4096) {
    this.seq = new Float64Array(capacity);
    this.ordinal = new Int32Array(capacity);
    this.beneficiary = new Int32Array(capacity);
    this.type = new Uint8Array(capacity);
    this.level = new Uint8Array(capacity);
    this.source = new Int32Array(capacity);
    this.amountCents = new Float64Array(capacity);
  }

  push(
    seq: number,
    ordinal: number,
    beneficiary: number,
    type: number,
    level: number,
    source: number,
    amountCents: number,
  ): void {
    if (this.count === this.seq.length) this.grow();
    const row = this.count++;
    this.seq[row] = seq;
    this.ordinal[row] = ordinal;
    this.beneficiary[row] = beneficiary;
    this.type[row] = type;
    this.level[row] = level;
    this.source[row] = source;
    this.amountCents[row] = amountCents;
  }

  /** Appends rows `from .. to-1` of `lines`, column by column. */
  append(lines: LineColumns, from = 0, to = lines.count): void {
    const count = to - from;
    while (this.count + count > this.seq.length) this.grow();
    const at = this.count;
    this.seq.set(lines.seq.subarray(from, to), at);
    this.ordinal.set(lines.ordinal.subarray(from, to), at);
    this.beneficiary.set(lines.beneficiary.subarray(from, to), at);
    this.type.set(lines.type.subarray(from, to), at);
    this.level.set(lines.level.subarray(from, to), at);
    this.source.set(lines.source.subarray(from, to), at);
    this.amountCents.set(lines.amountCents.subarray(from, to), at);
    this.count += count;
  }

  /** Rows the buffer holds before it grows. */
  get capacity(): number {
    return this.seq.length;
  }

  clear(): void {
    this.count = 0;
  }

  private grow(): void {
    const capacity = Math.max(this.seq.length * 2, 16);
    const seq = new Float64Array(capacity);
    seq.set(this.seq);
    this.seq = seq;
    const ordinal = new Int32Array(capacity);
    ordinal.set(this.ordinal);
    this.ordinal = ordinal;
    const beneficiary = new Int32Array(capacity);
    beneficiary.set(this.beneficiary);
    this.beneficiary = beneficiary;
    const type = new Uint8Array(capacity);
    type.set(this.type);
    this.type = type;
    const level = new Uint8Array(capacity);
    level.set(this.level);
    this.level = level;
    const source = new Int32Array(capacity);
    source.set(this.source);
    this.source = source;
    const amountCents = new Float64Array(capacity);
    amountCents.set(this.amountCents);
    this.amountCents = amountCents;
  }
}
