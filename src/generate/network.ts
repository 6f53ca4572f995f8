import { assert } from '../core/assert.js';
import { DistributorIds } from './ids.js';
import type { Random } from './random.js';
import type { EventSink } from './sink.js';

/**
 * The enrollment phase: grows a realistic sponsor tree and writes one `enroll` per
 * distributor, sponsors always before their recruits.
 *
 * Who recruits. Real networks are built by a few people: most distributors sponsor nobody and
 * a handful sponsor hundreds. Each newcomer gets a recruiting propensity, a Zipf-like number
 * of "tokens" (Pareto, tail index 1): most get one or two, a few get hundreds. A sponsor is
 * drawn from an urn of tokens (so in proportion to propensity), and each recruit gives its
 * sponsor another token now and then (preferential attachment: success breeds success).
 *
 * Deep legs. Newcomers recruit their friends while they are keen, so most draws come from a
 * small ring of the most recent tokens, and a few from any recent enrollee (the casual
 * recruiter who brings one friend). Recent recruiters recruiting recent recruiters makes the
 * long chains ("legs") that real networks have and that make the engine's upline walks
 * expensive; a purely proportional urn would give a shallow, logarithmic tree. Measured: on
 * 20k distributors about 2/3 sponsor nobody, the top 1% bring ~40% of the recruits and the
 * sponsor depth is ~45; on 1M it is ~100.
 *
 * Placement. Most enrollments leave placement to the engine. To give a few explicit and
 * mostly valid placements, the generator replays the engine's auto-placement rule (SPEC 3.1)
 * on its own binary tree so it knows which slots are free; a rare few placements aim at a
 * taken slot on purpose (bad data the engine must reject). Those distributors never exist in
 * the engine, so they are never chosen as sponsor, buyer or anything else later.
 *
 * Memory: typed arrays of about 38 bytes per distributor, all dropped at the end of the
 * phase except the two the activity phase needs (`recruitCounts`, `status`).
 */

const DAY_MS = 86_400_000;
/** Enrollments span about six months, growing over time (more recruits late than early). */
export const ENROLL_SPAN_MS = 180 * DAY_MS;

const ROOTS_MAX = 8;
/** Roots are spread over the first 1/ROOT_WINDOW_DIVISOR of the enrollments. */
const ROOT_WINDOW_DIVISOR = 8;
const ROOT_TOKENS = 64;
/**
 * Share of newcomers with no propensity at all. Most of the others draw a token or two and,
 * drowned out by the builders, recruit nobody either: about two thirds of the network ends up
 * sponsoring nobody.
 */
const NO_PROPENSITY_RATE = 0.1;
/** Tail index of the token count: 1.0 is Zipf-like, a few newcomers get hundreds. */
const PROPENSITY_ALPHA = 1.0;
const PROPENSITY_TOKENS_MAX = 1024;
/** Chance that a recruit earns its sponsor one more token. */
const ATTACHMENT_RATE = 0.3;
/** Chance that the sponsor is a casual recruiter: any of the last few enrollees. */
const CASUAL_RATE = 0.1;
const CASUAL_WINDOW = 1000;
/** Chance (otherwise) that a sponsor is drawn from the recent ring rather than the whole urn. */
const RECENT_RATE = 0.75;
const RECENT_RING_SIZE = 1024; // power of two
const URN_SIZE_PER_DISTRIBUTOR = 3;
const URN_SIZE_MIN = 1024;
/** Share of enrollments with an explicit, free placement slot. */
const EXPLICIT_PLACEMENT_RATE = 0.01;
/** Share of enrollments that aim at a taken slot: rejected by the engine. */
const COLLIDING_PLACEMENT_RATE = 0.001;
const PLACEMENT_DESCENT_MAX = 32;
const COLLISION_TRIES = 8;

/** `status` values of a distributor, as the engine will see it. */
export const STATUS_ACTIVE = 0;
/** Its enrollment is rejected (placement slot taken): it never exists in the engine. */
export const STATUS_NEVER_ENROLLED = 1;
export const STATUS_TERMINATED = 2;

const LEG_L = 0;
const LEG_R = 1;
const LEG_NAMES = ['L', 'R'] as const;

export interface Network {
  readonly count: number;
  readonly ids: DistributorIds;
  /** Accepted recruits per enrollment index. */
  readonly recruitCounts: Uint32Array;
  /** `STATUS_*` per enrollment index; the activity phase marks terminations here. */
  readonly status: Uint8Array;
  readonly maxSponsorDepth: number;
  readonly collidingPlacements: number;
  readonly explicitPlacements: number;
  readonly lastAtMs: number;
}

interface PlacementChoice {
  readonly parent: number;
  readonly leg: number;
}

export function rootCount(count: number): number {
  return Math.min(count, ROOTS_MAX, Math.max(1, Math.round(Math.log10(count + 1))));
}

/** Business time of enrollment `index`: density grows linearly, so sqrt of the index. */
export function enrollAtMs(startAtMs: number, index: number, count: number): number {
  return startAtMs + Math.floor(ENROLL_SPAN_MS * Math.sqrt(index / count));
}

export function generateNetwork(
  count: number,
  startAtMs: number,
  random: Random,
  sink: EventSink,
): Network {
  const builder = new NetworkBuilder(count, random);
  const roots = rootCount(count);
  let nextRoot = 0;
  let lastAtMs = startAtMs;
  for (let index = 0; index < count; index += 1) {
    const isRoot = nextRoot < roots && index === rootIndex(nextRoot, roots, count);
    if (isRoot) nextRoot += 1;
    lastAtMs = enrollAtMs(startAtMs, index, count);
    sink.emit(builder.enroll(index, isRoot, lastAtMs), true);
  }
  sink.flushRetry();
  assert(nextRoot === roots, 'every root was enrolled');
  return builder.finish(lastAtMs);
}

/** Root `rootNumber` (0 first) enrolls at this index; strictly increasing in rootNumber. */
function rootIndex(rootNumber: number, roots: number, count: number): number {
  if (rootNumber === 0) return 0;
  const window = Math.floor(count / ROOT_WINDOW_DIVISOR);
  return Math.max(rootNumber, Math.floor((window * rootNumber) / roots));
}

class NetworkBuilder {
  readonly ids: DistributorIds;
  private readonly recruitCounts: Uint32Array;
  private readonly status: Uint8Array;
  private readonly depths: Uint32Array;
  /** Placement tree: `children[2 * index + leg]` is the child's index + 1, 0 when free. */
  private readonly children: Int32Array;
  /** Last known node (index + 1) on each sponsor's outer L and R chains, 0 = the sponsor. */
  private readonly chainTips: Int32Array;
  /** Parity of each sponsor's unplaced recruits: which leg the next one goes to. */
  private readonly nextAutoLeg: Uint8Array;
  private readonly urn: Int32Array;
  private urnFilled = 0;
  private readonly recent = new Int32Array(RECENT_RING_SIZE);
  private recentFilled = 0;
  private recentNext = 0;
  private maxSponsorDepth = 0;
  private collidingPlacements = 0;
  private explicitPlacements = 0;

  constructor(
    private readonly count: number,
    private readonly random: Random,
  ) {
    this.ids = new DistributorIds(random);
    this.recruitCounts = new Uint32Array(count);
    this.status = new Uint8Array(count);
    this.depths = new Uint32Array(count);
    this.children = new Int32Array(2 * count);
    this.chainTips = new Int32Array(2 * count);
    this.nextAutoLeg = new Uint8Array(count);
    this.urn = new Int32Array(Math.max(URN_SIZE_MIN, URN_SIZE_PER_DISTRIBUTOR * count));
  }

  /** Decides enrollment `index` and returns its event body. */
  enroll(index: number, isRoot: boolean, atMs: number): string {
    const head = `"type":"enroll","at":${atMs},"distributor":${this.ids.idOf(index)}`;
    if (isRoot) {
      this.addTokens(index, ROOT_TOKENS);
      return `${head},"sponsor":null`;
    }
    const sponsor = this.pickSponsor(index);
    const sponsorPart = `${head},"sponsor":${this.ids.idOf(sponsor)}`;
    const draw = this.random.float();
    const colliding =
      draw < COLLIDING_PLACEMENT_RATE ? this.collidingPlacement(index, sponsor) : null;
    if (colliding !== null) {
      this.status[index] = STATUS_NEVER_ENROLLED;
      this.collidingPlacements += 1;
      return sponsorPart + this.placementJson(colliding);
    }
    this.acceptRecruit(index, sponsor);
    const explicit =
      draw < COLLIDING_PLACEMENT_RATE + EXPLICIT_PLACEMENT_RATE
        ? this.freePlacement(index, sponsor)
        : null;
    if (explicit === null) {
      this.placeAuto(index, sponsor);
      return sponsorPart;
    }
    this.setChild(explicit.parent, explicit.leg, index);
    this.explicitPlacements += 1;
    return sponsorPart + this.placementJson(explicit);
  }

  finish(lastAtMs: number): Network {
    return {
      count: this.count,
      ids: this.ids,
      recruitCounts: this.recruitCounts,
      status: this.status,
      maxSponsorDepth: this.maxSponsorDepth,
      collidingPlacements: this.collidingPlacements,
      explicitPlacements: this.explicitPlacements,
      lastAtMs,
    };
  }

  private placementJson(choice: PlacementChoice): string {
    const parentId = this.ids.idOf(choice.parent);
    return `,"placement":{"parent":${parentId},"leg":"${LEG_NAMES[choice.leg]}"}`;
  }

  /** Bookkeeping of an accepted recruit: depth, counts, tokens. */
  private acceptRecruit(index: number, sponsor: number): void {
    const depth = this.at(this.depths, sponsor) + 1;
    this.depths[index] = depth;
    if (depth > this.maxSponsorDepth) this.maxSponsorDepth = depth;
    this.recruitCounts[sponsor] = this.at(this.recruitCounts, sponsor) + 1;
    if (this.random.chance(ATTACHMENT_RATE)) this.addTokens(sponsor, 1);
    if (!this.random.chance(NO_PROPENSITY_RATE)) {
      const tokens = Math.floor(this.random.pareto(PROPENSITY_ALPHA));
      this.addTokens(index, Math.min(PROPENSITY_TOKENS_MAX, tokens));
    }
  }

  /**
   * The sponsor of enrollment `index`: a casual recruiter (any recent enrollee), else a
   * recent token, else any token (see the top of the file for why).
   */
  private pickSponsor(index: number): number {
    assert(this.urnFilled > 0, 'the urn holds at least the first root');
    if (this.random.chance(CASUAL_RATE)) {
      const candidate = index - 1 - this.random.below(Math.min(index, CASUAL_WINDOW));
      if (this.at(this.status, candidate) === STATUS_ACTIVE) return candidate;
    }
    if (this.recentFilled > 0 && this.random.chance(RECENT_RATE)) {
      return this.at(this.recent, this.random.below(this.recentFilled));
    }
    return this.at(this.urn, this.random.below(this.urnFilled));
  }

  /**
   * Adds `tokens` draws of `index` to the urn and the recent ring. A full urn overwrites a
   * random token instead of growing: memory stays bounded and old propensity slowly fades.
   */
  private addTokens(index: number, tokens: number): void {
    for (let token = 0; token < tokens; token += 1) {
      if (this.urnFilled < this.urn.length) {
        this.urn[this.urnFilled] = index;
        this.urnFilled += 1;
      } else {
        this.urn[this.random.below(this.urn.length)] = index;
      }
      this.recent[this.recentNext] = index;
      this.recentNext = (this.recentNext + 1) & (RECENT_RING_SIZE - 1);
      if (this.recentFilled < RECENT_RING_SIZE) this.recentFilled += 1;
    }
  }

  /**
   * SPEC 3.1 auto placement: the k-th unplaced recruit goes to leg L (k even) or R (k odd) at
   * the outermost free slot of that leg under the sponsor. Chains only ever grow at their
   * end, so the walk resumes from the last tip seen: amortized O(1) per enrollment.
   */
  private placeAuto(index: number, sponsor: number): void {
    const leg = this.at(this.nextAutoLeg, sponsor);
    this.nextAutoLeg[sponsor] = leg ^ 1;
    const tipSlot = 2 * sponsor + leg;
    const tip = this.at(this.chainTips, tipSlot);
    let node = tip === 0 ? sponsor : tip - 1;
    for (let child = this.child(node, leg); child !== 0; child = this.child(node, leg)) {
      node = child - 1;
    }
    this.setChild(node, leg, index);
    this.chainTips[tipSlot] = index + 1;
  }

  /**
   * A free slot under the sponsor (usually) or under any earlier distributor, found by a
   * short random descent; null (fall back to auto placement) if the descent finds none.
   */
  private freePlacement(index: number, sponsor: number): PlacementChoice | null {
    let node = this.random.chance(0.6) ? sponsor : this.random.below(index);
    if (this.at(this.status, node) !== STATUS_ACTIVE) node = sponsor;
    for (let step = 0; step < PLACEMENT_DESCENT_MAX; step += 1) {
      const leftFree = this.child(node, LEG_L) === 0;
      const rightFree = this.child(node, LEG_R) === 0;
      if (leftFree && rightFree) return { parent: node, leg: this.random.below(2) };
      if (leftFree) return { parent: node, leg: LEG_L };
      if (rightFree) return { parent: node, leg: LEG_R };
      node = this.child(node, this.random.below(2)) - 1;
    }
    return null;
  }

  /** A slot that is taken, under the sponsor or an earlier distributor; null if none found. */
  private collidingPlacement(index: number, sponsor: number): PlacementChoice | null {
    let node = sponsor;
    for (let attempt = 0; attempt < COLLISION_TRIES; attempt += 1) {
      const leg = this.random.below(2);
      if (this.child(node, leg) !== 0) return { parent: node, leg };
      if (this.child(node, leg ^ 1) !== 0) return { parent: node, leg: leg ^ 1 };
      // Only enrolled distributors have children, so any earlier index is a fair next try.
      node = this.random.below(index);
    }
    return null;
  }

  private child(node: number, leg: number): number {
    return this.at(this.children, 2 * node + leg);
  }

  private setChild(parent: number, leg: number, index: number): void {
    const slot = 2 * parent + leg;
    assert(this.at(this.children, slot) === 0, 'placement slot is free');
    this.children[slot] = index + 1;
  }

  /** Checked typed-array read (`noUncheckedIndexedAccess`): out of range is a bug. */
  private at(array: Uint8Array | Uint32Array | Int32Array, position: number): number {
    const value = array[position];
    assert(value !== undefined, 'typed array index out of range');
    return value;
  }
}
