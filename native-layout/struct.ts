/**
 * Fixed-size records (file headers): declared once, read and written little-endian through a
 * DataView at any byte offset. Fields are laid out in declaration order, each at its natural
 * alignment, and a declaration that would need implicit padding is refused: padding must be
 * an explicit `reserved*` field so every byte of a file is named (TigerBeetle's no-padding
 * rule). `SIZEOF` is a multiple of 8 so records can be followed by 8-aligned regions.
 */
import { assert, unreachable } from '../src/core/assert.js';
import { fitsElement, fnv1a32 } from './schema.js';

/** Bytes per field of each struct field type; u64 is read and written as a bigint. */
export const STRUCT_FIELD_BYTES = {
  u8: 1,
  i16: 2,
  u16: 2,
  i32: 4,
  u32: 4,
  f64: 8,
  u64: 8,
} as const;
export type StructFieldType = keyof typeof STRUCT_FIELD_BYTES;

export type StructFields = { readonly [field: string]: StructFieldType };

export type StructValue<F extends StructFields> = {
  [K in keyof F]: F[K] extends 'u64' ? bigint : number;
};

export interface StructMember {
  readonly name: string;
  readonly type: StructFieldType;
  readonly byteOffset: number;
}

export interface StructDef<F extends StructFields> {
  readonly kind: 'struct';
  readonly name: string;
  readonly version: number;
  readonly fields: F;
  readonly fieldNames: readonly (keyof F & string)[];
  /** Fields in declaration (= byte) order, for loops. */
  readonly members: readonly StructMember[];
  /** Byte offset of each field from the record's start. */
  readonly offsets: { readonly [K in keyof F]: number };
  /** Bytes of one record. */
  readonly SIZEOF: number;
  readonly hash: number;
}

const STRUCT_ALIGN_BYTES = 8;
const U64_MAX = (1n << 64n) - 1n;
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function defineStruct<const F extends StructFields>(
  name: string,
  version: number,
  fields: F,
): StructDef<F> {
  assert(IDENTIFIER.test(name), `struct name must be an identifier: ${name}`);
  assert(Number.isInteger(version) && version >= 1 && version <= 0xffff, `bad version ${version}`);
  const fieldNames = Object.keys(fields) as (keyof F & string)[];
  assert(fieldNames.length > 0, `struct ${name} has no fields`);
  const offsets: Record<string, number> = {};
  const members: StructMember[] = [];
  const parts: string[] = [];
  let cursor = 0;
  for (const field of fieldNames) {
    assert(IDENTIFIER.test(field), `struct ${name} field must be an identifier: ${field}`);
    const type = fields[field];
    assert(type !== undefined && type in STRUCT_FIELD_BYTES, `struct ${name}.${field} bad type`);
    const size = STRUCT_FIELD_BYTES[type];
    assert(cursor % size === 0, `struct ${name}.${field} would need padding: add a reserved field`);
    offsets[field] = cursor;
    members.push(Object.freeze({ name: field, type, byteOffset: cursor }));
    parts.push(`${field}:${type}@${cursor}`);
    cursor += size;
  }
  assert(cursor % STRUCT_ALIGN_BYTES === 0, `struct ${name} size ${cursor} not a multiple of 8`);
  return Object.freeze({
    kind: 'struct',
    name,
    version,
    fields: Object.freeze({ ...fields }),
    fieldNames: Object.freeze(fieldNames),
    members: Object.freeze(members),
    // Every declared field got its offset just above.
    offsets: Object.freeze(offsets) as { readonly [K in keyof F]: number },
    SIZEOF: cursor,
    hash: fnv1a32(`struct ${name} v${version} ${parts.join(',')}`),
  });
}

function dataViewAt(bytes: ArrayBufferView, byteOffset: number, byteLength: number): DataView {
  assert(Number.isInteger(byteOffset) && byteOffset >= 0, `bad struct offset ${byteOffset}`);
  assert(byteOffset + byteLength <= bytes.byteLength, 'struct does not fit in the bytes given');
  return new DataView(bytes.buffer, bytes.byteOffset + byteOffset, byteLength);
}

function readField(view: DataView, type: StructFieldType, offset: number): number | bigint {
  switch (type) {
    case 'u8':
      return view.getUint8(offset);
    case 'i16':
      return view.getInt16(offset, true);
    case 'u16':
      return view.getUint16(offset, true);
    case 'i32':
      return view.getInt32(offset, true);
    case 'u32':
      return view.getUint32(offset, true);
    case 'f64':
      return view.getFloat64(offset, true);
    case 'u64':
      return view.getBigUint64(offset, true);
    default:
      return unreachable(type, 'struct field type');
  }
}

function writeField(view: DataView, type: StructFieldType, offset: number, value: unknown): void {
  if (type === 'u64') {
    assert(typeof value === 'bigint' && value >= 0n && value <= U64_MAX, `u64 out of range`);
    view.setBigUint64(offset, value, true);
    return;
  }
  assert(typeof value === 'number' && fitsElement(type, value), `${String(value)} is no ${type}`);
  switch (type) {
    case 'u8':
      return view.setUint8(offset, value);
    case 'i16':
      return view.setInt16(offset, value, true);
    case 'u16':
      return view.setUint16(offset, value, true);
    case 'i32':
      return view.setInt32(offset, value, true);
    case 'u32':
      return view.setUint32(offset, value, true);
    case 'f64':
      return view.setFloat64(offset, value, true);
    default:
      return unreachable(type, 'struct field type');
  }
}

/** Reads one record at `byteOffset` of `bytes` (a Buffer, Uint8Array or DataView). */
export function readStruct<F extends StructFields>(
  struct: StructDef<F>,
  bytes: ArrayBufferView,
  byteOffset = 0,
): StructValue<F> {
  const view = dataViewAt(bytes, byteOffset, struct.SIZEOF);
  const value: Record<string, number | bigint> = {};
  for (const member of struct.members) {
    value[member.name] = readField(view, member.type, member.byteOffset);
  }
  // Each field was read with the reader of its declared type (bigint exactly for u64).
  return value as StructValue<F>;
}

/** Writes one record at `byteOffset`; every value must fit its declared type exactly. */
export function writeStruct<F extends StructFields>(
  struct: StructDef<F>,
  bytes: ArrayBufferView,
  byteOffset: number,
  value: StructValue<F>,
): void {
  const view = dataViewAt(bytes, byteOffset, struct.SIZEOF);
  // The declared names are exactly StructValue<F>'s keys.
  const values = value as Readonly<Record<string, number | bigint>>;
  for (const member of struct.members) {
    writeField(view, member.type, member.byteOffset, values[member.name]);
  }
}
