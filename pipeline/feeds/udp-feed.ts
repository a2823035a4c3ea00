import { createSocket, type Socket } from 'node:dgram';
import type { Logger } from '../log/index.js';
import { LineSplitter } from './line-splitter.js';
import { emptyStats, type FeedStats, type LineFeed, type LineHandler } from './types.js';

export interface UdpFeedOptions {
  id: string;
  port: number;
  host?: string;
  station?: string;
  logger: Logger;
}

/**
 * AIS/NMEA datagrams (what most receivers and AIS-catcher send). One datagram
 * holds one or more whole lines. UDP has no backpressure: a slow handler cannot
 * pause the sender, so handlers must keep up (the ingest batches writes).
 */
export class UdpLineFeed implements LineFeed {
  readonly stats: FeedStats = emptyStats();
  readonly done: Promise<void>;
  private resolveDone!: () => void;
  private socket: Socket | null = null;
  private boundPort: number | null = null;

  constructor(private readonly options: UdpFeedOptions) {
    this.done = new Promise((r) => (this.resolveDone = r));
  }

  get id(): string {
    return this.options.id;
  }

  /** The port actually bound (useful with port 0 in tests). */
  get port(): number | null {
    return this.boundPort;
  }

  start(onLine: LineHandler): void {
    const socket = createSocket({ type: 'udp4', reuseAddr: true });
    this.socket = socket;
    const { logger } = this.options;
    socket.on('message', (msg) => {
      this.stats.bytes += msg.length;
      const splitter = new LineSplitter({ onOversize: () => this.stats.oversize_lines++ });
      const lines = [...splitter.push(msg), ...splitter.end()];
      this.stats.lines += lines.length;
      const received = new Date();
      for (const line of lines) {
        try {
          const r = onLine(line, { feed: this.id, station: this.options.station, received });
          if (r) r.catch((err) => logger.error({ feed: this.id, err }, 'AIS line handler failed; line skipped'));
        } catch (err) {
          logger.error({ feed: this.id, err }, 'AIS line handler failed; line skipped');
        }
      }
    });
    socket.on('error', (err) => {
      this.stats.last_error = err.message;
      logger.error({ feed: this.id, err: err.message }, 'AIS UDP feed error');
    });
    socket.on('listening', () => {
      this.boundPort = socket.address().port;
      this.stats.connects++;
      logger.info({ feed: this.id, port: this.boundPort }, 'AIS UDP feed listening');
    });
    socket.on('close', () => this.resolveDone());
    socket.bind(this.options.port, this.options.host ?? '0.0.0.0');
  }

  listening(): Promise<number> {
    return new Promise((resolve, reject) => {
      if (this.boundPort !== null) return resolve(this.boundPort);
      this.socket?.once('listening', () => resolve(this.boundPort!));
      this.socket?.once('error', reject);
    });
  }

  async stop(): Promise<void> {
    if (this.socket) this.socket.close();
    else this.resolveDone();
    await this.done;
  }
}
