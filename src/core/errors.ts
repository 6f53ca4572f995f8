/**
 * Operating errors: bad config, bad plan, bad arguments, full queues. Each carries a stable
 * `code` an operator can grep for and a message that names the field (undici style).
 */
export type UplineErrorCode =
  | 'UPLINE_INVALID_PLAN'
  | 'UPLINE_INVALID_CONFIG'
  | 'UPLINE_USAGE'
  | 'UPLINE_IO'
  | 'UPLINE_LAYOUT_MISMATCH'
  | 'UPLINE_DB_MISMATCH'
  | 'UPLINE_QUEUE_FULL'
  | 'UPLINE_CAPACITY';

export class UplineError extends Error {
  override readonly name = 'UplineError';
  constructor(
    readonly code: UplineErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
