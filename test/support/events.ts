import type {
  EnrollEvent,
  Leg,
  OrderEvent,
  PeriodCloseEvent,
  Placement,
  RefundEvent,
  TerminateEvent,
  WithdrawEvent,
} from '../../src/events/types.js';

/**
 * Terse builders for test events. They produce plain objects of the ingest shape (SPEC 2),
 * not yet validated: feed them to `validateEvent`, or `JSON.stringify` them into NDJSON lines.
 * `at` defaults to 0.
 */

export const DAY_MS = 86_400_000;
/** SPEC 3: the fast start window of the reference plan. */
export const THIRTY_DAYS_MS = 30 * DAY_MS;

export interface EventOptions {
  readonly at?: number;
}

export interface EnrollOptions extends EventOptions {
  readonly placement?: Placement | null;
}

export function place(parent: number, leg: Leg): Placement {
  return { parent, leg };
}

export function enroll(
  id: string,
  distributor: number,
  sponsor: number | null,
  options: EnrollOptions = {},
): EnrollEvent {
  const placement = options.placement ?? null;
  return { id, type: 'enroll', at: options.at ?? 0, distributor, sponsor, placement };
}

export function order(
  id: string,
  orderId: string,
  distributor: number,
  pv: number,
  cv: number,
  options: EventOptions = {},
): OrderEvent {
  return { id, type: 'order', at: options.at ?? 0, order: orderId, distributor, pv, cv };
}

export function refund(id: string, orderId: string, options: EventOptions = {}): RefundEvent {
  return { id, type: 'refund', at: options.at ?? 0, order: orderId };
}

export function withdraw(
  id: string,
  distributor: number,
  amount: number,
  options: EventOptions = {},
): WithdrawEvent {
  return { id, type: 'withdraw', at: options.at ?? 0, distributor, amount };
}

export function terminate(
  id: string,
  distributor: number,
  options: EventOptions = {},
): TerminateEvent {
  return { id, type: 'terminate', at: options.at ?? 0, distributor };
}

export function periodClose(id: string, options: EventOptions = {}): PeriodCloseEvent {
  return { id, type: 'period.close', at: options.at ?? 0 };
}

/** Events as an NDJSON text, one event a line, with a trailing newline. */
export function toNdjson(events: readonly object[]): string {
  return events.map((event) => `${JSON.stringify(event)}\n`).join('');
}

/**
 * A chain of enrollments: `chain('c', [1, 2, 3])` enrolls 1 as a root, 2 under 1, 3 under 2
 * (ids `c1`, `c2`, ...), auto-placed.
 */
export function chain(prefix: string, distributors: readonly number[]): EnrollEvent[] {
  const events: EnrollEvent[] = [];
  let sponsor: number | null = null;
  for (const distributor of distributors) {
    events.push(enroll(`${prefix}${distributor}`, distributor, sponsor));
    sponsor = distributor;
  }
  return events;
}

/**
 * A sponsor line 1 ← 2 ← ... ← `length`, then one order of 100 PV / 10,000 cents each, so
 * every one is active and every upline gets paid: the server and dashboard tests' network.
 */
export function activeLine(length: number): (EnrollEvent | OrderEvent)[] {
  const events: (EnrollEvent | OrderEvent)[] = [];
  for (let id = 1; id <= length; id++) events.push(enroll(`e${id}`, id, id === 1 ? null : id - 1));
  for (let id = 1; id <= length; id++) events.push(order(`a${id}`, `oa${id}`, id, 100, 10_000));
  return events;
}
