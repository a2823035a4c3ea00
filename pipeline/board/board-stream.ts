/**
 * The command center's live board: one Redis stream that every producer
 * appends to and the API serves as server-sent events.
 *
 * Key: `<prefix>board` (default prefix `portwatch:`, so `portwatch:board`).
 * Trimmed approximately to `maxLen` entries (default 10 000) on every append,
 * so Redis never holds more than about that many; a reader that fell further
 * behind gets what is left and `gap: true`.
 *
 * Entry fields (all strings): `type`, `time` (ISO 8601, when appended), `data`
 * (JSON). As read back, a message is
 *   { id: "1733450000000-0", type: "alert" | "camera" | "berth" | "dispatch", time: "2026-12-06T05:30:00.000Z", data: {...} }
 * and `id` is what SSE sends as the event id and takes back as Last-Event-ID.
 *
 * Message types and their data:
 * - `alert`: an alert change, the alert as `pipeline/alerts` shapes it (id, rule, state, severity, …);
 * - `camera`: a camera health change, `{ camera, state, kind, reason?, time }`;
 * - `berth`: an arrival or departure, `{ berth, mmsi, kind: 'berth_arrival' | 'berth_departure', time, vessel_name? }`;
 * - `dispatch`: appended by the dispatch stage, its own shape.
 */
import type { Redis } from 'ioredis';

export const BOARD_MESSAGE_TYPES = ['alert', 'camera', 'berth', 'dispatch'] as const;
export type BoardMessageType = (typeof BOARD_MESSAGE_TYPES)[number];

export interface BoardMessage<T = unknown> {
  /** Redis stream id, `<ms>-<seq>`; resume after it. */
  id: string;
  type: BoardMessageType;
  time: string;
  data: T;
}

export interface BoardStreamOptions {
  /** Used for appends and non-blocking reads; not closed by the board. */
  redis: Redis;
  /** Key prefix; default `portwatch:`. Tests use a unique one. */
  prefix?: string;
  /** Approximate entries kept. Default 10 000. */
  maxLen?: number;
}

export interface BoardReadOptions {
  /** At most this many messages. Default 100. */
  count?: number;
  /**
   * Wait up to this long for a message when none is newer than `afterId`.
   * 0 (default) returns at once. A blocking read uses a connection of its own
   * (duplicated from `redis` on first use, closed by `close()`).
   */
  blockMs?: number;
}

export interface BoardReadResult {
  messages: BoardMessage[];
  /** The id to pass to the next read (the last message's, or `afterId` when none came). */
  lastId: string;
  /** True when entries after `afterId` were already trimmed: the reader missed some. */
  gap: boolean;
}

export const DEFAULT_BOARD_PREFIX = 'portwatch:';
export const DEFAULT_BOARD_MAXLEN = 10_000;

const STREAM_ID = /^\d+(-\d+)?$/;

/** Compares two stream ids (`ms-seq`) numerically. */
export function compareStreamIds(a: string, b: string): number {
  const [am, as = '0'] = a.split('-');
  const [bm, bs = '0'] = b.split('-');
  const d = BigInt(am!) - BigInt(bm!);
  if (d !== 0n) return d < 0n ? -1 : 1;
  const s = BigInt(as) - BigInt(bs);
  return s === 0n ? 0 : s < 0n ? -1 : 1;
}

export class BoardStream {
  readonly key: string;
  readonly maxLen: number;
  private readonly redis: Redis;
  private blocking: Redis | undefined;

  constructor(opts: BoardStreamOptions) {
    this.redis = opts.redis;
    this.key = `${opts.prefix ?? DEFAULT_BOARD_PREFIX}board`;
    this.maxLen = opts.maxLen ?? DEFAULT_BOARD_MAXLEN;
  }

  /** Appends a message; resolves to its stream id. */
  async append(type: BoardMessageType, data: unknown): Promise<string> {
    if (!BOARD_MESSAGE_TYPES.includes(type)) throw new Error(`board message type "${String(type)}" is not one of ${BOARD_MESSAGE_TYPES.join(', ')}`);
    const id = await this.redis.xadd(this.key, 'MAXLEN', '~', String(this.maxLen), '*', 'type', type, 'time', new Date().toISOString(), 'data', JSON.stringify(data));
    return id as string;
  }

  /** Appends several messages in one round trip; resolves to their ids in order. */
  async appendMany(messages: ReadonlyArray<{ type: BoardMessageType; data: unknown }>): Promise<string[]> {
    if (messages.length === 0) return [];
    const time = new Date().toISOString();
    const p = this.redis.pipeline();
    for (const m of messages) {
      if (!BOARD_MESSAGE_TYPES.includes(m.type)) throw new Error(`board message type "${String(m.type)}" is not one of ${BOARD_MESSAGE_TYPES.join(', ')}`);
      p.xadd(this.key, 'MAXLEN', '~', String(this.maxLen), '*', 'type', m.type, 'time', time, 'data', JSON.stringify(m.data));
    }
    const results = (await p.exec()) ?? [];
    return results.map(([err, id]) => {
      if (err) throw err;
      return id as string;
    });
  }

  /**
   * Messages after `afterId` (exclusive), oldest first. `afterId` is a stream
   * id (an SSE Last-Event-ID), `0` for everything kept, or `$` for only what
   * arrives from now on (with `blockMs`).
   */
  async read(afterId: string, opts: BoardReadOptions = {}): Promise<BoardReadResult> {
    if (afterId !== '$' && !STREAM_ID.test(afterId)) throw new Error(`board: "${afterId}" is not a stream id (expected <ms>-<seq>, 0 or $)`);
    const count = opts.count ?? 100;
    const blockMs = opts.blockMs ?? 0;
    let from = afterId;
    if (from === '$') {
      if (blockMs <= 0) return { messages: [], lastId: await this.lastId(), gap: false };
      // XREAD with $ and a later retry must not lose what came between: pin $ to the current last id.
      from = await this.lastId();
    }
    const gap = from !== '0' && from !== '0-0' ? await this.trimmedPast(from) : false;
    const reply =
      blockMs > 0
        ? await this.blockingConnection().xread('COUNT', count, 'BLOCK', blockMs, 'STREAMS', this.key, from)
        : await this.redis.xread('COUNT', count, 'STREAMS', this.key, from);
    const entries = reply?.[0]?.[1] ?? [];
    const messages = entries.map(([id, fields]) => parseEntry(id, fields));
    return { messages, lastId: messages.at(-1)?.id ?? from, gap };
  }

  /** The newest id on the stream, or `0-0` when empty. */
  async lastId(): Promise<string> {
    const last = await this.redis.xrevrange(this.key, '+', '-', 'COUNT', 1);
    return last[0]?.[0] ?? '0-0';
  }

  async close(): Promise<void> {
    const b = this.blocking;
    this.blocking = undefined;
    if (b) b.disconnect();
  }

  private blockingConnection(): Redis {
    return (this.blocking ??= this.redis.duplicate());
  }

  /**
   * True when the reader's last id is no longer on the stream and the oldest
   * kept entry is newer: trimming removed what followed it. (When the reader
   * was exactly at the trim point this says gap although none was missed: a
   * false alarm that only makes the reader reload the current state.)
   */
  private async trimmedPast(afterId: string): Promise<boolean> {
    const first = await this.redis.xrange(this.key, '-', '+', 'COUNT', 1);
    const oldest = first[0]?.[0];
    if (!oldest || compareStreamIds(oldest, afterId) <= 0) return false;
    const still = await this.redis.xrange(this.key, afterId, afterId);
    if (still.length > 0) return false;
    const added = await this.redis.call('XINFO', 'STREAM', this.key).then((info) => {
      const list = info as unknown[];
      const at = list.indexOf('entries-added');
      return at < 0 ? 0 : Number(list[at + 1]);
    });
    return added > (await this.redis.xlen(this.key));
  }
}

function parseEntry(id: string, fields: string[]): BoardMessage {
  const f: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i]!] = fields[i + 1]!;
  let data: unknown = null;
  try {
    data = f.data === undefined ? null : JSON.parse(f.data);
  } catch {
    data = null;
  }
  return { id, type: (f.type ?? 'alert') as BoardMessageType, time: f.time ?? '', data };
}
