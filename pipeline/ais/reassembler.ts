/**
 * Multi-sentence AIS reassembly. A message is assembled only from fragments
 * that belong together beyond doubt, because a fragment glued to another
 * message's fragment decodes into a plausible but wrong message (a type 5
 * with another ship's destination, a type 17 of the wrong length):
 *
 * - same key: feed, tag-block station or group, radio channel, sequential
 *   message id and fragment count (built by the caller);
 * - in the order the sender sent them: fragment n joins a group only when it
 *   holds exactly fragments 1..n-1. A gap means a fragment was lost, and the
 *   whole group is dropped — the next fragment with the same key may belong
 *   to the next message that reuses the sequence id. Fragments of different
 *   keys interleave freely;
 * - within a window: consecutive fragments at most `maxGapLines` input lines
 *   apart, the whole group within `maxLines` lines and `timeoutMs` of receive
 *   clock, and, when the sentences carry a receive time (tag block `c`, USCG
 *   trailer), times at most `maxTimeSkewS` apart.
 *
 * Out-of-order arrival is accepted only where it is unambiguous: sentences
 * tied by a tag-block group id (`g:n-m-id`), which names the message itself.
 * Everything dropped is reported through `onIncomplete` with the line of the
 * group's first fragment.
 */

export interface Fragment<M> {
  payload: string;
  fill: number;
  /** Receive time of the sentence in seconds (tag block or USCG trailer), when it carries one. */
  at?: number;
  /** Metadata of the sentence (tag block, line number...) kept for the message. */
  meta: M;
}

interface Group<M> {
  base: string;
  parts: Array<Fragment<M> | undefined>;
  received: number;
  firstAt: number;
  firstLine: number;
  lastLine: number;
  /** Receive time carried by the first fragment that had one. */
  stamp: number | undefined;
}

export type AddResult<M> =
  | { status: 'complete'; fragments: Array<Fragment<M>> }
  | { status: 'pending' }
  | { status: 'duplicate' }
  /** The fragment cannot start or continue a group; it was reported as incomplete. */
  | { status: 'dropped' };

export interface ReassemblerOptions<M> {
  /** Whole group within this much receive clock (ms). */
  timeoutMs: number;
  /** Whole group within this many input lines. */
  maxLines: number;
  /** Consecutive fragments at most this many input lines apart. */
  maxGapLines: number;
  /** Receive times carried by the sentences at most this many seconds apart. */
  maxTimeSkewS: number;
  /** A group dropped: `count` fragments received of `expected`, the first on `firstLine`. */
  onIncomplete: (count: number, expected: number, firstLine: number, meta: M | undefined, why: string) => void;
}

export class FragmentReassembler<M> {
  private readonly groups = new Map<string, Group<M>>();
  /** Pending group keys by their key without the station (see add). */
  private readonly byBase = new Map<string, Set<string>>();
  /** Fragments dropped so far because their message could not be completed. */
  incomplete = 0;
  private sweepCountdown = 256;

  constructor(private readonly opts: ReassemblerOptions<M>) {}

  /**
   * Add fragment `number` (1-based) of `count`. `now` is the receive clock in
   * ms, `line` the input line number. `anyOrder` is for fragments keyed by a
   * tag-block group id.
   */
  add(key: string, number: number, count: number, frag: Fragment<M>, now: number, line: number, anyOrder = false, base = key): AddResult<M> {
    if (--this.sweepCountdown <= 0) this.sweep(now, line);
    let g = this.groups.get(key);
    if (g === undefined && number > 1) {
      // Receivers often name their station on the first sentence only (or damage took it from
      // one sentence): a later fragment joins the one pending group with the same channel,
      // sequence id and count, whatever its station, but never picks between two.
      const keys = this.byBase.get(base);
      if (keys !== undefined && keys.size === 1) {
        const only = keys.values().next().value as string;
        key = only;
        g = this.groups.get(only);
      }
    }
    if (g !== undefined) {
      const stale = this.staleness(g, now, line);
      if (stale !== null) {
        this.drop(key, g, stale);
        g = undefined;
      }
    }
    const slot = number - 1;
    if (g !== undefined) {
      const existing = g.parts[slot];
      if (existing !== undefined) {
        if (existing.payload === frag.payload && existing.fill === frag.fill) return { status: 'duplicate' };
        this.drop(key, g, `fragment ${number} seen again with another payload (sequence id reused)`);
        g = undefined;
      } else if (!anyOrder && number !== g.received + 1) {
        this.drop(key, g, `fragment ${g.received + 1} missing before fragment ${number}`);
        g = undefined;
      } else if (frag.at !== undefined && g.stamp !== undefined && Math.abs(frag.at - g.stamp) > this.opts.maxTimeSkewS) {
        this.drop(key, g, `fragment ${number} received ${Math.abs(frag.at - g.stamp)} s after the first`);
        g = undefined;
      }
    }
    if (g === undefined) {
      if (!anyOrder && number !== 1) {
        this.incomplete++;
        this.opts.onIncomplete(1, count, line, frag.meta, `fragment ${number} without fragment 1`);
        return { status: 'dropped' };
      }
      g = { base, parts: new Array<Fragment<M> | undefined>(count), received: 0, firstAt: now, firstLine: line, lastLine: line, stamp: undefined };
      this.groups.set(key, g);
      let keys = this.byBase.get(base);
      if (keys === undefined) this.byBase.set(base, (keys = new Set()));
      keys.add(key);
    }
    g.parts[slot] = frag;
    g.received++;
    g.lastLine = line;
    g.stamp ??= frag.at;
    if (g.received < count) return { status: 'pending' };
    this.forget(key, g);
    return { status: 'complete', fragments: g.parts as Array<Fragment<M>> };
  }

  /** Drop groups past their window. Called every few hundred fragments and by feeds on a timer. */
  sweep(now: number, line: number): void {
    this.sweepCountdown = 256;
    for (const [key, g] of this.groups) {
      const stale = this.staleness(g, now, line);
      if (stale !== null) this.drop(key, g, stale);
    }
  }

  /** Drop everything still pending (end of input). */
  flush(): void {
    for (const [key, g] of this.groups) this.drop(key, g, 'end of input');
  }

  get pending(): number {
    return this.groups.size;
  }

  private staleness(g: Group<M>, now: number, line: number): string | null {
    if (now - g.firstAt > this.opts.timeoutMs) return `not completed within ${this.opts.timeoutMs} ms`;
    if (line - g.lastLine > this.opts.maxGapLines) return `next fragment not within ${this.opts.maxGapLines} lines`;
    if (line - g.firstLine > this.opts.maxLines) return `not completed within ${this.opts.maxLines} lines`;
    return null;
  }

  private forget(key: string, g: Group<M>): void {
    this.groups.delete(key);
    const keys = this.byBase.get(g.base);
    if (keys !== undefined) {
      keys.delete(key);
      if (keys.size === 0) this.byBase.delete(g.base);
    }
  }

  private drop(key: string, g: Group<M>, why: string): void {
    this.forget(key, g);
    if (g.received > 0) {
      this.incomplete += g.received;
      const first = g.parts.find((p) => p !== undefined);
      this.opts.onIncomplete(g.received, g.parts.length, g.firstLine, first?.meta, why);
    }
  }
}
