import { createLineColumns, type LineColumns } from '../ledger/line-columns.js';
import { INDEX_ALL, type IndexControl } from '../store/index-runs.js';
import type { LoggedEvent } from '../store/schema.js';

/**
 * One batch on its way from the sequencer thread to the commit thread: the logged events and
 * the merged lines as columns, so posting a batch of thousands of events clones a handful of
 * typed arrays and two strings, never an object per event.
 */
export interface CommitMessage {
  readonly batchId: number;
  readonly cursorSeq: number;
  readonly eventCount: number;
  readonly eventSeq: Float64Array;
  readonly eventType: Uint8Array;
  readonly eventAtMs: Float64Array;
  readonly eventOutcome: Int32Array;
  /** Event ids back to back; `eventIdEnd[i]` is where id `i` ends in the string. */
  readonly eventIds: string;
  readonly eventIdEnd: Int32Array;
  /**
   * Order ids (`orderIdOf`) back to back, likewise; an event that names no order has an empty
   * one (an order id is never empty: validate.ts).
   */
  readonly eventOrderIds: string;
  readonly eventOrderIdEnd: Int32Array;
  /** Encoded event bodies back to back; `eventBodyEnd[i]` is where body `i` ends. */
  readonly eventBodies: Uint8Array;
  readonly eventBodyEnd: Int32Array;
  readonly lines: LineColumns;
  /** What the line index does in this commit (store/index-runs.ts). */
  readonly index: IndexControl;
}

export type CommitReply =
  | { readonly batchId: number; readonly ok: true }
  | { readonly batchId: number; readonly ok: false; readonly error: string };

/** Copies the first `count` rows of line columns into fresh arrays the batch can keep. */
export function copyLines(lines: LineColumns): LineColumns {
  const count = lines.count;
  return {
    count,
    seq: lines.seq.slice(0, count),
    ordinal: lines.ordinal.slice(0, count),
    beneficiary: lines.beneficiary.slice(0, count),
    type: lines.type.slice(0, count),
    level: lines.level.slice(0, count),
    source: lines.source.slice(0, count),
    amountCents: lines.amountCents.slice(0, count),
  };
}

/** The commit thread's side: the events as the store takes them. */
export function loggedEvents(message: CommitMessage): LoggedEvent[] {
  const events: LoggedEvent[] = new Array<LoggedEvent>(message.eventCount);
  let idStart = 0;
  let orderIdStart = 0;
  let bodyStart = 0;
  for (let index = 0; index < message.eventCount; index++) {
    const idEnd = message.eventIdEnd[index]!;
    const orderIdEnd = message.eventOrderIdEnd[index]!;
    const bodyEnd = message.eventBodyEnd[index]!;
    events[index] = {
      seq: message.eventSeq[index]!,
      id: message.eventIds.slice(idStart, idEnd),
      type: message.eventType[index]!,
      at: message.eventAtMs[index]!,
      outcome: message.eventOutcome[index]!,
      orderId:
        orderIdEnd > orderIdStart ? message.eventOrderIds.slice(orderIdStart, orderIdEnd) : null,
      body: message.eventBodies.subarray(bodyStart, bodyEnd),
    };
    idStart = idEnd;
    orderIdStart = orderIdEnd;
    bodyStart = bodyEnd;
  }
  return events;
}

/** A commit with no events that indexes every line the commit thread holds (INDEX_ALL). */
export function indexOnlyMessage(cursorSeq: number): Omit<CommitMessage, 'batchId'> {
  return {
    cursorSeq,
    eventCount: 0,
    eventSeq: new Float64Array(0),
    eventType: new Uint8Array(0),
    eventAtMs: new Float64Array(0),
    eventOutcome: new Int32Array(0),
    eventIds: '',
    eventIdEnd: new Int32Array(0),
    eventOrderIds: '',
    eventOrderIdEnd: new Int32Array(0),
    eventBodies: new Uint8Array(0),
    eventBodyEnd: new Int32Array(0),
    lines: createLineColumns(0),
    index: INDEX_ALL,
  };
}
