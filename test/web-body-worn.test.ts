import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAudit } from '../pipeline/audit/index.js';
import { WEEKDAYS } from '../pipeline/config/schema.js';
import { assignInspector, createInspection, getInspection } from '../pipeline/dispatch/index.js';
import { startWebFixture, type WebFixture } from './helpers/web-server.js';
import { WebBrowser } from './helpers/web-browser.js';

// A body-worn recorder in Debian's Chromium against the real API, PostgreSQL,
// Redis and the RTSP simulator: the camera of kind body_worn worn by insp-01
// plays live in the job's view on the dispatch board while the job is open;
// from the acknowledgement to the result the API records it (H.264 copied),
// and the recording is kept with the result as evidence and plays from the board.

const SHOTS = join(import.meta.dirname, '.cache', 'web-screenshots');

let fx: WebFixture;
let web: WebBrowser;
let jobId = '';

const page = (viewport?: { width: number; height: number }) => web.page(viewport);
const signIn = (p: Page, token: string, hash = '') => web.signIn(p, token, hash);

const recordingDir = () => join(fx.dataDir, 'clips', 'inspections');
const recordings = () => {
  try {
    return readdirSync(recordingDir());
  } catch {
    return [];
  }
};

/** Seconds of video in a file, by ffprobe. */
function duration(file: string): number {
  const r = spawnSync('ffprobe', ['-v', 'error', '-show_entries', 'format=duration', '-of', 'default=nw=1:nk=1', file], { encoding: 'utf8' });
  return Number(r.stdout.trim());
}

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  fx = await startWebFixture({
    ais: false,
    bodyWornSweepMs: 1000,
    editSite: (site) => {
      site.cameras.push({ ...site.cameras[0]!, id: 'bw-01', name: 'Body-worn 01', kind: 'body_worn', inspector: 'insp-01', zones: [], tripwires: [], masks: [] });
    },
  });
  const { inspection } = await createInspection(fx.store, { target_kind: 'vessel', target: '413000001', mmsi: 413000001, vessel_name: 'HAI XING', berth: 'D1', risk_level: 'HRS' }, 'web test');
  // Insp-01 on duty all day here: the test does not depend on the hour it runs at.
  const roster = fx.site.inspectors.filter((i) => i.id === 'insp-01').map((i) => ({ ...i, shifts: [{ days: [...WEEKDAYS], from: '00:00', to: '24:00' }] }));
  await assignInspector(fx.store, { roster, timeZone: fx.site.site.timezone, settings: fx.site.dispatch, actor: 'web test' }, inspection.id);
  jobId = inspection.id;
  web = await WebBrowser.open(fx.url);
});

afterAll(async () => {
  await web?.close();
  await fx?.stop();
});

describe('web body-worn recorder', () => {
  it("plays the inspector's body-worn camera live in the open job's view", async () => {
    expect((await getInspection(fx.store, jobId))!.inspector).toBe('insp-01');
    const p = await page();
    await signIn(p, fx.tokens.operator, '#/dispatch');
    await p.locator('[data-testid=dispatch-board] button', { hasText: 'HAI XING' }).click();
    const video = p.locator('.job [data-testid=live-video]');
    await expect.poll(() => video.evaluate((v: any) => v.currentTime as number), { timeout: 30_000 }).toBeGreaterThan(0.5);
    expect(await video.getAttribute('aria-label')).toBe('Chen Wei 执法记录仪');
    await p.screenshot({ path: join(SHOTS, 'dispatch-body-worn-live.png'), fullPage: true });
    // The camera grid lists it, without a still or a link of its own: it is watched from the job.
    await p.goto(`${fx.url}/#/cameras`);
    const tile = p.locator('[data-testid=camera-grid] [data-camera=bw-01]');
    await tile.waitFor({ timeout: 15_000 });
    expect(await tile.textContent()).toContain('执法记录仪：在查验员的进行中任务里查看');
    expect(await p.locator('[data-testid=camera-grid] a[href="#/cameras/bw-01"]').count()).toBe(0);
    await p.close();
  });

  it('records the camera from the acknowledgement to the result and keeps it with the result as evidence', async () => {
    expect(recordings()).toEqual([]);
    const headers = { authorization: `Bearer ${fx.tokens.inspector}` };
    const ack = await fetch(`${fx.url}/api/inspector/jobs/${jobId}/ack`, { method: 'POST', headers });
    expect(ack.status).toBe(200);
    // Recording: a part for this job grows while the job is open.
    await expect.poll(() => recordings().filter((f) => f.startsWith(jobId)).length, { timeout: 15_000 }).toBe(1);
    const part = join(recordingDir(), recordings()[0]!);
    await expect.poll(() => duration(part) || 0, { timeout: 30_000, interval: 500 }).toBeGreaterThan(2);
    const form = new FormData();
    form.set('result', 'pass');
    form.set('outcome', 'released');
    const res = await fetch(`${fx.url}/api/inspector/jobs/${jobId}/result`, { method: 'POST', headers, body: form });
    expect(res.status).toBe(200);
    const done = (await res.json()) as any;
    expect(done).toMatchObject({ state: 'completed', clips: [`/api/inspections/${jobId}/clips/0`] });
    // Kept: the inspection names the file, the audit trail says so, and the file is whole H.264 video.
    const stored = (await getInspection(fx.store, jobId))!;
    expect(stored.details.body_worn_clips).toEqual([join('clips', 'inspections', recordings()[0]!)]);
    const audit = await listAudit(fx.store, { subject: jobId });
    expect(audit.map((a) => a.kind)).toContain('inspection.evidence');
    const r = spawnSync('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=codec_name,width,height', '-of', 'csv=p=0', part], { encoding: 'utf8' });
    expect(r.stdout.trim()).toBe('h264,640,480');
    // The inspector may fetch their own recording; without a token nobody may.
    const own = await fetch(`${fx.url}${done.clips[0]}`, { headers });
    expect(own.status).toBe(200);
    expect(own.headers.get('content-type')).toBe('video/mp4');
    await own.arrayBuffer();
    expect((await fetch(`${fx.url}${done.clips[0]}`)).status).toBe(401);
    expect((await fetch(`${fx.url}/api/inspections/${jobId}/clips/1`, { headers })).status).toBe(404);
    expect((await fetch(`${fx.url}/api/inspections/${jobId}/clips/x`, { headers })).status).toBe(400);
  });

  it('shows the kept recording in the completed job on the board, and no live view any more', async () => {
    const p = await page();
    await signIn(p, fx.tokens.operator, '#/dispatch');
    await p.locator('[data-testid=dispatch-board] button', { hasText: 'HAI XING' }).click();
    const clip = p.locator('[data-testid=job-clips] [data-testid=clip]');
    await clip.waitFor({ timeout: 15_000 });
    expect(await p.locator('.job [data-testid=live-video]').count()).toBe(0);
    // Nor does the API show it live: its inspector has no open job now.
    const live = await fetch(`${fx.url}/api/live/bw-01`, { headers: { authorization: `Bearer ${fx.tokens.operator}` } });
    expect(live.status).toBe(409);
    expect(((await live.json()) as any).message).toMatch(/body-worn recorder: it is shown live only while its inspector \(insp-01\) has an open job/);
    await clip.evaluate((v: any) => v.play());
    await expect.poll(() => clip.evaluate((v: any) => v.currentTime as number), { timeout: 15_000 }).toBeGreaterThan(0.3);
    await p.screenshot({ path: join(SHOTS, 'dispatch-body-worn-clip.png'), fullPage: true });
    await p.close();
  });

  it('stops recording a job cancelled without a result and keeps what was recorded with it', async () => {
    const { inspection } = await createInspection(fx.store, { target_kind: 'vessel', target: '413000002', mmsi: 413000002, vessel_name: 'FAST CAT', berth: 'D2', risk_level: 'SRS' }, 'web test');
    const roster = fx.site.inspectors.filter((i) => i.id === 'insp-01').map((i) => ({ ...i, shifts: [{ days: [...WEEKDAYS], from: '00:00', to: '24:00' }] }));
    await assignInspector(fx.store, { roster, timeZone: fx.site.site.timezone, settings: fx.site.dispatch, actor: 'web test' }, inspection.id);
    const ack = await fetch(`${fx.url}/api/inspector/jobs/${inspection.id}/ack`, { method: 'POST', headers: { authorization: `Bearer ${fx.tokens.inspector}` } });
    expect(ack.status).toBe(200);
    await expect.poll(() => recordings().filter((f) => f.startsWith(inspection.id)).length, { timeout: 15_000 }).toBe(1);
    const file = recordings().find((f) => f.startsWith(inspection.id))!;
    await expect.poll(() => duration(join(recordingDir(), file)) || 0, { timeout: 30_000, interval: 500 }).toBeGreaterThan(1);
    // Cancelled by the center: no result will come.
    await fx.store.query(`UPDATE inspections SET state = 'cancelled' WHERE id = $1`, [inspection.id]);
    await expect.poll(async () => (await getInspection(fx.store, inspection.id))!.details.body_worn_clips, { timeout: 15_000 }).toEqual([join('clips', 'inspections', file)]);
    // The evidence is audited after it is kept: on a loaded machine a moment later.
    await expect.poll(async () => (await listAudit(fx.store, { subject: inspection.id })).map((a) => a.kind), { timeout: 15_000 }).toContain('inspection.evidence');
    // Stopped: the file no longer grows.
    const { size } = statSync(join(recordingDir(), file));
    await new Promise((r) => setTimeout(r, 2500));
    expect(statSync(join(recordingDir(), file)).size).toBe(size);
  });

  it('made no request outside its own origin and logged no console error', () => {
    expect(web.foreign.join('\n')).toBe('');
    expect(web.consoleErrors.join('\n')).toBe('');
  });
});
