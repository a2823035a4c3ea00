import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWebFixture, type WebFixture } from './helpers/web-server.js';
import { WebBrowser } from './helpers/web-browser.js';

// The command center in Debian's Chromium, headless, against the real API,
// PostgreSQL and Redis, the AIS replay feeding the real AIS ingest, and the
// RTSP simulator behind the live view. Screenshots go to test/.cache/web-screenshots.

const SHOTS = join(import.meta.dirname, '.cache', 'web-screenshots');

let fx: WebFixture;
let web: WebBrowser;

const page = (viewport?: { width: number; height: number }) => web.page(viewport);
const signIn = (p: Page, token: string, hash = '') => web.signIn(p, token, hash);

const shot = (p: Page, name: string) => p.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  fx = await startWebFixture();
  web = await WebBrowser.open(fx.url);
});

afterAll(async () => {
  await web?.close();
  await fx?.stop();
});

describe('web command center', () => {
  it('refuses a wrong token with the reason and signs in with a right one', async () => {
    const p = await page();
    await p.goto(fx.url);
    await p.fill('#token', 'pw_not-a-token');
    await p.click('button[type=submit]');
    await expect.poll(() => p.locator('[role=alert]').textContent()).toMatch(/登录失败.*token is unknown/);
    web.consoleErrors.length = 0; // the refused sign-in's 401 is the point of this step
    await p.fill('#token', fx.tokens.operator);
    await p.click('button[type=submit]');
    await p.waitForSelector('header nav');
    expect(await p.locator('header nav a').allTextContents()).toEqual(['港区海图', '告警', '视频监控', '派单看板', '风险']);
    await p.close();
  });

  it('shows on the port chart a vessel the AIS replay moved, and its track', async () => {
    const p = await page();
    await signIn(p, fx.tokens.admin, '#/chart');
    const fast = p.locator('[data-testid=vessel-list] button', { hasText: 'FAST CAT' });
    await fast.waitFor({ timeout: 30_000 });
    const mark = p.locator('g.vessel', { hasText: 'FAST CAT' });
    const first = await mark.getAttribute('transform');
    // The replay runs the scenario 120× real time and the page reads positions every 5 s: FAST CAT moves.
    await expect.poll(() => mark.getAttribute('transform'), { timeout: 30_000 }).not.toBe(first);
    await fast.click();
    await expect.poll(() => p.locator('[data-testid=vessel-card] h2').textContent()).toBe('FAST CAT');
    // The track over the last hours: a polyline of the fixes (it may run off the visible chart).
    await p.locator('[data-testid=vessel-track]').waitFor({ state: 'attached', timeout: 15_000 });
    expect((await p.locator('[data-testid=vessel-track]').getAttribute('points'))!.split(' ').length).toBeGreaterThan(1);
    expect(await p.locator('[data-testid=scale-bar] text').textContent()).toMatch(/^\d+(\.\d+)? (千米|米)$/);
    await shot(p, 'chart-1920');
    await p.setViewportSize({ width: 390, height: 844 });
    expect(await p.evaluate(() => (globalThis as any).document.documentElement.scrollWidth as number)).toBeLessThanOrEqual(390);
    await shot(p, 'chart-390');
    await p.close();
  });

  it('draws the berth chart for a chosen range and bucket', async () => {
    const p = await page();
    await signIn(p, fx.tokens.analyst, '#/berths');
    const asked: string[] = [];
    p.on('request', (r) => r.url().includes('/activity?') && asked.push(r.url()));
    await p.locator('[data-testid=berth-plot] canvas').first().waitFor();
    await p.selectOption('[data-testid=berth-range]', '72');
    // The page asks for the chosen range (a berth event on the live stream may refresh the old one in between).
    const span = (u: string) => {
      const q = new URL(u).searchParams;
      return Date.parse(q.get('to')!) - Date.parse(q.get('from')!);
    };
    await expect.poll(() => (asked.length ? span(asked.at(-1)!) : 0), { timeout: 15_000 }).toBe(72 * 3600_000);
    await p.locator('[data-testid=berth-plot] canvas').first().waitFor();
    expect(await p.locator('[data-testid=berth-plot] .u-legend').first().textContent()).toContain('平均在泊船舶数');
    expect(await p.locator('[data-testid=berth-totals]').textContent()).toMatch(/靠泊 \d+ 次/);
    await shot(p, 'berths');
    await p.close();
  });

  it('switches to English and back', async () => {
    const p = await page();
    await signIn(p, fx.tokens.admin, '#/chart');
    await p.click('[data-testid=lang-switch]');
    await expect.poll(() => p.locator('header nav a').first().textContent()).toBe('Port chart');
    expect(await p.evaluate(() => (globalThis as any).document.documentElement.lang as string)).toBe('en');
    await shot(p, 'chart-en');
    await p.click('[data-testid=lang-switch]');
    await expect.poll(() => p.locator('header nav a').first().textContent()).toBe('港区海图');
    await p.close();
  });

  it('shows the cameras with their health and a recent still, and plays one live with Media Source Extensions', async () => {
    const p = await page();
    await signIn(p, fx.tokens.operator, '#/cameras');
    const tiles = p.locator('[data-testid=camera-grid] li');
    await expect.poll(() => tiles.count()).toBe(fx.site.cameras.length);
    // No camera worker runs here: no health row yet, and the page says so.
    expect(await tiles.first().locator('.health').textContent()).toBe('状态未知');
    const still = tiles.first().locator('img');
    await expect.poll(() => still.evaluate((i: any) => (i.complete ? i.naturalWidth : 0) as number).catch(() => 0), { timeout: 30_000 }).toBe(480);
    await shot(p, 'cameras');
    await p.locator('[data-testid=camera-grid] a[href="#/cameras/dock-001"]').click();
    const video = p.locator('[data-testid=live-video]');
    await expect.poll(() => video.evaluate((v: any) => v.currentTime as number), { timeout: 30_000 }).toBeGreaterThan(0.5);
    expect(await video.evaluate((v: any) => [v.videoWidth, v.videoHeight])).toEqual([640, 480]);
    await shot(p, 'live-view');
    await p.close();
    // The last viewer left: the camera's ffmpeg stops.
  });

  it('shows a role only what it may do', async () => {
    const p = await page({ width: 390, height: 844 });
    await signIn(p, fx.tokens.inspector);
    expect(await p.locator('header nav a').allTextContents()).toEqual(['我的任务']);
    await p.goto(`${fx.url}/#/alerts`);
    // A role's page list is the whole of what it can reach: another view's address shows its own first page.
    await expect.poll(() => p.locator('header nav a[aria-current=page]').textContent()).toBe('我的任务');
    await p.close();
  });

  it('made no request outside its own origin and logged no console error', () => {
    expect(web.foreign.join('\n')).toBe('');
    expect(web.consoleErrors.join('\n')).toBe('');
  });
});
