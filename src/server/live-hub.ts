import { assert } from '../core/assert.js';
import type { BatchView } from '../engine/engine.js';
import type { EngineState } from '../engine/state.js';
import { emptyEarnings } from '../export/summary.js';
import { lineTypeFromCode, orderOfLine, type EarningType } from '../ledger/line.js';
import type { Plan } from '../plan/plan.js';
import {
  FIGURE_COUNT,
  figuresOf,
  readFigures,
  type DistributorSnapshot,
  type ViewLine,
} from './distributor-view.js';

/** The pub/sub topic of one distributor's feed. */
export function distributorTopic(id: number): string {
  return `d/${id}`;
}

/** One watched distributor: what its subscribers last saw and what they have not seen yet. */
interface Watch {
  subscribers: number;
  /** Figures as of the last capture, to send only what changed. */
  readonly figures: Float64Array;
  /** Lines sequenced since the last capture, in ledger order. */
  pendingLines: ViewLine[];
  /** Net earnings by type as of `asOfSeq`; null until the first snapshot is answered. */
  earnings: Record<EarningType, number> | null;
  asOfSeq: number;
}

/** The changes of one group commit, captured when sequenced and published once durable. */
export interface Publication {
  readonly seq: number;
  readonly entries: readonly PublicationEntry[];
}

interface PublicationEntry {
  readonly id: number;
  readonly slot: number;
  readonly lines: readonly ViewLine[];
  /** The figures at capture time (a copy: the watch's array moves on). */
  readonly figures: ReturnType<typeof figuresOf>;
}

/**
 * Live balances (SPEC 6 `WS /v1/live`). Only watched distributors cost anything: the engine's
 * batch observer files each new line of a watched beneficiary, every group commit captures the
 * watched figures that changed (ranks and volumes change without lines of one's own), and the
 * capture is published only once its commit is durable, coalesced to one message per
 * distributor per commit. Earnings by type are the ledger's sum as of the snapshot's seq plus
 * the lines published after it, so the feed never reads the database per commit.
 */
export class LiveHub {
  private readonly watches = new Map<number, Watch>();

  constructor(
    private readonly state: EngineState,
    private readonly plan: Plan,
    private readonly publish: (topic: string, message: string) => void,
  ) {}

  get watchedCount(): number {
    return this.watches.size;
  }

  watch(id: number): void {
    const existing = this.watches.get(id);
    if (existing !== undefined) {
      existing.subscribers++;
      return;
    }
    const figures = new Float64Array(FIGURE_COUNT).fill(Number.NaN);
    this.watches.set(id, { subscribers: 1, figures, pendingLines: [], earnings: null, asOfSeq: 0 });
  }

  unwatch(id: number): void {
    const watch = this.watches.get(id);
    assert(watch !== undefined && watch.subscribers >= 1, 'unwatch of an unwatched distributor');
    if (--watch.subscribers === 0) this.watches.delete(id);
  }

  /** The engine's batch observer: files new lines of watched beneficiaries. */
  observe(batch: BatchView): void {
    if (this.watches.size === 0) return;
    const lines = batch.lines;
    for (let row = 0; row < lines.count; row++) {
      const watch = this.watches.get(lines.beneficiary[row]!);
      if (watch === undefined) continue;
      const seq = lines.seq[row]!;
      const event = batch.events[seq - batch.firstSeq];
      assert(event !== undefined, `line of seq ${seq} outside its batch`);
      const type = lineTypeFromCode(lines.type[row]!);
      const order = event.type === 'order' || event.type === 'refund' ? event.order : null;
      watch.pendingLines.push({
        seq,
        ordinal: lines.ordinal[row]!,
        type,
        level: lines.level[row]!,
        source: lines.source[row]!,
        order: orderOfLine(event.type, order, type),
        amountCents: lines.amountCents[row]!,
      });
    }
  }

  /** At a group commit's end (every batch merged): what changed for watched distributors. */
  capture(seq: number): Publication {
    const entries: PublicationEntry[] = [];
    for (const [id, watch] of this.watches) {
      const slot = this.state.slotOf(id);
      if (slot === -1) continue;
      const changed = readFigures(this.state, slot, watch.figures);
      if (!changed && watch.pendingLines.length === 0) continue;
      entries.push({
        id,
        slot,
        lines: watch.pendingLines,
        figures: figuresOf(this.state, this.plan, slot),
      });
      watch.pendingLines = [];
    }
    return { seq, entries };
  }

  /** Sends a durable publication: one message per changed distributor. */
  release(publication: Publication): void {
    for (const entry of publication.entries) {
      const watch = this.watches.get(entry.id);
      // Not yet answered its snapshot: that snapshot (as of a later seq) covers this change.
      if (watch === undefined || watch.earnings === null) continue;
      if (publication.seq <= watch.asOfSeq) continue;
      for (const line of entry.lines) {
        if (line.seq <= watch.asOfSeq || line.type === 'withdrawal') continue;
        watch.earnings[line.type] += line.amountCents;
      }
      watch.asOfSeq = publication.seq;
      const message = {
        type: 'update',
        seq: publication.seq,
        distributor: { ...entry.figures, earningsCents: watch.earnings },
        lines: entry.lines,
      };
      this.publish(distributorTopic(entry.id), JSON.stringify(message));
    }
  }

  /**
   * A snapshot answered to a new subscriber: from then on the feed adds to its earnings. Called
   * in commit order with every publication, so nothing at or before its seq is added twice.
   */
  adoptSnapshot(snapshot: DistributorSnapshot): void {
    const watch = this.watches.get(snapshot.distributor.id);
    if (watch === undefined) return;
    if (watch.earnings !== null && watch.asOfSeq >= snapshot.seq) return;
    watch.earnings = { ...emptyEarnings(), ...snapshot.distributor.earningsCents };
    watch.asOfSeq = snapshot.seq;
  }
}
