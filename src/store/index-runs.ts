/**
 * The commit thread's side of the line index (schema.ts): the lines of committed events not
 * yet indexed, gathered in memory, and the sealed run being inserted in key order over the
 * following commits.
 *
 *   commit k:    events + lines ──▶ gathered            (no index rows written)
 *   commit seal: gathered ──▶ run, sorted by (beneficiary, seq, ordinal)
 *   commits:     run[at .. at + chunk) ──▶ line_index   (one key range each, in order)
 *
 * Every step runs inside the commit's transaction and returns the index state that
 * transaction records, so the meta rows and the index rows always agree. The in-memory side
 * is ahead of the database only if that transaction fails, and a failed commit is fatal to
 * the engine (CommitWriter): a restart rebuilds these lines from the log.
 */
import { assert } from '../core/assert.js';
import { LineBuffer } from '../ledger/line-buffer.js';
import type { LineColumns } from '../ledger/line-columns.js';
import { BeneficiaryOrder, type LineInserter } from './batch-insert.js';
import { BENEFICIARY_END, INDEX_RUN_PACE } from './schema.js';

/** What the line index holds (schema.ts): every line of events up to `cursor`, and of a run. */
export interface IndexState {
  /** c0: every line of an event up to this seq is indexed. */
  readonly cursor: number;
  /** c1: the run being inserted holds the lines of events (cursor, runEnd]; = cursor if none. */
  readonly runEnd: number;
  /** b: the run's lines of beneficiaries below this are indexed; BENEFICIARY_END if none. */
  readonly runFrom: number;
}

/** What the sequencer asks of a commit besides writing its batch. */
export interface IndexControl {
  /** Seal the gathered lines, this batch's included, into a run; no run may be open. */
  readonly seal: boolean;
  /** Index every line gathered or in a run, so the index reaches the cursor (snapshot, close). */
  readonly all: boolean;
}

/** Largest run buffer kept for the next run: what a run of INDEX_RUN_LINES grows to. */
const SPARE_CAPACITY_MAX = 1 << 20;

export const INDEX_NOTHING: IndexControl = { seal: false, all: false };
export const INDEX_ALL: IndexControl = { seal: false, all: true };
export const INDEX_SEAL: IndexControl = { seal: true, all: false };

/** True when a line of `beneficiary` at `seq` is in the index in state `state`. */
export function isIndexed(state: IndexState, beneficiary: number, seq: number): boolean {
  return seq <= (beneficiary < state.runFrom ? state.runEnd : state.cursor);
}

export function assertIndexState(state: IndexState, cursor: number): void {
  assert(state.cursor <= state.runEnd && state.runEnd <= cursor, 'index state within the log');
  assert(state.runFrom >= 0 && state.runFrom <= BENEFICIARY_END, 'index run boundary');
  assert(state.cursor < state.runEnd || state.runFrom === BENEFICIARY_END, 'no run, no boundary');
}

export class IndexRuns {
  private gathered = new LineBuffer();
  private run: LineBuffer | null = null;
  /** An indexed run's buffer of ordinary size, to gather the next run into (see `seal`). */
  private spare: LineBuffer | null = null;
  private runOrder: Int32Array = new Int32Array(0);
  private runAt = 0;
  private readonly sorter = new BeneficiaryOrder();

  constructor(
    private readonly inserter: LineInserter,
    private readonly chunkMin: number,
  ) {
    assert(Number.isInteger(chunkMin) && chunkMin >= 1, 'index chunk >= 1');
  }

  /** Lines gathered or in the open run: what the index still lacks. */
  get pendingCount(): number {
    return this.gathered.count + (this.run === null ? 0 : this.run.count - this.runAt);
  }

  /**
   * Inside a commit's transaction: gathers the batch's `lines` (of events up to `cursor`),
   * seals or finishes runs as `control` says, inserts the next key range of the open run, and
   * returns the state the transaction must record.
   */
  step(lines: LineColumns, cursor: number, control: IndexControl, state: IndexState): IndexState {
    assertIndexState(state, cursor);
    assert((this.run === null) === (state.cursor === state.runEnd), 'the open run is the state');
    this.gathered.append(lines);
    let next = state;
    if (control.all && this.run !== null) next = this.insertRun(next, Number.POSITIVE_INFINITY);
    if (control.seal || control.all) {
      assert(this.run === null, 'a run is sealed only once the last one is indexed');
      next = this.seal(next, cursor);
    }
    if (this.run === null) return next;
    const paced = Math.ceil(INDEX_RUN_PACE * lines.count);
    const chunk = control.all ? Number.POSITIVE_INFINITY : Math.max(this.chunkMin, paced);
    return this.insertRun(next, chunk);
  }

  /**
   * Recovery, on the sequencer thread's connection before any commit: indexes `lines`, every
   * line of events up to `cursor` that the index lacks (isIndexed), in one go.
   */
  indexRest(lines: LineColumns, cursor: number): IndexState {
    assert(this.run === null && this.gathered.count === 0, 'recovery indexes before any commit');
    this.gathered.append(lines);
    const sealed = this.seal({ cursor, runEnd: cursor, runFrom: BENEFICIARY_END }, cursor);
    return this.insertRun(sealed, Number.POSITIVE_INFINITY);
  }

  private seal(state: IndexState, cursor: number): IndexState {
    const run = this.gathered;
    // The last run's buffer if it was of ordinary size: growing a fresh one to a run's size
    // copied each line about twice more and faulted in new pages every run. An outsize run's
    // buffers (a close's lines can make one of millions) are given back instead.
    this.gathered = this.spare ?? new LineBuffer();
    this.spare = null;
    this.run = run;
    this.runOrder = this.sorter.sort(run);
    this.runAt = 0;
    return { cursor: state.cursor, runEnd: cursor, runFrom: 0 };
  }

  /**
   * Inserts about `chunk` more rows of the open run, whole beneficiaries only (a range must
   * end where the next beneficiary starts, because the boundary is a beneficiary).
   */
  private insertRun(state: IndexState, chunk: number): IndexState {
    const run = this.run;
    assert(run !== null, 'a run is open');
    const order = this.runOrder;
    const from = this.runAt;
    let to = Math.min(run.count, from + chunk);
    while (to < run.count && run.beneficiary[order[to]!] === run.beneficiary[order[to - 1]!]) to++;
    this.inserter.insert(run, order, from, to);
    this.runAt = to;
    if (to < run.count) {
      return { cursor: state.cursor, runEnd: state.runEnd, runFrom: run.beneficiary[order[to]!]! };
    }
    this.run = null;
    if (run.capacity <= SPARE_CAPACITY_MAX) {
      run.clear();
      this.spare = run;
    }
    return { cursor: state.runEnd, runEnd: state.runEnd, runFrom: BENEFICIARY_END };
  }
}
