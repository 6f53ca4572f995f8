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

import { assert } from '../core/assert.js';
import type { LineColumns } from '../ledger/line-columns.js';
import { EVENT_COLUMNS, LINE_COLUMNS, LINE_INDEX_COLUMNS, type LoggedEvent } from './schema.js';

/** Rows per multi-row statement; measured in bench/ledger-insert.bench.ts. */
export const ROWS_PER_STATEMENT = 256;

type Statement = Database.Statement<unknown[], unknown>;

function insertSql(table: string, columns: readonly string[], rowCount: number): string {
  const row = `(${columns.map(() => '?').join(',')})`;
  const rows = Array<string>(rowCount).fill(row).join(',');
  return `INSERT INTO ${table} (${columns.join(',')}) VALUES ${rows}`;
}

/** Writes each line's (seq, ordinal, beneficiary) to `lines`, the whole line to the hot index. */
export class LineInserter {
  private readonly chunk: Statement;
  private readonly single: Statement;
  private readonly indexChunk: Statement;
  private readonly indexSingle: Statement;
  private readonly params: number[];
  private readonly indexParams: number[];

  constructor(
    db: Database.Database,
    readonly rowsPerStatement: number = ROWS_PER_STATEMENT,
  ) {
    assert(Number.isInteger(rowsPerStatement) && rowsPerStatement >= 1, 'rowsPerStatement >= 1');
    // SQLite's bind limit (SQLITE_MAX_VARIABLE_NUMBER) is 32766 in better-sqlite3's build.
    assert(rowsPerStatement * LINE_INDEX_COLUMNS.length <= 32766, 'too many rows per statement');
    this.chunk = db.prepare(insertSql('lines', LINE_COLUMNS, rowsPerStatement));
    this.single = db.prepare(insertSql('lines', LINE_COLUMNS, 1));
    this.params = new Array<number>(rowsPerStatement * LINE_COLUMNS.length).fill(0);
    this.indexChunk = db.prepare(insertSql('line_index_hot', LINE_INDEX_COLUMNS, rowsPerStatement));
    this.indexSingle = db.prepare(insertSql('line_index_hot', LINE_INDEX_COLUMNS, 1));
    this.indexParams = new Array<number>(rowsPerStatement * LINE_INDEX_COLUMNS.length).fill(0);
  }

  /** Inserts rows `0 .. lines.count-1`; the caller owns the transaction. */
  insert(lines: LineColumns): void {
    const rows = this.rowsPerStatement;
    const full = lines.count - (lines.count % rows);
    let row = 0;
    for (; row < full; row += rows) {
      this.fill(lines, row);
      this.chunk.run(this.params);
      this.indexChunk.run(this.indexParams);
    }
    for (; row < lines.count; row++) {
      this.single.run(lines.seq[row], lines.ordinal[row], lines.beneficiary[row]);
      this.indexSingle.run(
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

  private fill(lines: LineColumns, first: number): void {
    const params = this.params;
    const indexParams = this.indexParams;
    const end = first + this.rowsPerStatement;
    let at = 0;
    let indexAt = 0;
    for (let row = first; row < end; row++) {
      // Indexed reads of typed arrays: `row < count <= capacity` was asserted by the caller.
      const seq = lines.seq[row] as number;
      const ordinal = lines.ordinal[row] as number;
      const beneficiary = lines.beneficiary[row] as number;
      params[at++] = seq;
      params[at++] = ordinal;
      params[at++] = beneficiary;
      indexParams[indexAt++] = beneficiary;
      indexParams[indexAt++] = seq;
      indexParams[indexAt++] = ordinal;
      indexParams[indexAt++] = lines.type[row] as number;
      indexParams[indexAt++] = lines.level[row] as number;
      indexParams[indexAt++] = lines.source[row] as number;
      indexParams[indexAt++] = lines.amountCents[row] as number;
    }
  }
}

/** Events are objects already (one per event, not per line), so this one reads them. */
export class EventInserter {
  private readonly chunk: Statement;
  private readonly single: Statement;
  private readonly params: unknown[];

  constructor(
    db: Database.Database,
    readonly rowsPerStatement: number = 32,
  ) {
    this.chunk = db.prepare(insertSql('events', EVENT_COLUMNS, rowsPerStatement));
    this.single = db.prepare(insertSql('events', EVENT_COLUMNS, 1));
    this.params = new Array<unknown>(rowsPerStatement * EVENT_COLUMNS.length).fill(null);
  }

  insert(events: readonly LoggedEvent[]): void {
    const rows = this.rowsPerStatement;
    const full = events.length - (events.length % rows);
    let index = 0;
    for (; index < full; index += rows) {
      let at = 0;
      for (let row = index; row < index + rows; row++) {
        const event = events[row] as LoggedEvent;
        this.params[at++] = event.seq;
        this.params[at++] = event.id;
        this.params[at++] = event.type;
        this.params[at++] = event.at;
        this.params[at++] = event.outcome;
        this.params[at++] = event.body;
      }
      this.chunk.run(this.params);
    }
    for (; index < events.length; index++) {
      const event = events[index] as LoggedEvent;
      this.single.run(event.seq, event.id, event.type, event.at, event.outcome, event.body);
    }
  }
}
