/**
 * The layout DSL: the one place that turns a declaration (fields, element types, version)
 * into byte offsets. Everything that touches shared memory or a snapshot file builds its
 * views from a `TableDef` or `StructDef` declared with this module; nothing else computes an
 * offset by hand (STYLE principle 1).
 *
 * Two shapes:
 * - tables (struct-of-arrays): one column per field, all columns of a table in ONE
 *   SharedArrayBuffer, each column region aligned to 8 bytes. Rows are dense slots.
 * - structs: fixed-size little-endian records (file headers), read and written through a
 *   DataView at any byte offset.
 *
 * Every definition carries a 32-bit FNV-1a fingerprint of its canonical text, so bytes
 * written under one declaration are refused by another (UPLINE_LAYOUT_MISMATCH).
 */
import { assert } from '../src/core/assert.js';
import { UplineError } from '../src/core/errors.js';

// ---------------------------------------------------------------------------------------------
// Element types

/** Bytes per element of each column type. */
export const ELEMENT_BYTES = { u8: 1, i16: 2, u16: 2, i32: 4, u32: 4, f64: 8 } as const;
export type ElementType = keyof typeof ELEMENT_BYTES;

/** The typed array a column of each type is viewed through. */
export interface ElementArrays {
  u8: Uint8Array;
  i16: Int16Array;
  u16: Uint16Array;
  i32: Int32Array;
  u32: Uint32Array;
  f64: Float64Array;
}

/** Inclusive value range of each integer type; f64 only requires finiteness. */
const INTEGER_RANGE: { readonly [T in Exclude<ElementType, 'f64'>]: readonly [number, number] } = {
  u8: [0, 0xff],
  i16: [-0x8000, 0x7fff],
  u16: [0, 0xffff],
  i32: [-0x8000_0000, 0x7fff_ffff],
  u32: [0, 0xffff_ffff],
};

/** Every column region starts on this boundary, so any element type can follow any other. */
export const COLUMN_ALIGN_BYTES = 8;

/** Rows are addressed by i32 slots, so a table never holds more rows than an i32 can name. */
export const TABLE_CAPACITY_MAX = 0x7fff_ffff;

/** Whether `value` can be stored in a `type` element without being changed. */
export function fitsElement(type: ElementType | 'u64', value: number): boolean {
  if (type === 'f64') return Number.isFinite(value);
  if (type === 'u64') return Number.isSafeInteger(value) && value >= 0;
  const [min, max] = INTEGER_RANGE[type];
  return Number.isInteger(value) && value >= min && value <= max;
}

export function alignUp(value: number, alignment: number): number {
  assert(Number.isSafeInteger(value) && value >= 0, `alignUp value invalid: ${value}`);
  assert(alignment > 0 && (alignment & (alignment - 1)) === 0, 'alignment not a power of two');
  return Math.ceil(value / alignment) * alignment;
}

export function isPowerOfTwo(value: number): boolean {
  return Number.isSafeInteger(value) && value > 0 && 2 ** Math.round(Math.log2(value)) === value;
}

// ---------------------------------------------------------------------------------------------
// Fingerprints

const FNV_OFFSET_BASIS = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** 32-bit FNV-1a over an ASCII string (declarations are ASCII by construction). */
export function fnv1a32(text: string, seed = FNV_OFFSET_BASIS): number {
  let hash = seed >>> 0;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    assert(code < 0x80, `fingerprint text must be ASCII: ${JSON.stringify(text)}`);
    hash = Math.imul(hash ^ code, FNV_PRIME) >>> 0;
  }
  return hash;
}

/** One fingerprint for a set of definitions that are written together (a snapshot file). */
export function combineFingerprints(version: number, hashes: readonly number[]): number {
  const text = `v${version}|${hashes.map((hash) => hash.toString(16).padStart(8, '0')).join(',')}`;
  return fnv1a32(text);
}

/** Refuses bytes written under another layout: an operating error, not a programmer error. */
export function assertFingerprint(what: string, expected: number, actual: number): void {
  if (expected === actual) return;
  const hex = (hash: number) => `0x${hash.toString(16).padStart(8, '0')}`;
  throw new UplineError(
    'UPLINE_LAYOUT_MISMATCH',
    `${what} layout hash ${hex(actual)} does not match this build's ${hex(expected)}`,
  );
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

function assertDeclaration(name: string, version: number, fieldNames: readonly string[]): void {
  assert(IDENTIFIER.test(name), `layout name must be an identifier: ${JSON.stringify(name)}`);
  assert(Number.isInteger(version) && version >= 1 && version <= 0xffff, `bad version ${version}`);
  assert(fieldNames.length > 0, `layout ${name} has no fields`);
  for (const field of fieldNames) {
    // Integer-like keys would be reordered by the engine; the declared order is the layout.
    assert(IDENTIFIER.test(field), `layout ${name} field must be an identifier: ${field}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Tables (struct-of-arrays in one SharedArrayBuffer)

export interface ColumnSpec<T extends ElementType = ElementType> {
  readonly type: T;
  /** The value of a row nobody has written yet (created or grown), e.g. -1 for "no slot". */
  readonly fill: number;
}

export type TableFields = { readonly [field: string]: ColumnSpec };

/** `views.sponsor: Int32Array`, `views.gv: Float64Array`, ... straight from the declaration. */
export type TableViews<F extends TableFields> = {
  readonly [K in keyof F]: ElementArrays[F[K]['type']];
};

export interface TableDef<F extends TableFields> {
  readonly kind: 'table';
  readonly name: string;
  readonly version: number;
  readonly fields: F;
  /** Declaration order, which is also the order of the column regions in the buffer. */
  readonly fieldNames: readonly (keyof F & string)[];
  /** Sum of the element sizes: bytes one row costs, alignment padding aside. */
  readonly bytesPerRow: number;
  readonly hash: number;
}

export function column<T extends ElementType>(type: T, fill = 0): ColumnSpec<T> {
  assert(type in ELEMENT_BYTES, `unknown element type ${String(type)}`);
  assert(fitsElement(type, fill), `fill ${fill} does not fit a ${type} column`);
  return Object.freeze({ type, fill });
}

/** Zero-filled columns of each type, for terse declarations: `{ kind: u8, seq: f64 }`. */
export const u8 = column('u8');
export const i16 = column('i16');
export const u16 = column('u16');
export const i32 = column('i32');
export const u32 = column('u32');
export const f64 = column('f64');

/** The "no slot" value of every slot column. */
export const SLOT_NONE = -1;
/** An i32 slot column, initially "no slot". */
export const slot = column('i32', SLOT_NONE);

export function defineTable<F extends TableFields>(
  name: string,
  version: number,
  fields: F,
): TableDef<F> {
  const fieldNames = Object.keys(fields) as (keyof F & string)[];
  assertDeclaration(name, version, fieldNames);
  let bytesPerRow = 0;
  const parts: string[] = [];
  for (const field of fieldNames) {
    const spec = fields[field];
    assert(spec !== undefined && spec.type in ELEMENT_BYTES, `table ${name}.${field} bad type`);
    assert(fitsElement(spec.type, spec.fill), `table ${name}.${field} fill does not fit`);
    bytesPerRow += ELEMENT_BYTES[spec.type];
    parts.push(`${field}:${spec.type}=${spec.fill}`);
  }
  const hash = fnv1a32(`table ${name} v${version} ${parts.join(',')}`);
  return Object.freeze({
    kind: 'table',
    name,
    version,
    // A frozen copy: mutating the caller's object later cannot desync layout and hash.
    fields: Object.freeze({ ...fields }),
    fieldNames: Object.freeze(fieldNames),
    bytesPerRow,
    hash,
  });
}

export interface ColumnLayout {
  readonly name: string;
  readonly type: ElementType;
  readonly fill: number;
  /** From the start of the table's buffer; a multiple of COLUMN_ALIGN_BYTES. */
  readonly byteOffset: number;
  /** capacity * element size (the region's alignment padding is not included). */
  readonly byteLength: number;
}

export interface TableLayout<F extends TableFields> {
  readonly table: string;
  readonly capacity: number;
  /** The table's bytesPerRow, repeated here for whoever holds only the layout. */
  readonly bytesPerRow: number;
  /** Bytes of the whole buffer: every column region plus alignment padding. */
  readonly byteLength: number;
  /** In declaration order, which is ascending byteOffset. */
  readonly columns: readonly ColumnLayout[];
  readonly column: { readonly [K in keyof F]: ColumnLayout };
}

export function assertCapacity(capacity: number, what: string): void {
  assert(Number.isInteger(capacity), `${what} capacity must be an integer: ${capacity}`);
  assert(capacity >= 1, `${what} capacity must be >= 1: ${capacity}`);
  assert(capacity <= TABLE_CAPACITY_MAX, `${what} capacity exceeds i32 slots: ${capacity}`);
}

/** Where each column of `table` lives in a buffer of `capacity` rows. */
export function layoutFor<F extends TableFields>(
  table: TableDef<F>,
  capacity: number,
): TableLayout<F> {
  assertCapacity(capacity, table.name);
  const columns: ColumnLayout[] = [];
  const byName: Record<string, ColumnLayout> = {};
  let cursor = 0;
  for (const name of table.fieldNames) {
    const spec = table.fields[name];
    assert(spec !== undefined, `table ${table.name} lost field ${name}`);
    const byteOffset = alignUp(cursor, COLUMN_ALIGN_BYTES);
    const byteLength = capacity * ELEMENT_BYTES[spec.type];
    const { type, fill } = spec;
    const region = Object.freeze({ name, type, fill, byteOffset, byteLength });
    columns.push(region);
    byName[name] = region;
    cursor = byteOffset + byteLength;
  }
  const layout: TableLayout<F> = Object.freeze({
    table: table.name,
    capacity,
    bytesPerRow: table.bytesPerRow,
    byteLength: alignUp(cursor, COLUMN_ALIGN_BYTES),
    columns: Object.freeze(columns),
    // Every declared field was added to byName just above.
    column: Object.freeze(byName) as { readonly [K in keyof F]: ColumnLayout },
  });
  assertTableLayout(layout);
  return layout;
}

/** Sizes, alignment, no overlap, everything inside the buffer: checked on every layout. */
export function assertTableLayout<F extends TableFields>(layout: TableLayout<F>): void {
  const what = `table ${layout.table}`;
  assert(layout.byteLength % COLUMN_ALIGN_BYTES === 0, `${what} byteLength not aligned`);
  let previousEnd = 0;
  for (const region of layout.columns) {
    const elementBytes = ELEMENT_BYTES[region.type];
    assert(region.byteOffset % COLUMN_ALIGN_BYTES === 0, `${what}.${region.name} not aligned`);
    assert(region.byteOffset % elementBytes === 0, `${what}.${region.name} misaligned element`);
    assert(region.byteLength === layout.capacity * elementBytes, `${what}.${region.name} length`);
    assert(region.byteOffset >= previousEnd, `${what}.${region.name} overlaps the one before`);
    assert(region.byteOffset - previousEnd < COLUMN_ALIGN_BYTES, `${what}.${region.name} gap`);
    previousEnd = region.byteOffset + region.byteLength;
    assert(previousEnd <= layout.byteLength, `${what}.${region.name} overflows the buffer`);
  }
  assert(layout.byteLength - previousEnd < COLUMN_ALIGN_BYTES, `${what} trailing gap`);
  assert(layout.byteLength >= layout.capacity * layout.bytesPerRow, `${what} smaller than rows`);
}
