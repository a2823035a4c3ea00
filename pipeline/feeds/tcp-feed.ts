import { Socket } from 'node:net';
import type { Logger } from '../log/index.js';
import { Backoff, type BackoffOptions } from '../retry/index.js';
import { deliver } from './deliver.js';
import { LineSplitter } from './line-splitter.js';
import { emptyStats, type FeedStats, type LineFeed, type LineHandler } from './types.js';

export interface TcpFeedOptions {
  id: string;
  host: string;
  port: number;
  station?: string;
  logger: Logger;
  backoff?: BackoffOptions;
  /** No byte for this long means the link is dead even if TCP has not noticed. */
  idle_timeout_ms?: number;
  connect_timeout_ms?: number;
}

/** An AIS/NMEA feed over TCP (an AIS receiver or aggregator), reconnecting forever with backoff. */
export class TcpLineFeed implements LineFeed {
  readonly stats: FeedStats = emptyStats();
  readonly done: Promise<void>;
  private resolveDone!: () => void;
  private socket: Socket | null = null;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private readonly backoff: Backoff;

  constructor(private readonly options: TcpFeedOptions) {
    this.backoff = new Backoff(options.backoff);
    this.done = new Promise((r) => (this.resolveDone = r));
  }

  get id(): string {
    return this.options.id;
  }

  start(onLine: LineHandler): void {
    this.connect(onLine);
  }

  private connect(onLine: LineHandler): void {
    if (this.stopped) return;
    const { host, port, logger } = this.options;
    const socket = new Socket();
    this.socket = socket;
    const splitter = new LineSplitter({ onOversize: () => this.stats.oversize_lines++ });
    let connectedAt = 0;
    let chain = Promise.resolve();

    socket.setTimeout(this.options.connect_timeout_ms ?? 10_000);
    socket.once('connect', () => {
      connectedAt = Date.now();
      this.stats.connects++;
      socket.setTimeout(this.options.idle_timeout_ms ?? 120_000);
      logger.info({ feed: this.id, host, port }, 'AIS feed connected');
    });
    socket.on('data', (chunk: Buffer) => {
      this.stats.bytes += chunk.length;
      const lines = splitter.push(chunk);
      if (lines.length === 0) return;
      this.stats.lines += lines.length;
      const received = new Date();
      socket.pause();
      chain = chain
        .then(() => deliver(lines, onLine, () => ({ feed: this.id, station: this.options.station, received })))
        .catch((err) => logger.error({ feed: this.id, err }, 'AIS line handler failed; line skipped'))
        .finally(() => socket.resume());
    });
    socket.on('timeout', () => socket.destroy(new Error(connectedAt ? 'no data received (idle timeout)' : 'connect timeout')));
    socket.on('error', (err) => {
      this.stats.last_error = err.message;
    });
    socket.on('close', () => {
      if (connectedAt) this.stats.disconnects++;
      if (connectedAt) this.backoff.connectionEnded(Date.now() - connectedAt);
      if (this.stopped) return void chain.then(() => this.resolveDone());
      const delay = this.backoff.next();
      logger.warn({ feed: this.id, host, port, reason: this.stats.last_error ?? 'closed', retry_in_ms: delay }, 'AIS feed disconnected; reconnecting');
      this.timer = setTimeout(() => this.connect(onLine), delay);
    });
    socket.connect(port, host);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.socket && !this.socket.destroyed) this.socket.destroy();
    else this.resolveDone();
    await this.done;
  }
}
