import { EventLineScanner } from './line-scan.js';
import type { ValidationReason } from './reasons.js';
import type { Leg, UplineEvent } from './types.js';

/**
 * Validation of one event on its own (SPEC 2 and 7.1), before any rule of the plan is looked
 * at. Hand-written rather than a schema library: it runs once per event on the ingest hot
 * path, must allocate only the normalized event, and must name the SPEC reason code of the
 * first bad field. Plan and config files use a schema library (zod) instead.
 */

export const ID_LENGTH_MAX = 64;
export const ORDER_ID_LENGTH_MAX = 64;
export const DISTRIBUTOR_ID_MAX = 2 ** 31 - 1;
/**
 * Upper bound for `pv`, `cv` and `amount` of a single event: 10^12 (ten billion dollars in
 * cents). SPEC only asks for safe integers; the bound keeps every per-distributor and
 * per-period sum of millions of events exact in 53 bits.
 */
export const VALUE_MAX = 1_000_000_000_000;

export interface ValidationError {
  readonly reason: ValidationReason;
  readonly field: string;
  readonly message: string;
}

export type Validated =
  | { readonly ok: true; readonly event: UplineEvent }
  | { readonly ok: false; readonly error: ValidationError };

function fail(reason: ValidationReason, field: string, message: string): Validated {
  return { ok: false, error: { reason, field, message } };
}

function isDistributorId(value: unknown): value is number {
  return (
    typeof value === 'number' &&
    Number.isInteger(value) &&
    value >= 1 &&
    value <= DISTRIBUTOR_ID_MAX
  );
}

function isValue(value: unknown, min: number): value is number {
  return (
    typeof value === 'number' && Number.isSafeInteger(value) && value >= min && value <= VALUE_MAX
  );
}

function isStringId(value: unknown, lengthMax: number): value is string {
  return typeof value === 'string' && value.length >= 1 && value.length <= lengthMax;
}

const DISTRIBUTOR_MESSAGE = `distributor must be an integer from 1 to ${DISTRIBUTOR_ID_MAX}`;

/**
 * The fields validation reads, gathered either from a parsed value (`validateEvent`) or by the
 * line scanner (line-scan.ts) straight from the text, so both are judged by one set of rules.
 * `unknown` because they are still unchecked; `hasSponsor` because an absent sponsor and a
 * null one mean different things.
 */
export class EventFields {
  id: unknown = undefined;
  type: unknown = undefined;
  at: unknown = undefined;
  distributor: unknown = undefined;
  hasSponsor = false;
  sponsor: unknown = undefined;
  placement: unknown = undefined;
  order: unknown = undefined;
  pv: unknown = undefined;
  cv: unknown = undefined;
  amount: unknown = undefined;

  clear(): void {
    this.id = undefined;
    this.type = undefined;
    this.at = undefined;
    this.distributor = undefined;
    this.hasSponsor = false;
    this.sponsor = undefined;
    this.placement = undefined;
    this.order = undefined;
    this.pv = undefined;
    this.cv = undefined;
    this.amount = undefined;
  }
}

// Reused by `validateEvent` and `parseEventLine`: validation is synchronous and keeps no
// reference to the fields it read.
const objectFields = new EventFields();
const lineFields = new EventFields();
const lineScanner = new EventLineScanner();

/** Validates a parsed JSON or MessagePack value; never throws. */
export function validateEvent(raw: unknown): Validated {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return fail('not_an_object', '', 'event must be a JSON object');
  }
  const input = raw as Record<string, unknown>;
  const fields = objectFields;
  fields.id = input['id'];
  fields.type = input['type'];
  fields.at = input['at'];
  fields.distributor = input['distributor'];
  fields.hasSponsor = 'sponsor' in input;
  fields.sponsor = input['sponsor'];
  fields.placement = input['placement'];
  fields.order = input['order'];
  fields.pv = input['pv'];
  fields.cv = input['cv'];
  fields.amount = input['amount'];
  const validated = validateFields(fields);
  fields.clear();
  return validated;
}

/** Validates gathered fields, first bad field first (SPEC 7.1); never throws. */
function validateFields(fields: EventFields): Validated {
  const id = fields.id;
  if (!isStringId(id, ID_LENGTH_MAX)) {
    return fail('invalid_id', 'id', `id must be a string of 1 to ${ID_LENGTH_MAX} characters`);
  }
  const type = fields.type;
  const at = fields.at;
  if (typeof type !== 'string') return fail('unknown_type', 'type', 'type must be a string');
  if (typeof at !== 'number' || !Number.isSafeInteger(at) || at < 0) {
    return fail('invalid_at', 'at', 'at must be a safe integer of epoch milliseconds >= 0');
  }
  switch (type) {
    case 'enroll':
      return validateEnroll(fields, id, at);
    case 'order':
      return validateOrder(fields, id, at);
    case 'refund': {
      const order = fields.order;
      if (!isStringId(order, ORDER_ID_LENGTH_MAX)) return orderFail();
      return { ok: true, event: { id, type, at, order } };
    }
    case 'withdraw': {
      const distributor = fields.distributor;
      if (!isDistributorId(distributor)) {
        return fail('invalid_distributor', 'distributor', DISTRIBUTOR_MESSAGE);
      }
      const amount = fields.amount;
      if (!isValue(amount, 1)) {
        return fail('invalid_amount', 'amount', `amount must be an integer from 1 to ${VALUE_MAX}`);
      }
      return { ok: true, event: { id, type, at, distributor, amount } };
    }
    case 'terminate': {
      const distributor = fields.distributor;
      if (!isDistributorId(distributor)) {
        return fail('invalid_distributor', 'distributor', DISTRIBUTOR_MESSAGE);
      }
      return { ok: true, event: { id, type, at, distributor } };
    }
    case 'period.close':
      return { ok: true, event: { id, type, at } };
    default:
      return fail(
        'unknown_type',
        'type',
        `unknown event type ${JSON.stringify(type.slice(0, 32))}`,
      );
  }
}

function orderFail(): Validated {
  return fail(
    'invalid_order',
    'order',
    `order must be a string of 1 to ${ORDER_ID_LENGTH_MAX} characters`,
  );
}

function validateEnroll(fields: EventFields, id: string, at: number): Validated {
  const distributor = fields.distributor;
  if (!isDistributorId(distributor)) {
    return fail('invalid_distributor', 'distributor', DISTRIBUTOR_MESSAGE);
  }
  if (!fields.hasSponsor) {
    return fail('invalid_sponsor', 'sponsor', 'sponsor must be present (null makes a root)');
  }
  const sponsor = fields.sponsor;
  if (sponsor !== null && !isDistributorId(sponsor)) {
    return fail('invalid_sponsor', 'sponsor', `sponsor must be null or ${DISTRIBUTOR_MESSAGE}`);
  }
  const rawPlacement = fields.placement;
  if (rawPlacement === undefined || rawPlacement === null) {
    return { ok: true, event: { id, type: 'enroll', at, distributor, sponsor, placement: null } };
  }
  if (typeof rawPlacement !== 'object' || Array.isArray(rawPlacement)) {
    return fail('invalid_placement', 'placement', 'placement must be null or {parent, leg}');
  }
  const placementInput = rawPlacement as Record<string, unknown>;
  const parent = placementInput['parent'];
  if (!isDistributorId(parent)) {
    return fail(
      'invalid_placement',
      'placement.parent',
      `placement.parent: ${DISTRIBUTOR_MESSAGE}`,
    );
  }
  const leg = placementInput['leg'];
  if (leg !== 'L' && leg !== 'R') {
    return fail('invalid_placement', 'placement.leg', 'placement.leg must be "L" or "R"');
  }
  const placement = { parent, leg: leg as Leg };
  return { ok: true, event: { id, type: 'enroll', at, distributor, sponsor, placement } };
}

function validateOrder(fields: EventFields, id: string, at: number): Validated {
  const order = fields.order;
  if (!isStringId(order, ORDER_ID_LENGTH_MAX)) return orderFail();
  const distributor = fields.distributor;
  if (!isDistributorId(distributor)) {
    return fail('invalid_distributor', 'distributor', DISTRIBUTOR_MESSAGE);
  }
  const pv = fields.pv;
  if (!isValue(pv, 0))
    return fail('invalid_pv', 'pv', `pv must be an integer from 0 to ${VALUE_MAX}`);
  const cv = fields.cv;
  if (!isValue(cv, 0))
    return fail('invalid_cv', 'cv', `cv must be an integer from 0 to ${VALUE_MAX}`);
  return { ok: true, event: { id, type: 'order', at, order, distributor, pv, cv } };
}

/** Parses one NDJSON line and validates it; a line that is not JSON is `malformed_json`. */
export function parseEventLine(line: string): Validated {
  if (lineScanner.scan(line, lineFields)) {
    const validated = validateFields(lineFields);
    lineFields.clear();
    return validated;
  }
  return parseEventLineWithJson(line);
}

/**
 * `parseEventLine` by `JSON.parse` alone: its fallback for lines outside the scanner's subset,
 * and the plain path the serial reference and the scanner's property test use.
 */
export function parseEventLineWithJson(line: string): Validated {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    return fail('malformed_json', '', 'line is not valid JSON');
  }
  return validateEvent(raw);
}

/** One input checked: a raw NDJSON line is parsed and validated, any other value validated. */
export function checkInput(input: unknown): Validated {
  return typeof input === 'string' ? parseEventLine(input) : validateEvent(input);
}
