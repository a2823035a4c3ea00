import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../pipeline/log/index.js';
import { migrate, openStore, type Store } from '../pipeline/store/index.js';
import { startTestApi, type TestApi } from './helpers/api-server.js';

const FIXES = 400_000;
let store: Store;
let t: TestApi;
let pages = 0;
let base: string;

beforeAll(async () => {
  const real = await openStore({ dataDir: 'memory://', logger: silentLogger() });
  await migrate(real, { logger: silentLogger() });
  // The same store, counting the API's reads (each page of a streamed track is one).
  store = { ...real, transaction: (fn) => (pages++, real.transaction(fn)), close: () => real.close() } as Store;
  await real.query(
    `INSERT INTO ais_positions (id, time, mmsi, lat, lon, speed, msg_type)
     SELECT gen_random_uuid(), timestamptz '2026-10-01T00:00:00Z' + i * interval '10 seconds', 413000001, 24.45, 118.03, 0.1, 1 FROM generate_series(0, ${FIXES - 1}) i`,
  );
  await real.query(`INSERT INTO vessels (mmsi, name, first_seen, last_seen) VALUES (413000001, 'HAI XING', now(), now())`);
  t = await startTestApi({ store });
  await t.api.app.listen({ port: 0, host: '127.0.0.1' });
  const addr = t.api.app.server.address();
  base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
}, 240_000);
afterAll(async () => {
  await t?.close();
  await store?.close();
});

describe('CSV streaming', () => {
  it('streams a long track page by page: a client that stops reading stops the queries, and every fix arrives once, in order', async () => {
    const res = await fetch(`${base}/api/vessels/413000001/track?from=2026-10-01T00:00:00Z&to=2026-11-20T00:00:00Z&format=csv`, {
      headers: { authorization: `Bearer ${t.tokens.analyst}` },
    });
    expect(res.status, res.status === 200 ? '' : await res.text()).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/csv');
    const reader = res.body!.getReader();
    const first = await reader.read();
    const pagesAtStart = pages;
    // The client holds back: the server may fill the socket buffers, then must wait.
    await new Promise((r) => setTimeout(r, 3000));
    const paused = pages;
    const total = Math.ceil(FIXES / 5000);
    expect(paused).toBeLessThan(total / 2);

    const dec = new TextDecoder();
    let text = dec.decode(first.value, { stream: true });
    let lines = 0;
    let last = '';
    let ordered = true;
    const flush = (final: boolean) => {
      const parts = text.split('\r\n');
      text = final ? '' : parts.pop()!;
      for (const line of parts) {
        if (!line || line.startsWith('time,')) continue;
        const time = line.slice(0, 24);
        if (time <= last) ordered = false;
        last = time;
        lines++;
      }
    };
    flush(false);
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += dec.decode(value, { stream: true });
      flush(false);
    }
    flush(true);
    expect(lines).toBe(FIXES);
    expect(ordered).toBe(true);
    expect(pages - pagesAtStart).toBeGreaterThanOrEqual(total - paused);
  }, 240_000);
});
