import type { RejectReason } from './reasons.js';

/**
 * The answer for one event (SPEC 6): `seq` is the sequence number the event took, or for a
 * duplicate the seq of the first event with that id; an event that failed validation takes
 * no seq (null). A duplicate carries the first event's outcome.
 */
export type EventResult =
  | { readonly seq: number; readonly status: 'accepted' }
  | { readonly seq: number | null; readonly status: 'rejected'; readonly reason: RejectReason }
  | {
      readonly seq: number;
      readonly status: 'duplicate';
      readonly first: { readonly status: 'accepted' | 'rejected'; readonly reason?: RejectReason };
    };
