/**
 * native-layout: the single source of truth for every shared-memory and on-disk binary
 * layout of upline. See README.md for the design.
 */
export {
  ELEMENT_BYTES,
  COLUMN_ALIGN_BYTES,
  TABLE_CAPACITY_MAX,
  SLOT_NONE,
  alignUp,
  assertCapacity,
  assertFingerprint,
  assertTableLayout,
  column,
  combineFingerprints,
  defineTable,
  f64,
  fitsElement,
  fnv1a32,
  i16,
  i32,
  isPowerOfTwo,
  layoutFor,
  slot,
  u16,
  u32,
  u8,
} from './schema.js';
export type {
  ColumnLayout,
  ColumnSpec,
  ElementArrays,
  ElementType,
  TableDef,
  TableFields,
  TableLayout,
  TableViews,
} from './schema.js';
export {
  attachShared,
  attachTable,
  createTable,
  growTable,
  shareTable,
  tableBytes,
} from './table.js';
export type { TableHandle, TableShare } from './table.js';
export { STRUCT_FIELD_BYTES, defineStruct, readStruct, writeStruct } from './struct.js';
export type { StructDef, StructFields, StructFieldType, StructValue } from './struct.js';
export {
  DISTRIBUTORS,
  DISTRIBUTOR_ID_MAX,
  FLAG_AUTO_NEXT_RIGHT,
  FLAG_FIRST_ORDER_DONE,
  FLAG_PLACED,
  FLAG_PLACED_RIGHT,
  FLAG_TERMINATED,
  ID_INDEX,
  ID_INDEX_CAPACITY_MIN,
  ID_INDEX_EMPTY,
  ID_INDEX_LOAD_MAX,
  ID_INDEX_POSITIONS_PER_ROW,
  ID_INDEX_ROWS_MAX,
  ID_INDEX_TAG_SHIFT,
  idIndexSizeMax,
  LAYOUT_VERSION,
  SNAPSHOT_HEADER,
  SNAPSHOT_LAYOUT_HASH,
  SNAPSHOT_MAGIC,
  idIndexCapacityFor,
  nextPowerOfTwo,
} from './layouts.js';
export type { DistributorFields } from './layouts.js';
export { IdIndex, hashId } from './id-index.js';
export type { IdIndexDistributors } from './id-index.js';
export { decodeSnapshotHeader, encodeSnapshotHeader, snapshotLayout } from './snapshot.js';
export type { FileRegion, SnapshotHeaderInfo, SnapshotLayout } from './snapshot.js';
export {
  SHARED_BYTES_PER_DISTRIBUTOR_MAX,
  budgetRows,
  renderBudgetTable,
  sharedBytesPerDistributor,
} from './budget.js';
export type { BudgetRow } from './budget.js';
export {
  ORDER_LINES,
  ORDER_LINES_VERSION,
  orderLinesBytes,
  orderLinesCount,
  readOrderLines,
  writeOrderLines,
} from './order-lines.js';
export type { OrderLine, OrderLinesColumns } from './order-lines.js';
