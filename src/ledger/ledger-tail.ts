/**
 * The sequencer thread's copy of the lines the line index does not hold yet (schema.ts,
 * store/index-runs.ts): the commit thread gathers and indexes them in runs, this serves them
 * to readers meanwhile. It mirrors the commit thread's runs exactly, because the sequencer
 * decides when a run is sealed and both sides append the same batches in the same order.
 *
 * Each run keeps, per line, the row of the previous line of the same beneficiary, and per
 * beneficiary its newest row (an open-addressing table), so a distributor's newest lines are
 * a walk down its own chain, never a scan of the run.
 */
import { assert } from '../core/assert.js';
import { isIndexed, type IndexState } from '../store/index-runs.js';
import type { LineRow } from '../store/schema.js';
import { LineBuffer } from './line-buffer.js';
import type { LineColumns } from './line-columns.js';

const NONE = -1;
/** Open-addressing table: keys are beneficiary ids (>= 1), so 0 marks an empty position. */
const EMPTY = 0;

class TailRun {
  readonly lines = new LineBuffer(1024);
  /** Row of the previous line of the same beneficiary, or NONE. */
  private previous = new Int32Array(1024);
  private keys = new Int32Array(1024);
  private newestRow = new Int32Array(1024);
  private used = 0;
  /** Seq of the last event whose lines are in the run (its seal), or null while gathering. */
  sealedAt: number | null = null;

  push(lines: LineColumns, row: number): void {
    const at = this.lines.count;
    this.lines.push(
      lines.seq[row]!,
      lines.ordinal[row]!,
      lines.beneficiary[row]!,
      lines.type[row]!,
      lines.level[row]!,
      lines.source[row]!,
      lines.amountCents[row]!,
    );
    if (at === this.previous.length) {
      const previous = new Int32Array(2 * at);
      previous.set(this.previous);
      this.previous = previous;
    }
    const beneficiary = lines.beneficiary[row]!;
    const position = this.positionOf(beneficiary);
    if (this.keys[position] === EMPTY) {
      this.keys[position] = beneficiary;
      this.previous[at] = NONE;
      if (++this.used * 2 > this.keys.length) this.rehash();
    } else {
      this.previous[at] = this.newestRow[position]!;
    }
    this.newestRow[this.positionOf(beneficiary)] = at;
  }

  newest(beneficiary: number): number {
    const position = this.positionOf(beneficiary);
    return this.keys[position] === EMPTY ? NONE : this.newestRow[position]!;
  }

  previousOf(row: number): number {
    return this.previous[row]!;
  }

  /** Where `beneficiary` is, or the empty position where it would go (load stays <= 1/2). */
  private positionOf(beneficiary: number): number {
    const mask = this.keys.length - 1;
    let position = (Math.imul(beneficiary, 0x9e3779b1) >>> 0) & mask;
    while (this.keys[position] !== EMPTY && this.keys[position] !== beneficiary) {
      position = (position + 1) & mask;
    }
    return position;
  }

  private rehash(): void {
    const keys = this.keys;
    const newestRow = this.newestRow;
    this.keys = new Int32Array(keys.length * 2);
    this.newestRow = new Int32Array(keys.length * 2);
    for (let position = 0; position < keys.length; position++) {
      const key = keys[position]!;
      if (key === EMPTY) continue;
      const to = this.positionOf(key);
      this.keys[to] = key;
      this.newestRow[to] = newestRow[position]!;
    }
  }
}

export class LedgerTail {
  /**
   * Oldest first; the last one is gathering, the others are sealed. Runs are not reused: a
   * big one (a close's lines) is memory to give back once indexed.
   */
  private runs: TailRun[] = [new TailRun()];

  /** Lines in the gathering run (the sequencer seals it once it is big enough). */
  get gatheringCount(): number {
    return this.gathering.lines.count;
  }

  get sealedCount(): number {
    return this.runs.length - 1;
  }

  get lineCount(): number {
    return this.runs.reduce((sum, run) => sum + run.lines.count, 0);
  }

  /** Recovery's lines, all in the gathering run (recovery seals none). */
  get gathered(): LineColumns {
    assert(this.sealedCount === 0, 'recovery seals no run');
    return this.gathering.lines;
  }

  /** Appends a batch's lines, in ledger order; `keep(row)` false leaves a line out. */
  append(lines: LineColumns, keep?: (row: number) => boolean): void {
    const run = this.gathering;
    for (let row = 0; row < lines.count; row++) {
      if (keep === undefined || keep(row)) run.push(lines, row);
    }
  }

  /** Seals the gathering run after the batch ending at seq `lastSeq` (as the commit does). */
  seal(lastSeq: number): void {
    this.gathering.sealedAt = lastSeq;
    this.runs.push(new TailRun());
  }

  /** Forgets sealed runs the index holds entirely (it reached their seal). */
  dropIndexed(indexCursor: number): void {
    while (this.runs.length > 1 && this.runs[0]!.sealedAt! <= indexCursor) this.runs.shift();
  }

  /** Forgets every line: the index now holds them all. */
  clear(): void {
    this.runs = [new TailRun()];
  }

  /**
   * Up to `limit` lines of `beneficiary` the index does not hold in `state`, newest first,
   * strictly before (beforeSeq, beforeOrdinal), appended to `out`.
   */
  recent(
    beneficiary: number,
    state: IndexState,
    beforeSeq: number,
    beforeOrdinal: number,
    limit: number,
    out: LineRow[],
  ): void {
    for (let index = this.runs.length - 1; index >= 0 && out.length < limit; index--) {
      const run = this.runs[index]!;
      const lines = run.lines;
      for (let row = run.newest(beneficiary); row !== NONE; row = run.previousOf(row)) {
        const seq = lines.seq[row]!;
        if (isIndexed(state, beneficiary, seq)) return; // older rows are indexed too
        const ordinal = lines.ordinal[row]!;
        if (seq > beforeSeq || (seq === beforeSeq && ordinal >= beforeOrdinal)) continue;
        out.push({
          seq,
          ordinal,
          beneficiary,
          type: lines.type[row]!,
          level: lines.level[row]!,
          source: lines.source[row]!,
          amountCents: lines.amountCents[row]!,
        });
        if (out.length === limit) return;
      }
    }
  }

  /** Adds `beneficiary`'s lines of events up to `upto` that `state` does not index to `add`. */
  sum(
    beneficiary: number,
    state: IndexState,
    upto: number,
    add: (type: number, amountCents: number) => void,
  ): void {
    for (const run of this.runs) {
      const lines = run.lines;
      for (let row = run.newest(beneficiary); row !== NONE; row = run.previousOf(row)) {
        const seq = lines.seq[row]!;
        if (isIndexed(state, beneficiary, seq)) break;
        if (seq <= upto) add(lines.type[row]!, lines.amountCents[row]!);
      }
    }
  }

  private get gathering(): TailRun {
    const run = this.runs[this.runs.length - 1];
    assert(run !== undefined && run.sealedAt === null, 'the last run gathers');
    return run;
  }
}
