import { assert, assertSafeInteger } from '../core/assert.js';
import { OUTCOME_ACCEPTED, ruleReasonCode } from '../events/reasons.js';
import { lineTypeCode } from '../ledger/line.js';
import { ENTRY_ORDER, ENTRY_REFUND, ENTRY_WITHDRAW, type Batch } from './batch.js';
import { LineBuffer } from '../ledger/line-buffer.js';
import type { EngineState } from './state.js';

const FAST_START = lineTypeCode('fast_start');
const UNILEVEL = lineTypeCode('unilevel');
const MATCHING = lineTypeCode('matching');
const WITHDRAWAL = lineTypeCode('withdrawal');
const INSUFFICIENT_FUNDS = ruleReasonCode('insufficient_funds');

/** Lines written at an order's seq by an earlier, committed batch (external ids). */
export type CommittedLinesAt = (seq: number) => LineBuffer;

/**
 * The last phase of a batch, on the sequencer thread: puts every line in ledger order
 * (seq, then the order SPEC 3 writes them), numbers them, moves balances, writes refund
 * reversals and settles withdrawals, which are the only rules that read balances and so
 * the only ones that must wait for the walk phase. The output holds external ids, ready
 * for the store.
 */
export class Merge {
  readonly output = new LineBuffer();
  private readonly entryLineStart: Int32Array;
  private readonly entryLineEnd: Int32Array;

  constructor(
    private readonly state: EngineState,
    private readonly batch: Batch,
    private readonly committedLinesAt: CommittedLinesAt,
  ) {
    this.entryLineStart = new Int32Array(batch.eventsMax);
    this.entryLineEnd = new Int32Array(batch.eventsMax);
  }

  /** Merges the batch; `entryOutcome` is updated for withdrawals that lack funds. */
  run(entryOutcome: Int32Array): void {
    const batch = this.batch;
    const serial = batch.serialLines;
    this.output.clear();
    let serialRow = 0;
    for (let entry = 0; entry < batch.entryCount; entry++) {
      const seq = batch.entrySeq[entry]!;
      this.entryLineStart[entry] = this.output.count;
      let ordinal = 0;
      while (serialRow < serial.count && serial.seq[serialRow] === seq) {
        assert(entryOutcome[entry] === OUTCOME_ACCEPTED, 'a rejected event wrote a line');
        ordinal = this.emit(seq, ordinal, serial, serialRow);
        serialRow++;
      }
      if (entryOutcome[entry] === OUTCOME_ACCEPTED) {
        const kind = batch.entryKind[entry]!;
        if (kind === ENTRY_ORDER) ordinal = this.emitWalkLines(seq, ordinal, entry);
        if (kind === ENTRY_REFUND) this.emitReversals(seq, ordinal, batch.entryAux[entry]!);
        if (kind === ENTRY_WITHDRAW) entryOutcome[entry] = this.settleWithdrawal(seq, entry);
      }
      this.entryLineEnd[entry] = this.output.count;
    }
    assert(serialRow === serial.count, 'serial lines left over after the merge');
  }

  private emitWalkLines(seq: number, firstOrdinal: number, entry: number): number {
    const batch = this.batch;
    const row = batch.entryAux[entry]!;
    const orders = batch.orders.views;
    assert(orders.seq[row] === seq, 'order batch row out of step with the entries');
    const lines = batch.walkLines.views;
    const base = row * batch.walkLinesPerOrder;
    const count = orders.lineCount[row]!;
    assert(count >= 0 && count <= batch.walkLinesPerOrder, 'walk line count out of range');
    let ordinal = firstOrdinal;
    for (let index = base; index < base + count; index++) {
      ordinal = this.push(
        seq,
        ordinal,
        lines.beneficiary[index]!,
        lines.type[index]!,
        lines.level[index]!,
        lines.source[index]!,
        lines.amountCents[index]!,
      );
    }
    return ordinal;
  }

  /** SPEC 3.3: negate the order's fast start, unilevel and matching lines, in their order. */
  private emitReversals(seq: number, firstOrdinal: number, orderSeq: number): void {
    const batch = this.batch;
    const firstSeq = batch.entrySeq[0]!;
    let source: LineBuffer;
    let from: number;
    let to: number;
    if (orderSeq >= firstSeq) {
      const orderEntry = orderSeq - firstSeq;
      assert(orderEntry < batch.entryCount, 'refunded order is later than its refund');
      source = this.output;
      from = this.entryLineStart[orderEntry]!;
      to = this.entryLineEnd[orderEntry]!;
    } else {
      source = this.committedLinesAt(orderSeq);
      from = 0;
      to = source.count;
    }
    let ordinal = firstOrdinal;
    for (let row = from; row < to; row++) {
      const type = source.type[row]!;
      if (type !== FAST_START && type !== UNILEVEL && type !== MATCHING) continue;
      const beneficiary = this.state.slotOf(source.beneficiary[row]!);
      const sourceSlot = this.state.slotOf(source.source[row]!);
      assert(beneficiary !== -1 && sourceSlot !== -1, 'reversed line names an unknown id');
      const amount = -source.amountCents[row]!;
      ordinal = this.push(seq, ordinal, beneficiary, type, source.level[row]!, sourceSlot, amount);
    }
  }

  /** SPEC 3.4, against the balance as of this seq (every earlier line is merged). */
  private settleWithdrawal(seq: number, entry: number): number {
    const slot = this.batch.entryAux[entry]!;
    const amount = this.batch.entryAmountCents[entry]!;
    assert(amount > 0, 'withdrawal amount must be positive');
    if (this.state.d.balance[slot]! < amount) return INSUFFICIENT_FUNDS;
    this.push(seq, 0, slot, WITHDRAWAL, 0, slot, -amount);
    return OUTCOME_ACCEPTED;
  }

  private emit(seq: number, ordinal: number, from: LineBuffer, row: number): number {
    return this.push(
      seq,
      ordinal,
      from.beneficiary[row]!,
      from.type[row]!,
      from.level[row]!,
      from.source[row]!,
      from.amountCents[row]!,
    );
  }

  /** Appends one line (slots in, external ids out) and moves the beneficiary's balance. */
  private push(
    seq: number,
    ordinal: number,
    beneficiary: number,
    type: number,
    level: number,
    source: number,
    amountCents: number,
  ): number {
    assert(amountCents !== 0, 'a line of 0 is never written');
    assertSafeInteger(amountCents, 'line amount');
    const d = this.state.d;
    const externalBeneficiary = d.externalId[beneficiary]!;
    const externalSource = d.externalId[source]!;
    this.output.push(seq, ordinal, externalBeneficiary, type, level, externalSource, amountCents);
    const balance = d.balance[beneficiary]! + amountCents;
    assertSafeInteger(balance, 'balance');
    d.balance[beneficiary] = balance;
    return ordinal + 1;
  }
}
