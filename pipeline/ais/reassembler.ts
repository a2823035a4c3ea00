/**
 * Multi-sentence AIS reassembly. Fragments are grouped by a key built from
 * the source (feed, tag-block station or group), the radio channel, the
 * sequential message id and the fragment count, and stored by fragment
 * number, so fragments of several messages may interleave and arrive in any
 * order. A group that does not complete within `timeoutMs` (receive clock)
 * or `maxLines` input lines is dropped and its fragments counted as orphans.
 */

export interface Fragment<M> {
  payload: string;
  fill: number;
  /** Metadata of the sentence (tag block, line number...) kept for the message. */
  meta: M;
}

interface Group<M> {
  parts: Array<Fragment<M> | undefined>;
  received: number;
  firstAt: number;
  firstLine: number;
}

export type AddResult<M> =
  | { status: 'complete'; fragments: Array<Fragment<M>> }
  | { status: 'pending' }
  | { status: 'duplicate' };

export class FragmentReassembler<M> {
  private readonly groups = new Map<string, Group<M>>();
  /** Fragments dropped so far because their message never completed. */
  orphaned = 0;
  private sweepCountdown = 256;

  constructor(
    private readonly timeoutMs: number,
    private readonly maxLines: number,
    private readonly onOrphans: (count: number, firstLine: number, meta: M | undefined) => void,
  ) {}

  /**
   * Add fragment `number` (1-based) of `count`. `now` is the receive clock in
   * ms, `line` the input line number.
   */
  add(key: string, number: number, count: number, frag: Fragment<M>, now: number, line: number): AddResult<M> {
    if (--this.sweepCountdown <= 0) this.sweep(now, line);
    let g = this.groups.get(key);
    if (g !== undefined && (now - g.firstAt > this.timeoutMs || line - g.firstLine > this.maxLines)) {
      this.drop(key, g);
      g = undefined;
    }
    if (g === undefined) {
      g = { parts: new Array<Fragment<M> | undefined>(count), received: 0, firstAt: now, firstLine: line };
      this.groups.set(key, g);
    }
    const slot = number - 1;
    const existing = g.parts[slot];
    if (existing !== undefined) {
      if (existing.payload === frag.payload) return { status: 'duplicate' };
      // The same slot with a different payload: the old message was never completed
      // (its sequence id has been reused), so it is orphaned and a new one starts.
      this.drop(key, g);
      g = { parts: new Array<Fragment<M> | undefined>(count), received: 0, firstAt: now, firstLine: line };
      this.groups.set(key, g);
    }
    g.parts[slot] = frag;
    g.received++;
    if (g.received < count) return { status: 'pending' };
    this.groups.delete(key);
    return { status: 'complete', fragments: g.parts as Array<Fragment<M>> };
  }

  /** Drop groups that timed out. Called every few hundred fragments and on flush. */
  sweep(now: number, line: number): void {
    this.sweepCountdown = 256;
    for (const [key, g] of this.groups) {
      if (now - g.firstAt > this.timeoutMs || line - g.firstLine > this.maxLines) this.drop(key, g);
    }
  }

  /** Drop everything still pending (end of input). */
  flush(): void {
    for (const [key, g] of this.groups) this.drop(key, g);
  }

  get pending(): number {
    return this.groups.size;
  }

  private drop(key: string, g: Group<M>): void {
    this.groups.delete(key);
    if (g.received > 0) {
      this.orphaned += g.received;
      const first = g.parts.find((p) => p !== undefined);
      this.onOrphans(g.received, g.firstLine, first?.meta);
    }
  }
}
