/** Where a line came from and when we received it. */
export interface LineMeta {
  /** The feed id from the site config. */
  feed: string;
  /** The receiving station, when the feed config names one (tag blocks may override it). */
  station?: string;
  received: Date;
  /** 1-based line number for file feeds, so a reject can point at the line. */
  line_number?: number;
}

/** Called per line; a returned promise pauses the feed until it settles (backpressure). */
export type LineHandler = (line: string, meta: LineMeta) => void | Promise<void>;

export interface FeedStats {
  lines: number;
  bytes: number;
  oversize_lines: number;
  connects: number;
  disconnects: number;
  last_error: string | null;
}

export interface LineFeed {
  readonly id: string;
  start(onLine: LineHandler): void;
  stop(): Promise<void>;
  /** Resolves when the feed has ended for good (a file at its end, or after stop()). */
  readonly done: Promise<void>;
  readonly stats: FeedStats;
}

export const emptyStats = (): FeedStats => ({ lines: 0, bytes: 0, oversize_lines: 0, connects: 0, disconnects: 0, last_error: null });
