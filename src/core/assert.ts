/**
 * Assertions stay on in production: a broken invariant must crash loudly rather than pay a
 * wrong cent (TigerBeetle style). Use for programmer errors only; operating errors (bad
 * events, bad config) are `UplineError`s with a stable code.
 */
export class AssertionError extends Error {
  override readonly name = 'AssertionError';
  readonly code = 'UPLINE_ASSERTION';
}

export function assert(condition: unknown, message = 'assertion failed'): asserts condition {
  if (!condition) throw new AssertionError(message);
}

/** Asserts that `value` is a safe integer: money and volume sums must never lose precision. */
export function assertSafeInteger(value: number, what: string): void {
  if (!Number.isSafeInteger(value)) {
    throw new AssertionError(`${what} is not a safe integer: ${value}`);
  }
}

export function unreachable(value: never, message = 'unreachable'): never {
  throw new AssertionError(`${message}: ${String(value)}`);
}
