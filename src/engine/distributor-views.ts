/**
 * The engine's typed view of the DISTRIBUTORS table declared in native-layout/: one typed
 * array per field, indexed by dense slot (0, 1, 2, ... in enrollment order, so a sponsor's or
 * placement parent's slot is always smaller than its recruit's). Slots are -1 for "none".
 */
import { FLAG_TERMINATED, type DistributorFields } from '../../native-layout/layouts.js';
import type { TableHandle } from '../../native-layout/table.js';
import type { TableViews } from '../../native-layout/schema.js';

export type DistributorViews = TableViews<DistributorFields>;
export type DistributorHandle = TableHandle<DistributorFields>;

export {
  FLAG_AUTO_NEXT_RIGHT,
  FLAG_FIRST_ORDER_DONE,
  FLAG_PLACED,
  FLAG_PLACED_RIGHT,
  FLAG_TERMINATED,
} from '../../native-layout/layouts.js';

/**
 * SPEC 3: active when the period's pv reaches `activePv` and not terminated. One definition
 * for the sequencer's state, the walk workers and the close workers.
 */
export function isActiveSlot(
  d: Pick<DistributorViews, 'flags' | 'pv'>,
  activePv: number,
  slot: number,
): boolean {
  return (d.flags[slot]! & FLAG_TERMINATED) === 0 && d.pv[slot]! >= activePv;
}
