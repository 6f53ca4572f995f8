import * as fc from 'fast-check';

/**
 * Random event streams for property tests: a small id space so events collide (taken ids,
 * placement slots, refunds of refunded orders, duplicates), volumes big enough to reach every
 * rank, `at` gaps around the fast-start window, period closes, and malformed lines. Each
 * stream is a list of NDJSON lines, as `upline replay` reads them.
 */
const DAY_MS = 86_400_000;

const distributorId = fc.integer({ min: 1, max: 26 });
const orderId = fc.integer({ min: 1, max: 150 }).map((n) => `o${n}`);
const refundedOrderId = fc.integer({ min: 1, max: 60 }).map((n) => `o${n}`);
const pv = fc.constantFrom(0, 50, 100, 100, 150, 200, 400, 1000, 3000);
const cents = fc.oneof(fc.integer({ min: 0, max: 50_000 }), fc.constantFrom(0, 1, 9, 99_999));

type Body = Record<string, unknown>;

const enrollBody: fc.Arbitrary<Body> = fc.record({
  type: fc.constant('enroll'),
  distributor: distributorId,
  sponsor: fc.oneof(
    { weight: 1, arbitrary: fc.constant(null) },
    { weight: 6, arbitrary: distributorId },
  ),
  placement: fc.oneof(
    { weight: 5, arbitrary: fc.constant(null) },
    { weight: 1, arbitrary: fc.record({ parent: distributorId, leg: fc.constantFrom('L', 'R') }) },
  ),
});

const orderBody: fc.Arbitrary<Body> = fc.record({
  type: fc.constant('order'),
  order: orderId,
  distributor: distributorId,
  pv,
  cv: cents,
});

const otherBody: fc.Arbitrary<Body> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ type: fc.constant('refund'), order: refundedOrderId }) },
  {
    weight: 3,
    arbitrary: fc.record({
      type: fc.constant('withdraw'),
      distributor: distributorId,
      amount: fc.integer({ min: 1, max: 20_000 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ type: fc.constant('terminate'), distributor: distributorId }),
  },
  { weight: 2, arbitrary: fc.record({ type: fc.constant('period.close') }) },
);

const body: fc.Arbitrary<Body> = fc.oneof(
  { weight: 1, arbitrary: enrollBody },
  { weight: 10, arbitrary: orderBody },
  { weight: 2, arbitrary: otherBody },
);

/** One step: a body, a time gap, and whether it reuses an earlier event id (a retry). */
const step = fc.record({
  body,
  gapMs: fc.oneof(fc.integer({ min: 0, max: DAY_MS }), fc.constant(29 * DAY_MS)),
  reuse: fc.oneof({ weight: 12, arbitrary: fc.constant(-1) }, { weight: 1, arbitrary: fc.nat(50) }),
  malformed: fc.oneof(
    { weight: 30, arbitrary: fc.constant(null) },
    { weight: 1, arbitrary: fc.constantFrom('{', '[]', '{"id":"x","type":"order"}', 'null') },
  ),
});

/**
 * A valid random network first (every distributor of 1..24 enrolled, in random order, under
 * a random earlier one or as a root), so the random steps after it meet a real genealogy;
 * then the steps, which also enroll, collide and misbehave.
 */
const network = fc
  .shuffledSubarray(
    Array.from({ length: 24 }, (_, index) => index + 1),
    { minLength: 8, maxLength: 24 },
  )
  .chain((ids) =>
    fc.tuple(
      fc.constant(ids),
      fc.array(fc.nat(), { minLength: ids.length, maxLength: ids.length }),
      fc.array(fc.boolean(), { minLength: ids.length, maxLength: ids.length }),
    ),
  );

/** Orders and withdrawals mostly name enrolled distributors (ids 1..20 map onto them). */
function enrolledMostly(body: Body, ids: readonly number[]): Body {
  const distributor = body['distributor'];
  if (body['type'] === 'enroll' || typeof distributor !== 'number' || distributor > 20) return body;
  return { ...body, distributor: ids[distributor % ids.length] };
}

export function eventLines(stepsMax = 250): fc.Arbitrary<string[]> {
  const steps = fc.array(step, { minLength: 80, maxLength: stepsMax, size: 'max' });
  return fc.tuple(network, steps).map(([[ids, sponsorPicks, roots], items]) => {
    const lines: string[] = [];
    const eventIds: string[] = [];
    let at = 1_700_000_000_000;
    ids.forEach((distributor, index) => {
      const rootHere = index === 0 || (roots[index] === true && index % 7 === 0);
      const sponsor = rootHere ? null : ids[(sponsorPicks[index] ?? 0) % index];
      const id = `n${index}`;
      eventIds.push(id);
      at += 3_600_000;
      lines.push(JSON.stringify({ id, type: 'enroll', at, distributor, sponsor }));
    });
    items.forEach((item, index) => {
      if (item.malformed !== null) {
        lines.push(item.malformed);
        return;
      }
      at += item.gapMs;
      const reused = item.reuse >= 0 ? eventIds[item.reuse % eventIds.length] : undefined;
      const id = reused ?? `e${index}`;
      eventIds.push(id);
      lines.push(JSON.stringify({ id, at, ...enrolledMostly(item.body, ids) }));
    });
    return lines;
  });
}
