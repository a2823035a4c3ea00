import { createReadStream } from 'node:fs';
import type { Logger } from '../log/index.js';
import { LineSplitter } from './line-splitter.js';
import { lineTime } from './line-time.js';
import { emptyStats, type FeedStats, type LineFeed, type LineHandler } from './types.js';

export interface FileFeedOptions {
  id: string;
  path: string;
  station?: string;
  logger: Logger;
  /** `fast`: as fast as the handler takes them. `realtime`: paced by the lines' own timestamps. */
  mode?: 'fast' | 'realtime';
  /** Realtime speed-up factor (2 = twice as fast as recorded). */
  speed?: number;
  /** Start over at the end (the demo's endless replay). */
  loop?: boolean;
}

/**
 * Replays a recorded feed. Each line's `received` time is its own recorded
 * time when the line carries one (tag block, USCG trailer, leading epoch), so
 * a replay writes the positions when they happened, not when we read them.
 */
export class FileLineFeed implements LineFeed {
  readonly stats: FeedStats = emptyStats();
  readonly done: Promise<void>;
  private resolveDone!: () => void;
  private stopped = false;
  private wake: (() => void) | null = null;

  constructor(private readonly options: FileFeedOptions) {
    this.done = new Promise((r) => (this.resolveDone = r));
  }

  get id(): string {
    return this.options.id;
  }

  start(onLine: LineHandler): void {
    this.run(onLine)
      .catch((err) => {
        this.stats.last_error = err instanceof Error ? err.message : String(err);
        this.options.logger.error({ feed: this.id, path: this.options.path, err: this.stats.last_error }, 'AIS file feed failed');
      })
      .finally(() => this.resolveDone());
  }

  private async run(onLine: LineHandler): Promise<void> {
    const realtime = this.options.mode === 'realtime';
    const speed = this.options.speed ?? 1;
    do {
      this.stats.connects++;
      const splitter = new LineSplitter({ onOversize: () => this.stats.oversize_lines++ });
      let lineNumber = 0;
      let first: { recorded: number; wall: number } | null = null;
      // Returns a promise only when it must wait (pacing or an async handler),
      // so a fast replay into a synchronous handler costs no microtask per line.
      const handle = (line: string): void | Promise<void> => {
        lineNumber++;
        const recorded = lineTime(line);
        if (realtime && recorded !== null) {
          first ??= { recorded, wall: Date.now() };
          const due = first.wall + (recorded - first.recorded) / speed;
          if (due > Date.now()) return this.sleep(due - Date.now()).then(() => emit(line, recorded, lineNumber));
        }
        return emit(line, recorded, lineNumber);
      };
      const emit = (line: string, recorded: number | null, n: number): void | Promise<void> => {
        if (this.stopped) return;
        this.stats.lines++;
        return onLine(line, {
          feed: this.id,
          station: this.options.station,
          received: recorded !== null ? new Date(recorded) : new Date(),
          line_number: n,
        });
      };
      for await (const chunk of createReadStream(this.options.path)) {
        this.stats.bytes += (chunk as Buffer).length;
        for (const line of splitter.push(chunk as Buffer)) {
          if (this.stopped) return;
          const r = handle(line);
          if (r) await r;
        }
      }
      for (const line of splitter.end()) {
        const r = handle(line);
        if (r) await r;
      }
    } while (this.options.loop && !this.stopped);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      this.wake = () => (clearTimeout(t), resolve());
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.done;
  }
}
