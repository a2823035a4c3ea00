/**
 * Command center benchmark: page weight (JS + CSS of web/dist, gzip) and time
 * to the first alert list on loopback, in Debian's Chromium headless against
 * the real API (embedded store with 200 alerts, a private Redis for the board).
 *
 *   npm run bench:web
 *   npm run bench:web -- --runs 10
 *
 * Time to the first alert list: from the start of navigation (a fresh browser
 * context each run: nothing cached, the token already in the tab's session)
 * until the list shows its first alert, measured by the page's own clock
 * (performance.now()). The peer in the same run is the API alone: the same
 * GET /api/alerts the page makes, timed from Node, so the figure shows what
 * the page adds to the data it waits for. Goals: ≤ 200 KB gzip, < 1 s.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { Redis } from 'ioredis';
import { AlertEngine, applyAlertChanges } from '../../pipeline/alerts/index.js';
import { buildApiServer } from '../../pipeline/api/server.js';
import { createApiToken } from '../../pipeline/api/tokens.js';
import { BoardStream } from '../../pipeline/board/index.js';
import { loadSiteConfig } from '../../pipeline/config/index.js';
import { eventId } from '../../pipeline/events/index.js';
import { silentLogger } from '../../pipeline/log/index.js';
import { migrate } from '../../pipeline/store/migrate.js';
import { openStore } from '../../pipeline/store/index.js';
import { startPrivateRedis } from '../demo/private-redis.js';
import { launchChromium } from '../chromium.js';
import { reportBench } from './report.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const dist = join(root, 'web', 'dist');

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const runs = Number(arg('runs', '5'));
  if (spawnSync(process.execPath, [join(root, 'scripts', 'build-web.mjs')], { stdio: 'inherit' }).status !== 0) throw new Error('web build failed');

  // Page weight: what a browser downloads, compressed as a server would send it.
  let raw = 0;
  let gz = 0;
  const files: string[] = [];
  for (const f of readdirSync(dist).filter((f) => /\.(js|css)$/.test(f))) {
    const b = readFileSync(join(dist, f));
    raw += b.length;
    gz += gzipSync(b, { level: 9 }).length;
    files.push(f);
  }
  console.log(`page weight: ${files.join(' + ')} = ${(raw / 1024).toFixed(1)} KB, ${(gz / 1024).toFixed(1)} KB gzip (goal ≤ 200 KB gzip: ${gz <= 200 * 1024 ? 'met' : 'NOT met'})`);
  reportBench({ name: 'page weight, JS + CSS gzip', ours: Number((gz / 1024).toFixed(1)), unit: 'KB', better: 'lower', goal: '≤ 200', note: 'no peer' });

  const tmp = mkdtempSync(join(tmpdir(), 'portwatch-bench-web-'));
  const logger = silentLogger();
  const redisServer = process.env.REDIS_URL ? null : await startPrivateRedis(join(tmp, 'redis'));
  const redis = new Redis(process.env.REDIS_URL ?? redisServer!.url, { maxRetriesPerRequest: null });
  const store = await openStore({ dataDir: 'memory://', logger });
  try {
    await migrate(store, { logger });
    const site = loadSiteConfig(join(root, 'config', 'site.demo.yaml'), { env: {} });
    // 200 alerts over the last day: intrusions on the quay edge, far enough apart not to fold.
    const engine = new AlertEngine({ site });
    const now = Date.now();
    for (let i = 0; i < 200; i++) {
      const time = new Date(now - i * 400_000);
      const changes = engine.ingest({ id: eventId('bench-web', i), time, kind: 'unauthorized_access', phase: 'start', camera: 'dock-001', zone: 'quay-edge', track: i, class: 'person', score: 0.8 });
      await applyAlertChanges(store, changes);
    }
    const board = new BoardStream({ redis, prefix: `bench-web:${process.pid}:` });
    const api = await buildApiServer({ store, logger, site, redis, board, dataDir: tmp, webRoot: dist, rateLimitPerMinute: 1_000_000 });
    const url = await api.app.listen({ host: '127.0.0.1', port: 0 });
    const { token } = await createApiToken(store, { name: 'bench', role: 'operator' });

    const browser = await launchChromium();
    const page: number[] = [];
    const apiOnly: number[] = [];
    let count = 0;
    for (let r = 0; r < runs + 1; r++) {
      const ctx = await browser.newContext();
      await ctx.addInitScript(`sessionStorage.setItem('portwatch.session', ${JSON.stringify(JSON.stringify({ token, role: 'operator', name: 'bench' }))})`);
      const p = await ctx.newPage();
      await p.goto(`${url}/#/alerts`, { waitUntil: 'commit' });
      const ms = (await p.waitForFunction(() => ((globalThis as any).document.querySelector('[data-testid=alert-list] li') ? performance.now() : 0), undefined, { polling: 'raf', timeout: 30_000 })).jsonValue();
      const t = await ms;
      count = await p.locator('[data-testid=alert-list] li').count();
      if (process.env.BENCH_WEB_DEBUG) console.log(await p.evaluate(() => performance.getEntriesByType('resource').map((e) => `${e.name.replace(/^https?:\/\/[^/]+/, '')} ${e.startTime.toFixed(0)}→${(e as unknown as { responseEnd: number }).responseEnd.toFixed(0)}`).join('\n')));
      await ctx.close();
      const t0 = performance.now();
      const res = await fetch(`${url}/api/alerts?limit=200`, { headers: { authorization: `Bearer ${token}` } });
      await res.json();
      const a = performance.now() - t0;
      // The first run warms the server (JIT, query plans) for both and is not counted.
      if (r > 0) {
        page.push(t);
        apiOnly.push(a);
      }
    }
    await browser.close();
    await api.close();
    await board.close();
    const p50 = median(page);
    console.log(`time to the first alert list (${count} alerts shown, loopback, ${runs} runs, fresh context each):`);
    console.log(`  page  (navigation → first alert drawn)  median ${p50.toFixed(0)} ms, max ${Math.max(...page).toFixed(0)} ms (goal < 1000 ms: ${p50 < 1000 ? 'met' : 'NOT met'})`);
    console.log(`  peer: API alone (GET /api/alerts?limit=200 from Node)  median ${median(apiOnly).toFixed(0)} ms`);
    reportBench({ name: `first alert list in the page (${count} alerts, loopback, Chromium), median, vs the API alone from Node`, ours: Math.round(p50), peer: Math.round(median(apiOnly)), unit: 'ms', better: 'lower', goal: '< 1000' });
    await redis.del(board.key);
  } finally {
    await store.close();
    await redis.quit();
    await redisServer?.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
}

await main();
