/**
 * Multi-row INSERTs: the store's write path.
 *
 * One `INSERT ... VALUES (...), (...), ...` of R rows pays the statement's fixed cost (the
 * N-API call, reset, VDBE start) once per R rows instead of once per row. Each inserter holds
 * two cached statements (R rows, and 1 row for the tail of a batch) and one reusable bind
 * array, so a batch allocates nothing per line: the columns are copied straight from the
 * typed arrays of `LineColumns` into the bind array.
 */
import type Database from 'better-sqlite3';

import { orderLinesBytes, writeOrderLines } from '../../native-layout/index.js';
import { assert } from '../core/assert.js';
import type { LineColumns } from '../ledger/line-columns.js';
import { ORDER_EVENT_CODE } from './event-codec.js';
import { EVENT_COLUMNS, LINE_INDEX_COLUMNS, type LoggedEvent } from './schema.js';

/** Rows per multi-row statement; measured in bench/ledger-insert.bench.ts. */
export const ROWS_PER_STATEMENT = 256;

type Statement = Database.Statement<unknown[], unknown>;

function insertSql(table: string, columns: readonly string[], rowCount: number): string {
  const row = `(${columns.map(() => '?').join(',')})`;
  const rows = Array<string>(rowCount).fill(row).join(',');
  return `INSERT INTO ${table} (${columns.join(',')}) VALUES ${rows}`;
}

/**
 * Writes lines, whole, to the line index (schema.ts) in an order the caller gives: a run's
 * rows in key order, one key range per call.
 */
export class LineInserter {
  private readonly chunk: Statement;
  private readonly single: Statement;
  private readonly params: number[];
  private readonly keyOrder = new BeneficiaryOrder();

  constructor(
    db: Database.Database,
    readonly rowsPerStatement: number = ROWS_PER_STATEMENT,
  ) {
    assert(Number.isInteger(rowsPerStatement) && rowsPerStatement >= 1, 'rowsPerStatement >= 1');
    // SQLite's bind limit (SQLITE_MAX_VARIABLE_NUMBER) is 32766 in better-sqlite3's build.
    assert(rowsPerStatement * LINE_INDEX_COLUMNS.length <= 32766, 'too many rows per statement');
    this.chunk = db.prepare(insertSql('line_index', LINE_INDEX_COLUMNS, rowsPerStatement));
    this.single = db.prepare(insertSql('line_index', LINE_INDEX_COLUMNS, 1));
    this.params = new Array<number>(rowsPerStatement * LINE_INDEX_COLUMNS.length).fill(0);
  }

  /** Inserts every row of `lines` in key order; the caller owns the transaction. */
  insertAll(lines: LineColumns): void {
    this.insert(lines, this.keyOrder.sort(lines), 0, lines.count);
  }

  /** Inserts rows `order[from] .. order[to - 1]` of `lines`; the caller owns the transaction. */
  insert(lines: LineColumns, order: Int32Array, from: number, to: number): void {
    assert(0 <= from && from <= to && to <= order.length, 'insert range inside the order');
    const rows = this.rowsPerStatement;
    const full = to - ((to - from) % rows);
    let at = from;
    for (; at < full; at += rows) {
      this.fill(lines, order, at);
      // Spread, not the array: better-sqlite3 reads an array's elements through V8's generic
      // property lookup, one per parameter, and arguments directly. 2M rows: 2.1 -> 1.6 s.
      this.chunk.run(...this.params);
    }
    for (; at < to; at++) {
      const row = order[at] as number;
      this.single.run(
        lines.beneficiary[row],
        lines.seq[row],
        lines.ordinal[row],
        lines.type[row],
        lines.level[row],
        lines.source[row],
        lines.amountCents[row],
      );
    }
  }

  private fill(lines: LineColumns, order: Int32Array, first: number): void {
    const params = this.params;
    const end = first + this.rowsPerStatement;
    let at = 0;
    for (let position = first; position < end; position++) {
      const row = order[position] as number;
      // Indexed reads of typed arrays: `row < count <= capacity` was asserted by the caller.
      params[at++] = lines.beneficiary[row] as number;
      params[at++] = lines.seq[row] as number;
      params[at++] = lines.ordinal[row] as number;
      params[at++] = lines.type[row] as number;
      params[at++] = lines.level[row] as number;
      params[at++] = lines.source[row] as number;
      params[at++] = lines.amountCents[row] as number;
    }
  }
}

/**
 * A run's rows in index key order (beneficiary, seq, ordinal): a stable LSD radix sort on
 * the beneficiary (two 16-bit digits) of rows already in (seq, ordinal) order. Inserted in key
 * order, consecutive rows land on the same or the next b-tree page, which is still in the CPU
 * cache, and each page of the index is dirtied at most once per run. Buffers are reused.
 */
export class BeneficiaryOrder {
  private order = new Int32Array(0);
  private scratch = new Int32Array(0);
  private readonly counts = new Int32Array(1 << 16);

  sort(lines: LineColumns): Int32Array {
    const count = lines.count;
    if (this.order.length < count) {
      this.order = new Int32Array(count * 2);
      this.scratch = new Int32Array(count * 2);
    }
    for (let row = 0; row < count; row++) this.scratch[row] = row;
    this.pass(lines.beneficiary, count, this.scratch, this.order, 0);
    this.pass(lines.beneficiary, count, this.order, this.scratch, 16);
    const sorted = this.scratch;
    this.scratch = this.order;
    this.order = sorted;
    return sorted;
  }

  /** One stable counting pass on the 16-bit digit at `shift`, from `input` into `output`. */
  private pass(
    keys: Int32Array,
    count: number,
    input: Int32Array,
    output: Int32Array,
    shift: number,
  ): void {
    const counts = this.counts;
    counts.fill(0);
    for (let at = 0; at < count; at++) counts[(keys[input[at]!]! >>> shift) & 0xffff]!++;
    let sum = 0;
    for (let digit = 0; digit < counts.length; digit++) {
      const here = counts[digit]!;
      counts[digit] = sum;
      sum += here;
    }
    for (let at = 0; at < count; at++) {
      const row = input[at]!;
      output[counts[(keys[row]! >>> shift) & 0xffff]!++] = row;
    }
  }
}

/**
 * Events are objects already (one per event, not per line), so this one reads them. An order's
 * row also gets its lines as an ORDER_LINES blob (schema.ts), encoded into one reusable
 * buffer: SQLite copies a bound blob, so the buffer is free again once a statement has run.
 */
export class EventInserter {
  private readonly chunk: Statement;
  private readonly single: Statement;
  private readonly params: unknown[];
  private blobBytes = new ArrayBuffer(64 * 1024);
  private blobView = new DataView(this.blobBytes);

  constructor(
    db: Database.Database,
    readonly rowsPerStatement: number = 32,
  ) {
    this.chunk = db.prepare(insertSql('events', EVENT_COLUMNS, rowsPerStatement));
    this.single = db.prepare(insertSql('events', EVENT_COLUMNS, 1));
    this.params = new Array<unknown>(rowsPerStatement * EVENT_COLUMNS.length).fill(null);
  }

  /**
   * `lines` are the batch's lines in (seq, ordinal) order, as `commitBatch` asserted; each
   * order event's own lines go into its row.
   */
  insert(events: readonly LoggedEvent[], lines: LineColumns): void {
    const rows = this.rowsPerStatement;
    const full = events.length - (events.length % rows);
    let line = 0;
    let index = 0;
    for (; index < full; index += rows) {
      let at = 0;
      let blobAt = 0;
      for (let row = index; row < index + rows; row++) {
        const event = events[row] as LoggedEvent;
        this.params[at++] = event.seq;
        this.params[at++] = event.id;
        this.params[at++] = event.type;
        this.params[at++] = event.at;
        this.params[at++] = event.outcome;
        this.params[at++] = event.orderId;
        this.params[at++] = event.body;
        const count = linesAt(lines, line, event.seq);
        const blob = this.orderLines(event, lines, line, count, blobAt);
        this.params[at++] = blob;
        if (blob !== null && blob.buffer === this.blobBytes) blobAt += blob.byteLength;
        line += count;
      }
      this.chunk.run(...this.params); // spread: see LineInserter.insert
    }
    for (; index < events.length; index++) {
      const event = events[index] as LoggedEvent;
      const count = linesAt(lines, line, event.seq);
      const blob = this.orderLines(event, lines, line, count, 0);
      const { seq, id, type, at, outcome, orderId, body } = event;
      this.single.run(seq, id, type, at, outcome, orderId, body, blob);
      line += count;
    }
    assert(line === lines.count, 'every line belongs to an event of the batch');
  }

  /** The ORDER_LINES blob of an order's `count` lines from row `from`, or null. */
  private orderLines(
    event: LoggedEvent,
    lines: LineColumns,
    from: number,
    count: number,
    blobAt: number,
  ): Buffer | null {
    if (event.type !== ORDER_EVENT_CODE || count === 0) return null;
    const bytes = orderLinesBytes(count);
    if (blobAt + bytes > this.blobBytes.byteLength) {
      // Only between statements (blobAt 0) may the buffer be replaced: blobs of the current
      // statement's rows live in it until it runs.
      if (blobAt !== 0) return this.orderLinesCopy(lines, from, count);
      this.blobBytes = new ArrayBuffer(2 * bytes);
      this.blobView = new DataView(this.blobBytes);
    }
    writeOrderLines(this.blobView, blobAt, lines, from, count);
    return Buffer.from(this.blobBytes, blobAt, bytes);
  }

  /** A blob in its own buffer, for the rare statement whose blobs outgrow the shared one. */
  private orderLinesCopy(lines: LineColumns, from: number, count: number): Buffer {
    const bytes = new ArrayBuffer(orderLinesBytes(count));
    writeOrderLines(new DataView(bytes), 0, lines, from, count);
    return Buffer.from(bytes);
  }
}

/**
 * How many rows from `row` on have this seq. Events come in seq order and each consumes its
 * own lines, so no row before `seq` is left over (commitBatch asserted the order).
 */
function linesAt(lines: LineColumns, row: number, seq: number): number {
  let end = row;
  while (end < lines.count && lines.seq[end] === seq) end++;
  return end - row;
}
