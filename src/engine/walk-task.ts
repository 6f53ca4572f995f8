import {
  CHANGE_ENTRIES,
  CHANGE_TABLE,
  ORDER_BATCH,
  WALK_LINES,
} from '../../native-layout/batch-layouts.js';
import { DISTRIBUTORS } from '../../native-layout/layouts.js';
import type { TableDef, TableFields, TableViews } from '../../native-layout/schema.js';
import { attachShared, type TableShare } from '../../native-layout/table.js';
import { assert } from '../core/assert.js';
import type { CompiledPlan } from './compiled-plan.js';
import type { WalkContext } from './walk.js';
import type { CloseContext, CloseFigures } from './close-kernel.js';

/**
 * A walk task: which orders of the current batch to walk, and the shared tables to walk them
 * over. Plain data (the SharedArrayBuffers are shared, not copied), posted once per task, so
 * a task costs one message for thousands of orders.
 */
export interface WalkTask {
  readonly kind: 'walk';
  readonly distributors: TableShare;
  readonly changeTable: TableShare;
  readonly changeEntries: TableShare;
  readonly orders: TableShare;
  readonly walkLines: TableShare;
  readonly fromIndex: number;
  readonly toIndex: number;
}

/** A period close's per-distributor part for slots [fromSlot, toSlot) (close-kernel.ts). */
export interface CloseTask {
  readonly kind: 'close';
  readonly distributors: TableShare;
  readonly figures: CloseFigures;
  readonly fromSlot: number;
  readonly toSlot: number;
}

export type WorkerTask = WalkTask | CloseTask;

/**
 * Splits rows [0, count) into `taskCount` contiguous ranges of near-equal size, runs one task
 * per range at once, and asserts the tasks together covered every row exactly once.
 */
export async function runInRanges(
  count: number,
  taskCount: number,
  run: (fromRow: number, toRow: number) => Promise<number>,
): Promise<void> {
  assert(Number.isInteger(taskCount) && taskCount >= 1 && taskCount <= count, 'task count');
  const tasks: Promise<number>[] = [];
  for (let task = 0; task < taskCount; task++) {
    const fromRow = Math.floor((count * task) / taskCount);
    const toRow = Math.floor((count * (task + 1)) / taskCount);
    tasks.push(run(fromRow, toRow));
  }
  const done = await Promise.all(tasks);
  assert(done.reduce((sum, rows) => sum + rows, 0) === count, 'every row ran in one task');
}

/**
 * Views over a task's tables, rebuilt only when a table's buffer changed (it changes only at
 * a handover growth), so a steady stream of tasks builds no views.
 */
export class WalkViewCache {
  private readonly cache = new Map<string, { buffer: SharedArrayBuffer; views: unknown }>();

  constructor(private readonly plan: CompiledPlan) {}

  closeContextFor(task: CloseTask): CloseContext {
    return {
      plan: this.plan,
      distributors: this.views(DISTRIBUTORS, task.distributors),
    };
  }

  contextFor(task: WalkTask): WalkContext {
    const changeTable = this.views(CHANGE_TABLE, task.changeTable);
    const changeEntries = this.views(CHANGE_ENTRIES, task.changeEntries);
    return {
      plan: this.plan,
      distributors: this.views(DISTRIBUTORS, task.distributors),
      changes: { ...changeTable, ...changeEntries },
      orders: this.views(ORDER_BATCH, task.orders),
      lines: this.views(WALK_LINES, task.walkLines),
    };
  }

  private views<F extends TableFields>(table: TableDef<F>, share: TableShare): TableViews<F> {
    const cached = this.cache.get(table.name);
    // The cache holds exactly the views attachShared built for this table name.
    if (cached !== undefined && cached.buffer === share.buffer)
      return cached.views as TableViews<F>;
    const views = attachShared(table, share).views;
    this.cache.set(table.name, { buffer: share.buffer, views });
    return views;
  }
}
