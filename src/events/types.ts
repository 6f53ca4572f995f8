/**
 * The ingest contract of SPEC section 2, as validated, normalized values. Every event the
 * engine processes has passed `validateEvent`; unknown fields are dropped there.
 */
export type Leg = 'L' | 'R';

export interface Placement {
  readonly parent: number;
  readonly leg: Leg;
}

interface EventBase {
  readonly id: string;
  readonly at: number;
}

export interface EnrollEvent extends EventBase {
  readonly type: 'enroll';
  readonly distributor: number;
  readonly sponsor: number | null;
  readonly placement: Placement | null;
}

export interface OrderEvent extends EventBase {
  readonly type: 'order';
  readonly order: string;
  readonly distributor: number;
  readonly pv: number;
  readonly cv: number;
}

export interface RefundEvent extends EventBase {
  readonly type: 'refund';
  readonly order: string;
}

export interface WithdrawEvent extends EventBase {
  readonly type: 'withdraw';
  readonly distributor: number;
  readonly amount: number;
}

export interface TerminateEvent extends EventBase {
  readonly type: 'terminate';
  readonly distributor: number;
}

export interface PeriodCloseEvent extends EventBase {
  readonly type: 'period.close';
}

export type UplineEvent =
  EnrollEvent | OrderEvent | RefundEvent | WithdrawEvent | TerminateEvent | PeriodCloseEvent;

export type EventType = UplineEvent['type'];

/** The order an event names: an order's own id, or the order a refund reverses; else null. */
export function orderIdOf(event: UplineEvent): string | null {
  return event.type === 'order' || event.type === 'refund' ? event.order : null;
}

export const EVENT_TYPES: readonly EventType[] = [
  'enroll',
  'order',
  'refund',
  'withdraw',
  'terminate',
  'period.close',
];
