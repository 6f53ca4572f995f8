/**
 * Ledger lines as columns: how the pipeline hands a batch of lines to the store without one
 * object per line. Distributors are external ids here (the store knows nothing of slots).
 * Row `i` of every column is one line; only rows `0 .. count-1` are meaningful.
 */
export interface LineColumns {
  count: number;
  readonly seq: Float64Array;
  readonly ordinal: Int32Array;
  readonly beneficiary: Int32Array;
  /** Index into LINE_TYPES. */
  readonly type: Uint8Array;
  readonly level: Uint8Array;
  readonly source: Int32Array;
  readonly amountCents: Float64Array;
}

export function createLineColumns(capacity: number): LineColumns {
  return {
    count: 0,
    seq: new Float64Array(capacity),
    ordinal: new Int32Array(capacity),
    beneficiary: new Int32Array(capacity),
    type: new Uint8Array(capacity),
    level: new Uint8Array(capacity),
    source: new Int32Array(capacity),
    amountCents: new Float64Array(capacity),
  };
}
