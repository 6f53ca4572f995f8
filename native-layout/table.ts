/**
 * Runtime handles over a table layout: create a SharedArrayBuffer for a declared table,
 * attach to one received from another thread, and grow by handover.
 *
 * Growth by handover (why not grow in place): a SharedArrayBuffer cannot be resized portably
 * on Node 20 (growable SABs are not there yet), and every typed array over it would have to be
 * rebuilt anyway. So `growTable` allocates a NEW buffer, copies the old rows and fills the new
 * ones, and returns a new handle with `generation + 1`. The old handle stays valid and
 * unchanged: workers that still hold it keep reading consistent (old) data. The engine grows
 * only at a batch boundary, when no worker is running a batch, then:
 *
 *   1. `next = growTable(current, capacity * 2)`   (main thread; workers idle)
 *   2. engine switches every write to `next` and drops `current`
 *   3. each worker gets `shareTable(next)` with the next batch and re-attaches when the
 *      message's generation is greater than the one it holds
 *
 * A write to the old handle after step 1 is lost: that is the rule the batch boundary exists
 * to keep. The generation number lets a worker (and an assertion) tell which buffer is current.
 */
import { assert } from '../src/core/assert.js';
import { UplineError } from '../src/core/errors.js';
import type {
  ElementArrays,
  ElementType,
  TableDef,
  TableFields,
  TableLayout,
  TableViews,
} from './schema.js';
import { assertCapacity, layoutFor } from './schema.js';

export interface TableHandle<F extends TableFields> {
  readonly table: TableDef<F>;
  readonly capacity: number;
  readonly buffer: SharedArrayBuffer;
  readonly layout: TableLayout<F>;
  readonly views: TableViews<F>;
  /** 0 when created, +1 at each growth; tells threads which buffer is current. */
  readonly generation: number;
}

/**
 * What a thread posts to another so it can attach: plain data, structured-clone safe (the
 * SharedArrayBuffer is shared, not copied). `layoutHash` lets the receiver refuse a buffer
 * laid out by different code.
 */
export interface TableShare {
  readonly table: string;
  readonly layoutHash: number;
  readonly buffer: SharedArrayBuffer;
  readonly capacity: number;
  readonly generation: number;
}

type ArrayConstructor<T extends ElementType> = new (
  buffer: SharedArrayBuffer,
  byteOffset: number,
  length: number,
) => ElementArrays[T];

const ELEMENT_ARRAYS: { readonly [T in ElementType]: ArrayConstructor<T> } = {
  u8: Uint8Array,
  i16: Int16Array,
  u16: Uint16Array,
  i32: Int32Array,
  u32: Uint32Array,
  f64: Float64Array,
};

function columnView<T extends ElementType>(
  type: T,
  buffer: SharedArrayBuffer,
  byteOffset: number,
  length: number,
): ElementArrays[T] {
  const View: ArrayConstructor<T> = ELEMENT_ARRAYS[type];
  return new View(buffer, byteOffset, length);
}

function buildViews<F extends TableFields>(
  layout: TableLayout<F>,
  buffer: SharedArrayBuffer,
): TableViews<F> {
  const views: Record<string, ElementArrays[ElementType]> = {};
  for (const region of layout.columns) {
    const view = columnView(region.type, buffer, region.byteOffset, layout.capacity);
    // Re-check what the layout promised against what the engine actually built.
    assert(view.byteOffset === region.byteOffset, `${layout.table}.${region.name} view offset`);
    assert(view.byteLength === region.byteLength, `${layout.table}.${region.name} view length`);
    views[region.name] = view;
  }
  // One view per declared field, each of the declared element type (built just above).
  return Object.freeze(views) as TableViews<F>;
}

function fillRows<F extends TableFields>(
  layout: TableLayout<F>,
  views: TableViews<F>,
  fromRow: number,
): void {
  for (const region of layout.columns) {
    // Only ever called on a fresh SharedArrayBuffer, which is zeroed: only non-zero fills
    // cost a pass. (Filling zeros at every growth also touched every page of the new rows,
    // making them resident long before any row was used.)
    if (region.fill === 0) continue;
    const view: ElementArrays[ElementType] | undefined = views[region.name];
    assert(view !== undefined, `${layout.table}.${region.name} has no view`);
    view.fill(region.fill, fromRow);
  }
}

function makeHandle<F extends TableFields>(
  table: TableDef<F>,
  buffer: SharedArrayBuffer,
  capacity: number,
  generation: number,
): TableHandle<F> {
  assert(buffer instanceof SharedArrayBuffer, `${table.name} needs a SharedArrayBuffer`);
  assert(Number.isSafeInteger(generation) && generation >= 0, `bad generation ${generation}`);
  const layout = layoutFor(table, capacity);
  assert(
    buffer.byteLength === layout.byteLength,
    `${table.name} buffer is ${buffer.byteLength} bytes, layout for ${capacity} rows needs ` +
      `${layout.byteLength}`,
  );
  const views = buildViews(layout, buffer);
  return Object.freeze({ table, capacity, buffer, layout, views, generation });
}

/**
 * A new buffer for `capacity` rows, every column at its declared fill value. `generation` is
 * for structures that hand over by rebuilding rather than by `growTable` (the id index).
 */
export function createTable<F extends TableFields>(
  table: TableDef<F>,
  capacity: number,
  generation = 0,
): TableHandle<F> {
  assertCapacity(capacity, table.name);
  const buffer = new SharedArrayBuffer(layoutFor(table, capacity).byteLength);
  const handle = makeHandle(table, buffer, capacity, generation);
  fillRows(handle.layout, handle.views, 0);
  return handle;
}

/**
 * Views over a buffer another thread created (what a worker calls with the SAB it received).
 * Does not fill anything: the rows belong to the creator.
 */
export function attachTable<F extends TableFields>(
  table: TableDef<F>,
  buffer: SharedArrayBuffer,
  capacity: number,
  generation = 0,
): TableHandle<F> {
  return makeHandle(table, buffer, capacity, generation);
}

/** The message that lets another thread attach to `handle`. */
export function shareTable<F extends TableFields>(handle: TableHandle<F>): TableShare {
  return Object.freeze({
    table: handle.table.name,
    layoutHash: handle.table.hash,
    buffer: handle.buffer,
    capacity: handle.capacity,
    generation: handle.generation,
  });
}

/** Attaches from a `TableShare`, refusing one laid out by a different declaration. */
export function attachShared<F extends TableFields>(
  table: TableDef<F>,
  share: TableShare,
): TableHandle<F> {
  if (share.table !== table.name || share.layoutHash !== table.hash) {
    throw new UplineError(
      'UPLINE_LAYOUT_MISMATCH',
      `shared table ${share.table} (hash ${share.layoutHash}) is not ${table.name} ` +
        `(hash ${table.hash})`,
    );
  }
  return attachTable(table, share.buffer, share.capacity, share.generation);
}

/**
 * Handover growth: a new buffer of `newCapacity` rows holding a copy of every old row, new
 * rows at their fill values, `generation + 1`. The old handle is left untouched (see top).
 */
export function growTable<F extends TableFields>(
  handle: TableHandle<F>,
  newCapacity: number,
): TableHandle<F> {
  const { table } = handle;
  assertCapacity(newCapacity, table.name);
  assert(newCapacity > handle.capacity, `${table.name} must grow: ${newCapacity} <= current`);
  const buffer = new SharedArrayBuffer(layoutFor(table, newCapacity).byteLength);
  const next = makeHandle(table, buffer, newCapacity, handle.generation + 1);
  for (const region of handle.layout.columns) {
    const target = next.layout.column[region.name];
    assert(target !== undefined && target.type === region.type, `${table.name}.${region.name}`);
    // Old rows keep their position, so each column's region is a plain byte copy.
    const sourceBytes = new Uint8Array(handle.buffer, region.byteOffset, region.byteLength);
    new Uint8Array(buffer, target.byteOffset, region.byteLength).set(sourceBytes);
  }
  fillRows(next.layout, next.views, handle.capacity);
  return next;
}

/** The whole buffer as bytes: what a snapshot writes, or copies into a created table. */
export function tableBytes<F extends TableFields>(handle: TableHandle<F>): Uint8Array {
  return new Uint8Array(handle.buffer, 0, handle.layout.byteLength);
}
