import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setAlertClip } from '../pipeline/alerts/index.js';
import { muxClip } from '../pipeline/clips/index.js';
import { AccessUnitSplitter } from '../pipeline/video/annexb.js';
import { WEEKDAYS } from '../pipeline/config/schema.js';
import { assignInspector, createInspection, getInspection } from '../pipeline/dispatch/inspection-store.js';
import { eventId, type PortEvent } from '../pipeline/events/index.js';
import { createEventSink } from '../pipeline/events/event-sink.js';
import { silentLogger } from '../pipeline/log/index.js';
import { ZoneEngine } from '../pipeline/zones/index.js';
import { FRAME, boxAt, track } from './helpers/zone-tracks.js';
import { startWebFixture, type WebFixture } from './helpers/web-server.js';
import { WebBrowser } from './helpers/web-browser.js';

// Alerts and inspections in Debian's Chromium against the real API, store,
// Redis and alerts service: an event published on the events queue becomes an
// alert on the open page, is acknowledged there and the API says so; its detail
// shows the snapshot and plays the clip; an inspector records a result with a photo.

const SHOTS = join(import.meta.dirname, '.cache', 'web-screenshots');
const VTEST = join(import.meta.dirname, 'fixtures', 'video', 'vtest-640x480.mp4');

let fx: WebFixture;
let web: WebBrowser;

const page = (viewport?: { width: number; height: number }) => web.page(viewport);
const signIn = (p: Page, token: string, hash = '') => web.signIn(p, token, hash);

const api = async (path: string, token: string) => {
  const r = await fetch(`${fx.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
  expect(r.status, path).toBe(200);
  return r.json() as Promise<any>;
};

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  fx = await startWebFixture({ alerts: true, ais: false, cameras: false });
  web = await WebBrowser.open(fx.url);
});

afterAll(async () => {
  await web?.close();
  await fx?.stop();
});

describe('web alerts and inspections', () => {
  let alertId = '';

  it('shows an alert live, acknowledges it from the page, and the API has the new state', async () => {
    const p = await page();
    await signIn(p, fx.tokens.operator, '#/alerts');
    await p.waitForSelector('.empty');
    // The evidence: a frame of the footage as the snapshot, written where the pipeline writes them.
    mkdirSync(join(fx.dataDir, 'snapshots'), { recursive: true });
    const r = spawnSync('ffmpeg', ['-loglevel', 'error', '-y', '-ss', '3', '-i', VTEST, '-frames:v', '1', join(fx.dataDir, 'snapshots', 'dock-001-1.jpg')]);
    expect(r.status).toBe(0);
    const time = new Date();
    await fx.events!.publish({
      id: eventId('web-test', 'dock-001', 'quay-edge', 1, time.getTime()),
      time,
      kind: 'unauthorized_access',
      phase: 'start',
      camera: 'dock-001',
      zone: 'quay-edge',
      track: 1,
      class: 'person',
      score: 0.91,
      bbox: [40, 170, 100, 290],
      snapshot: 'dock-001-1.jpg',
    });
    // Arrives over the live stream, without a reload.
    const item = p.locator('[data-testid=alert-list] li').first();
    await item.waitFor({ timeout: 30_000 });
    expect(await item.getAttribute('class')).toContain('prio-high');
    expect(await item.textContent()).toContain('非法闯入');
    alertId = (await item.getAttribute('data-alert-id'))!;
    await p.screenshot({ path: join(SHOTS, 'alerts-live.png') });
    await item.locator('[data-testid=ack]').click();
    await expect.poll(() => item.locator('.state').textContent()).toContain('已确认');
    const fromApi = await api(`/api/alerts/${alertId}`, fx.tokens.operator);
    expect(fromApi.state).toBe('acknowledged');
    expect(fromApi.acknowledged_by).toBe('web test operator');
    await p.close();
  });

  it("shows why the alert was raised, its snapshot with the zone, and plays its clip", async () => {
    mkdirSync(join(fx.dataDir, 'clips'), { recursive: true });
    // The clip as the camera worker writes it (the MP4 written in Node) from vtest's H.264.
    const h264 = execFileSync('ffmpeg', ['-v', 'error', '-i', VTEST, '-t', '6', '-an', '-c:v', 'copy', '-bsf:v', 'h264_mp4toannexb,h264_metadata=aud=insert', '-f', 'h264', 'pipe:1'], { maxBuffer: 64 << 20 });
    const units = new AccessUnitSplitter().push(h264).map((unit, i) => ({ unit, timeMs: i * 100 }));
    expect((await muxClip(units, join(fx.dataDir, 'clips', 'alert.mp4'))).writer).toBe('node');
    await setAlertClip(fx.store, alertId, 'clips/alert.mp4');
    const p = await page();
    await signIn(p, fx.tokens.operator, `#/alerts/${alertId}`);
    expect(await p.locator('[data-testid=alert-rule]').textContent()).toBe('quay-intrusion');
    expect(await p.locator('[data-testid=alert-score]').textContent()).toBe('0.91');
    const img = p.locator('[data-testid=snapshot]');
    await expect.poll(() => img.evaluate((i: any) => (i.complete ? i.naturalWidth : 0) as number), { timeout: 15_000 }).toBe(640);
    // The quay-edge zone from the site file, over the picture.
    expect(await p.locator('[data-testid=snapshot-zone]').getAttribute('points')).toBe('0,158.4 179.20000000000002,158.4 179.20000000000002,240 0,240');
    const clip = p.locator('[data-testid=clip]');
    await clip.waitFor();
    await clip.evaluate((v: any) => v.play());
    await expect.poll(() => clip.evaluate((v: any) => v.currentTime as number), { timeout: 15_000 }).toBeGreaterThan(0.3);
    expect(await p.locator('.history li').allTextContents()).toEqual(expect.arrayContaining([expect.stringContaining('确认')]));
    await p.screenshot({ path: join(SHOTS, 'alert-detail.png'), fullPage: true });
    await p.close();
  });

  it("draws on the snapshot the track path the camera pipeline's event carried, with the zone", async () => {
    // A person walks from the square into the quay-edge zone and along it: the
    // zone engine (as the camera worker runs it) makes the events, the event
    // sink stores them and publishes them to the alerts service.
    const cam = fx.site.cameras.find((c) => c.id === 'dock-001')!;
    const engine = new ZoneEngine({ camera: cam.id, zones: cam.zones, tripwires: cam.tripwires, timeZone: fx.site.site.timezone });
    const walk: [number, number][] = [[0.45, 0.42], [0.4, 0.43], [0.35, 0.44], [0.3, 0.45], [0.25, 0.46], [0.2, 0.46], [0.15, 0.47], [0.1, 0.47]];
    const t0 = Date.now() - 30_000;
    const events: PortEvent[] = [];
    walk.forEach(([x, y], i) => events.push(...engine.update([track(7, 'person', boxAt(x, y), t0 + i * 1000, { score: 0.88 })], FRAME, t0 + i * 1000)));
    const start = events.find((e) => e.phase === 'start' && e.kind === 'unauthorized_access')!;
    expect(start).toBeDefined();
    start.snapshot = 'dock-001-1.jpg';
    const sink = createEventSink({ store: fx.store, logger: silentLogger(), queue: fx.events!, relayEveryMs: 100 });
    for (const e of events) expect((await sink.emit(e)).ok).toBe(true);
    await sink.close({ timeoutMs: 10_000 });
    // The stored row's path: what the page must draw, scaled to the 640×480 snapshot.
    const stored = (await fx.store.query(`SELECT details->'track_path' AS path FROM events WHERE id = $1 ORDER BY time DESC LIMIT 1`, [start.id])).rows[0]!.path as [number, number][];
    expect(stored.length).toBeGreaterThan(4);
    expect(stored[0]).toEqual([0.45, 0.42]);
    let alert: any;
    await expect.poll(async () => (alert = (await api('/api/alerts?limit=50', fx.tokens.operator)).alerts.find((a: any) => a.objects.some((o: any) => o.event === start.id))), { timeout: 30_000 }).toBeDefined();
    const detail = await api(`/api/alerts/${alert.id}`, fx.tokens.operator);
    expect(detail.track_paths).toEqual([{ event: start.id, track: 7, points: stored }]);
    const p = await page();
    await signIn(p, fx.tokens.operator, `#/alerts/${alert.id}`);
    // This object's snapshot (the alert may hold the earlier one too).
    const figure = p.locator('figure.snapshot', { has: p.locator('[data-testid=snapshot-track]') });
    const img = figure.locator('[data-testid=snapshot]');
    await expect.poll(() => img.evaluate((i: any) => (i.complete ? i.naturalWidth : 0) as number), { timeout: 15_000 }).toBe(640);
    const drawn = (await figure.locator('[data-testid=snapshot-track]').getAttribute('points'))!.split(' ').map((xy) => xy.split(',').map(Number));
    expect(drawn).toHaveLength(stored.length);
    drawn.forEach(([x, y], i) => {
      expect(x).toBeCloseTo(stored[i]![0] * 640, 6);
      expect(y).toBeCloseTo(stored[i]![1] * 480, 6);
    });
    await figure.locator('[data-testid=snapshot-zone]').waitFor();
    await p.screenshot({ path: join(SHOTS, 'alert-track-path.png'), fullPage: true });
    await p.close();
    // A damaged row: whatever is not an [x, y] pair near the picture is left out, the rest still drawn.
    await fx.store.query(`UPDATE events SET details = jsonb_set(details, '{track_path}', $2::jsonb) WHERE id = $1`, [start.id, JSON.stringify(['x', [0.1], [0.2, 0.3], [0.25, 0.35, 1], [50, 50], [0.3, 0.4], null])]);
    expect((await api(`/api/alerts/${alert.id}`, fx.tokens.operator)).track_paths).toEqual([{ event: start.id, track: 7, points: [[0.2, 0.3], [0.3, 0.4]] }]);
    await fx.store.query(`UPDATE events SET details = jsonb_set(details, '{track_path}', '"not a list"'::jsonb) WHERE id = $1`, [start.id]);
    expect((await api(`/api/alerts/${alert.id}`, fx.tokens.operator)).track_paths).toEqual([]);
  });

  it('lets an inspector acknowledge a job and record a result with a photo, on a phone', async () => {
    // Insp-01 works 08:00–20:00 port time in the demo site; on duty all day here,
    // so the test does not depend on the hour it runs at.
    const { inspection } = await createInspection(fx.store, { target_kind: 'vessel', target: '413000001', mmsi: 413000001, vessel_name: 'HAI XING', berth: 'D1', risk_level: 'HRS' }, 'web test');
    const assigned = await assignInspector(fx.store, { roster: fx.site.inspectors.filter((i) => i.id === 'insp-01').map((i) => ({ ...i, shifts: [{ days: [...WEEKDAYS], from: '00:00', to: '24:00' }] })), timeZone: fx.site.site.timezone, settings: fx.site.dispatch, actor: 'web test' }, inspection.id);
    expect(assigned.inspection?.inspector ?? (await getInspection(fx.store, inspection.id))!.inspector).toBe('insp-01');
    const p = await page({ width: 390, height: 844 });
    await signIn(p, fx.tokens.inspector);
    await p.locator('[data-testid=jobs] a', { hasText: 'HAI XING' }).click();
    await p.locator('[data-testid=job-ack]').click();
    await expect.poll(() => p.locator('[data-testid=job-state]').textContent()).toContain('已确认');
    await p.setInputFiles('[data-testid=photos]', join(fx.dataDir, 'snapshots', 'dock-001-1.jpg'));
    await p.fill('#findings', '冷藏集装箱温度记录缺失\n货物与申报一致');
    await p.check('[data-testid=outcome-held]');
    await p.screenshot({ path: join(SHOTS, 'inspector-390.png'), fullPage: true });
    expect(await p.evaluate(() => (globalThis as any).document.documentElement.scrollWidth as number)).toBeLessThanOrEqual(390);
    await p.click('[data-testid=submit-result]');
    await p.locator('[data-testid=job-outcome]').waitFor({ timeout: 15_000 });
    const done = await getInspection(fx.store, inspection.id);
    expect(done).toMatchObject({ state: 'completed', result: 'pass', outcome: 'held' });
    expect(done!.findings.map((f: { text: string }) => f.text)).toEqual(['冷藏集装箱温度记录缺失', '货物与申报一致']);
    expect(done!.photos).toHaveLength(1);
    expect(await p.evaluate(() => (globalThis as any).document.documentElement.scrollWidth as number)).toBeLessThanOrEqual(390);
    await p.close();
  });

  it('made no request outside its own origin and logged no console error', () => {
    expect(web.foreign.join('\n')).toBe('');
    expect(web.consoleErrors.join('\n')).toBe('');
  });
});
