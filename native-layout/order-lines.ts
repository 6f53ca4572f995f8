/**
 * On disk: the lines an order wrote, kept in the order's own row of the event log
 * (`events.lines`, src/store/schema.ts). A refund reverses exactly those lines (SPEC 3.3), and
 * with them in the order's row it finds them with one primary-key read instead of a second
 * table written once per line (which cost the commit thread about a third of its time).
 *
 * The blob is the ORDER_LINES table laid out for exactly its line count: struct-of-arrays,
 * each column 8-aligned (`layoutFor`), in ordinal order, little-endian always (read and
 * written through a DataView, so the file does not depend on the machine). Its length says
 * how many lines it holds: `byteLength(n)` grows strictly with n.
 */
import { AssertionError, assert } from '../src/core/assert.js';
import {
  COLUMN_ALIGN_BYTES,
  ELEMENT_BYTES,
  defineTable,
  f64,
  i32,
  layoutFor,
  u8,
  type TableLayout,
} from './schema.js';

export const ORDER_LINES_VERSION = 1;

export const ORDER_LINES = defineTable('orderLines', ORDER_LINES_VERSION, {
  /** Integer cents in an f64, exact to 2^53 (README "Why f64 for money"). */
  amountCents: f64,
  beneficiary: i32,
  source: i32,
  /** Index into LINE_TYPES. */
  type: u8,
  level: u8,
});

const F64 = ELEMENT_BYTES.f64;
const I32 = ELEMENT_BYTES.i32;
const U8 = ELEMENT_BYTES.u8;

type OrderLinesLayout = TableLayout<typeof ORDER_LINES.fields>;

/** Layouts by line count, built once each: the commit thread encodes every order's lines. */
const layouts: OrderLinesLayout[] = [];

export function orderLinesLayout(count: number): OrderLinesLayout {
  let layout = layouts[count];
  if (layout === undefined) {
    layout = layoutFor(ORDER_LINES, count);
    layouts[count] = layout;
  }
  return layout;
}

/** Bytes of the blob holding `count` lines (a multiple of 8, so blobs pack aligned). */
export function orderLinesBytes(count: number): number {
  return orderLinesLayout(count).byteLength;
}

/** The columns a blob is written from; `LineColumns` (src/ledger) is one. */
export interface OrderLinesColumns {
  readonly amountCents: Float64Array;
  readonly beneficiary: Int32Array;
  readonly source: Int32Array;
  readonly type: Uint8Array;
  readonly level: Uint8Array;
}

/**
 * Writes rows `from .. from + count - 1` of `columns` as one blob at `byteOffset` of `target`
 * (`orderLinesBytes(count)` bytes). Allocates nothing.
 */
export function writeOrderLines(
  target: DataView,
  byteOffset: number,
  columns: OrderLinesColumns,
  from: number,
  count: number,
): void {
  const layout = orderLinesLayout(count);
  assert(byteOffset >= 0 && byteOffset + layout.byteLength <= target.byteLength, 'blob fits');
  const amountAt = byteOffset + layout.column.amountCents.byteOffset;
  const beneficiaryAt = byteOffset + layout.column.beneficiary.byteOffset;
  const sourceAt = byteOffset + layout.column.source.byteOffset;
  const typeAt = byteOffset + layout.column.type.byteOffset;
  const levelAt = byteOffset + layout.column.level.byteOffset;
  for (let line = 0; line < count; line++) {
    const row = from + line;
    target.setFloat64(amountAt + F64 * line, columns.amountCents[row]!, true);
    target.setInt32(beneficiaryAt + I32 * line, columns.beneficiary[row]!, true);
    target.setInt32(sourceAt + I32 * line, columns.source[row]!, true);
    target.setUint8(typeAt + U8 * line, columns.type[row]!);
    target.setUint8(levelAt + U8 * line, columns.level[row]!);
  }
  // The padding between regions is part of the blob: zero it, so equal lines give equal bytes.
  for (let column = 0; column < layout.columns.length; column++) {
    const region = layout.columns[column]!;
    const next = layout.columns[column + 1]?.byteOffset ?? layout.byteLength;
    for (let at = region.byteOffset + region.byteLength; at < next; at++) {
      target.setUint8(byteOffset + at, 0);
    }
  }
}

/** One line of a blob, in ordinal order. */
export interface OrderLine {
  readonly amountCents: number;
  readonly beneficiary: number;
  readonly source: number;
  readonly type: number;
  readonly level: number;
}

/** How many lines a blob of `byteLength` bytes holds; asserts it is a blob's length at all. */
export function orderLinesCount(byteLength: number): number {
  assert(Number.isInteger(byteLength) && byteLength > 0, 'order lines blob is empty');
  // Each line takes 18 bytes plus at most 8 of padding per column (5 columns), so the count is
  // within a few of byteLength / 18; byteLength(n) grows strictly, so at most one n fits.
  const bytesPerLine = ORDER_LINES.bytesPerRow;
  const paddingMax = COLUMN_ALIGN_BYTES * ORDER_LINES.fieldNames.length;
  const low = Math.max(1, Math.floor((byteLength - paddingMax) / bytesPerLine));
  for (let count = low; count <= Math.ceil(byteLength / bytesPerLine); count++) {
    if (orderLinesBytes(count) === byteLength) return count;
  }
  throw new AssertionError(`${byteLength} bytes is not an order lines blob`);
}

export function readOrderLines(blob: Uint8Array): OrderLine[] {
  const count = orderLinesCount(blob.byteLength);
  const layout = orderLinesLayout(count);
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  const { amountCents, beneficiary, source, type, level } = layout.column;
  const lines: OrderLine[] = [];
  for (let line = 0; line < count; line++) {
    lines.push({
      amountCents: view.getFloat64(amountCents.byteOffset + F64 * line, true),
      beneficiary: view.getInt32(beneficiary.byteOffset + I32 * line, true),
      source: view.getInt32(source.byteOffset + I32 * line, true),
      type: view.getUint8(type.byteOffset + U8 * line),
      level: view.getUint8(level.byteOffset + U8 * line),
    });
  }
  return lines;
}
