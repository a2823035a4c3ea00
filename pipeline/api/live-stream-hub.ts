import type { ServerResponse } from 'node:http';
import { compareStreamIds, type BoardMessage, type BoardStream } from '../board/index.js';
import type { Logger } from '../log/index.js';

export interface LiveClientOptions {
  /** The client's Last-Event-ID: replay everything after it first. Absent: only what arrives from now on. */
  lastEventId?: string | null;
  /** Only these message types (default all). */
  types?: ReadonlySet<string> | null;
}

export interface LiveStreamHubOptions {
  board: BoardStream;
  logger: Logger;
  /** Longest wait of one blocking read; also how soon the loop notices close(). Default 2000 ms. */
  blockMs?: number;
  /** A client whose unsent bytes exceed this is dropped (it resumes with Last-Event-ID). Default 1 MiB. */
  maxBacklogBytes?: number;
  heartbeatMs?: number;
}

interface Client {
  res: ServerResponse;
  types: ReadonlySet<string> | null;
  /** Id of the last message written; null until the first. */
  lastSent: string | null;
  /** Messages the fan-out loop delivered while the client was still replaying. */
  pending: BoardMessage[] | null;
}

/**
 * Serves the board as server-sent events to any number of clients with ONE
 * reader of the Redis stream (a blocking XREAD per server, not per client).
 *
 * Resume without gaps or duplicates: a client is registered with the fan-out
 * before its replay starts, so everything is either in the replay (read from
 * Redis after its Last-Event-ID) or in its pending list (fanned out since it
 * registered), or both; ids are stream ids, increasing, and a message is
 * written only when its id is above the last one written to that client.
 * When the client's id was trimmed off the bounded stream, it gets a `reset`
 * event first (reload the state, then follow), and then whatever is still kept.
 */
export class LiveStreamHub {
  private readonly clients = new Set<Client>();
  private loop: Promise<void> | null = null;
  private closed = false;
  private heartbeat: NodeJS.Timeout | null = null;
  private readonly blockMs: number;
  private readonly maxBacklog: number;

  constructor(private readonly o: LiveStreamHubOptions) {
    this.blockMs = o.blockMs ?? 2000;
    this.maxBacklog = o.maxBacklogBytes ?? 1 << 20;
  }

  get clientCount(): number {
    return this.clients.size;
  }

  /** Streams to `res` (headers already sent) until the client goes away or the hub closes. */
  async attach(res: ServerResponse, opts: LiveClientOptions = {}): Promise<void> {
    // Every client replays from a pinned id: its Last-Event-ID, or the stream's end as it
    // connects. Whatever is appended from then on reaches it, whichever way it comes.
    const client: Client = { res, types: opts.types ?? null, lastSent: null, pending: [] };
    this.clients.add(client);
    res.once('close', () => this.clients.delete(client));
    this.ensureLoop();
    try {
      let after = opts.lastEventId ?? (await this.o.board.lastId());
      client.lastSent = after;
      // The first bytes (and with them the response headers) go out once the start is pinned.
      res.write('retry: 2000\n\n');
      if (opts.lastEventId) {
        let first = true;
        for (;;) {
          const page = await this.o.board.read(after, { count: 500 });
          if (first && page.gap) res.write(`event: reset\ndata: ${JSON.stringify({ reason: 'the stream was trimmed past your last event; reload the current state' })}\n\n`);
          first = false;
          for (const m of page.messages) this.write(client, m);
          if (page.messages.length < 500 || res.destroyed) break;
          after = page.lastId;
        }
      }
    } catch (err) {
      this.o.logger.warn({ err: (err as Error).message }, 'live stream replay failed; the client will reconnect');
      this.clients.delete(client);
      res.end();
      return;
    }
    // The fan-out loop may have read messages after the pinned id before or during the replay: the id check drops repeats.
    const pending = client.pending ?? [];
    client.pending = null;
    for (const m of pending) this.write(client, m);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.heartbeat) clearInterval(this.heartbeat);
    for (const c of this.clients) c.res.end();
    this.clients.clear();
    await this.loop;
  }

  private write(client: Client, m: BoardMessage): void {
    if (client.lastSent !== null && compareStreamIds(m.id, client.lastSent) <= 0) return;
    client.lastSent = m.id;
    if (client.types && !client.types.has(m.type)) return;
    client.res.write(`id: ${m.id}\nevent: ${m.type}\ndata: ${JSON.stringify(m.data)}\n\n`);
    if (client.res.writableLength > this.maxBacklog) {
      this.o.logger.warn({ backlog: client.res.writableLength }, 'live stream client too slow: dropped (it resumes with Last-Event-ID)');
      client.res.destroy();
      this.clients.delete(client);
    }
  }

  private ensureLoop(): void {
    if (this.loop || this.closed) return;
    this.heartbeat = setInterval(() => {
      for (const c of this.clients) c.res.write(': ping\n\n');
    }, this.o.heartbeatMs ?? 15_000);
    this.heartbeat.unref();
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    let after: string | null = null;
    while (!this.closed) {
      try {
        after ??= await this.o.board.lastId();
        const page = await this.o.board.read(after, { count: 500, blockMs: this.blockMs });
        after = page.lastId;
        for (const m of page.messages) {
          for (const c of this.clients) {
            if (c.pending) c.pending.push(m);
            else this.write(c, m);
          }
        }
      } catch (err) {
        if (this.closed) break;
        this.o.logger.warn({ err: (err as Error).message }, 'live stream: reading the board failed; retrying in 1 s');
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  }
}
