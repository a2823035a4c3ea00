import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from './helpers/api-server.js';

let t: TestApi;
let base: string;

beforeAll(async () => {
  t = await startTestApi();
  await t.api.app.listen({ port: 0, host: '127.0.0.1' });
  const addr = t.api.app.server.address();
  base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
});
afterAll(async () => {
  await t?.close();
});

interface Sse {
  id: string | null;
  event: string;
  data: any;
}

/**
 * A real SSE client over fetch: collects events until `stop()`; `waitFor` resolves
 * once `n` events with ids arrived. Disconnecting aborts the request mid-stream.
 */
function connect(opts: { token: string; lastEventId?: string; query?: string }) {
  const events: Sse[] = [];
  const controller = new AbortController();
  const waker: { wake?: () => void } = {};
  const opening: { opened?: () => void } = {};
  const ready = new Promise<void>((r) => (opening.opened = r));
  const done = (async () => {
    const res = await fetch(`${base}/api/stream${opts.query ?? ''}`, {
      headers: { authorization: `Bearer ${opts.token}`, accept: 'text/event-stream', ...(opts.lastEventId ? { 'last-event-id': opts.lastEventId } : {}) },
      signal: controller.signal,
    });
    if (res.status !== 200) throw new Error(`stream answered ${res.status}: ${await res.text()}`);
    opening.opened?.();
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let buf = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buf += value;
        let cut: number;
        while ((cut = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, cut);
          buf = buf.slice(cut + 2);
          let id: string | null = null;
          let event = 'message';
          const data: string[] = [];
          for (const line of block.split('\n')) {
            if (line.startsWith('id: ')) id = line.slice(4);
            else if (line.startsWith('event: ')) event = line.slice(7);
            else if (line.startsWith('data: ')) data.push(line.slice(6));
          }
          if (data.length) events.push({ id, event, data: JSON.parse(data.join('\n')) });
          waker.wake?.();
        }
      }
    } catch (err) {
      if ((err as Error).name !== 'AbortError') throw err;
    }
  })();
  done.catch(() => {});
  return {
    events,
    /** The response has started: the stream's start is pinned, everything appended from now on arrives. */
    ready,
    async waitFor(n: number, ms = 10_000) {
      const deadline = Date.now() + ms;
      while (events.length < n) {
        if (Date.now() > deadline) throw new Error(`only ${events.length} of ${n} events arrived`);
        await new Promise<void>((r) => {
          waker.wake = r;
          setTimeout(r, 50);
        });
      }
    },
    stop() {
      controller.abort();
      return done.catch(() => {});
    },
  };
}

const append = async (from: number, to: number) => {
  for (let i = from; i < to; i++) await t.board.append(i % 3 === 0 ? 'berth' : 'alert', { n: i });
};

describe('live stream', () => {
  it('a client that disconnects mid-stream and resumes with Last-Event-ID sees every message once, in order', async () => {
    const first = connect({ token: t.tokens.operator });
    await first.ready;
    await append(0, 20);
    await first.waitFor(20);
    await first.stop();
    // Fewer than all 20 may have been seen; resume from the last one the client actually has.
    const seen = first.events.slice(0, 12);
    const lastId = seen.at(-1)!.id!;

    await append(20, 40); // while disconnected
    const second = connect({ token: t.tokens.operator, lastEventId: lastId });
    await second.waitFor(28); // 12..39 replayed
    const live = append(40, 60); // while the replay may still be running
    await live;
    await second.waitFor(48);
    await second.stop();

    const all = [...seen, ...second.events];
    expect(all.map((e) => e.data.n)).toEqual(Array.from({ length: 60 }, (_, i) => i));
    const ids = all.map((e) => e.id!);
    expect(new Set(ids).size).toBe(60);
    expect(all.every((e) => e.event === (e.data.n % 3 === 0 ? 'berth' : 'alert'))).toBe(true);
  });

  it('a client whose last id was trimmed off the bounded stream is told to reload, then gets what is kept', async () => {
    const oldId = await t.board.append('alert', { n: 'old' });
    // maxLen 1000 (approximate trimming): push well past it.
    const pipeline = t.redis.pipeline();
    for (let i = 0; i < 3000; i++) pipeline.xadd(t.board.key, 'MAXLEN', '~', '1000', '*', 'type', 'alert', 'time', new Date().toISOString(), 'data', JSON.stringify({ n: i }));
    await pipeline.exec();
    const kept = await t.redis.xlen(t.board.key);
    const c = connect({ token: t.tokens.operator, lastEventId: oldId });
    await c.waitFor(kept + 1);
    await c.stop();
    expect(c.events[0]!.event).toBe('reset');
    expect(c.events.slice(1).map((e) => e.data.n)).toEqual(Array.from({ length: kept }, (_, i) => 3000 - kept + i));
  });

  it('filters by type and refuses a bad Last-Event-ID naming it', async () => {
    const c = connect({ token: t.tokens.analyst, query: '?types=berth' });
    await c.ready;
    await t.board.append('alert', { n: 'a' });
    await t.board.append('berth', { n: 'b' });
    await c.waitFor(1);
    await new Promise((r) => setTimeout(r, 200));
    await c.stop();
    expect(c.events.map((e) => e.data.n)).toEqual(['b']);

    const bad = await fetch(`${base}/api/stream`, { headers: { authorization: `Bearer ${t.tokens.analyst}`, 'last-event-id': "0'; DROP" } });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ field: 'headers.last-event-id' });
    const refused = await fetch(`${base}/api/stream`, { headers: { authorization: `Bearer ${t.tokens.enterprise}` } });
    expect(refused.status).toBe(403);
  });
});
