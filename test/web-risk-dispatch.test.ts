import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiToken } from '../pipeline/api/tokens.js';
import { WEEKDAYS } from '../pipeline/config/schema.js';
import { assignInspector, runPeriodDraw, seedSha256, type DispatchContext } from '../pipeline/dispatch/index.js';
import { loadRiskModel, recordRiskScore, scoreVessel, type VesselScore } from '../pipeline/risk/index.js';
import { startWebFixture, type WebFixture } from './helpers/web-server.js';
import { WebBrowser } from './helpers/web-browser.js';

// The risk view and the dispatch board's draws in Debian's Chromium against the
// real API and PostgreSQL: a vessel scored by the port's risk model is reached
// from the port chart and from the dispatch board and shows its breakdown
// (indicator → points → evidence) and history; an inspection's draws open with
// their record and the server's recomputation, and a tampered record says so.

const SHOTS = join(import.meta.dirname, '.cache', 'web-screenshots');
const MMSI = 413_000_777;
const OTHER = 413_000_778;

let fx: WebFixture;
let web: WebBrowser;
let latest: VesselScore;
let targetDraw = '';
let inspectorDraw = '';
let inspectionId = '';
let drawnInspector = '';
let enterpriseToken = '';

const page = (viewport?: { width: number; height: number }) => web.page(viewport);
const signIn = (p: Page, token: string, hash = '') => web.signIn(p, token, hash);

const call = async (path: string, token?: string) => {
  const r = await fetch(`${fx.url}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { status: r.status, body: (await r.json()) as any };
};

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  fx = await startWebFixture({ ais: false, cameras: false });
  const now = new Date();
  // The vessel on the chart: a fix at berth D1 a minute ago.
  const [lat, lon] = fx.site.berths.find((b) => b.id === 'D1')!.polygon[0]!;
  for (const [mmsi, name] of [
    [MMSI, 'HONG YUN 7'],
    [OTHER, 'MIN AN 2'],
  ] as const) {
    await fx.store.query(`INSERT INTO vessels (mmsi, name, first_seen, last_seen) VALUES ($1, $2, $3, $3)`, [mmsi, name, now]);
    await fx.store.query(`INSERT INTO ais_positions (id, time, mmsi, lat, lon, speed, course, heading, msg_type) VALUES ($1, $2, $3, $4, $5, 0, 90, 90, 1)`, [randomUUID(), new Date(now.getTime() - 60_000), mmsi, lat, lon]);
  }
  // Two scores a day apart by the port's own model: an old tanker, then the same once its company and RO rate very low.
  const model = loadRiskModel('config/risk/port.yaml');
  const facts = { mmsi: MMSI, imo: null, name: 'HONG YUN 7', type: 'oil_tanker', built: 1998, flag_list: 'black' as const, inspections_36m: [] };
  const earlier = scoreVessel(model, facts, new Date('2026-12-05T02:00:00Z'));
  latest = scoreVessel(model, { ...facts, company_performance: 'very_low', ro_performance: 'very_low' }, new Date('2026-12-06T02:00:00Z'));
  await recordRiskScore(fx.store, earlier, new Date('2026-12-05T02:00:00Z'));
  await recordRiskScore(fx.store, latest, new Date('2026-12-06T02:00:00Z'));
  await recordRiskScore(fx.store, scoreVessel(model, { mmsi: OTHER, imo: null, name: 'MIN AN 2', type: 'container_ship', built: 2018 }, new Date('2026-12-06T02:00:00Z')), new Date('2026-12-06T02:00:00Z'));
  // A company that declared HONG YUN 7's call sees its risk, and not MIN AN 2's.
  await fx.store.query(`INSERT INTO vessel_calls (id, declared_at, mmsi, name, eta, company) VALUES ($1, $2, $3, 'HONG YUN 7', $2, 'coscoline')`, [randomUUID(), now, MMSI]);
  enterpriseToken = (await createApiToken(fx.store, { name: 'web test company', role: 'enterprise', company: 'coscoline' })).token;

  // A period's draw over both vessels (HRS always drawn, LRS never) and the inspector draw of its inspection.
  // Both inspectors are on duty all day here, so the test does not depend on the hour it runs at.
  const ctx: DispatchContext = {
    roster: fx.site.inspectors.map((i) => ({ ...i, shifts: [{ days: [...WEEKDAYS], from: '00:00', to: '24:00' }] })),
    timeZone: fx.site.site.timezone,
    settings: { ...fx.site.dispatch, rates: { HRS: 1, SRS: 0.3, LRS: 0 } },
    actor: 'web test',
  };
  const drawn = await runPeriodDraw(fx.store, ctx, {
    at: now,
    candidates: [
      { id: `MMSI${MMSI}`, profile: latest.profile, mmsi: MMSI, imo: null, berth: 'D1', name: 'HONG YUN 7' },
      { id: `MMSI${OTHER}`, profile: 'LRS', mmsi: OTHER, imo: null, berth: 'D2', name: 'MIN AN 2' },
    ],
  });
  expect(latest.profile).toBe('HRS');
  expect(drawn.inspections).toHaveLength(1);
  targetDraw = drawn.drawId;
  inspectionId = drawn.inspections[0]!.id;
  const assigned = await assignInspector(fx.store, ctx, inspectionId, now);
  inspectorDraw = assigned.drawId;
  drawnInspector = assigned.record!.selected[0]!;

  web = await WebBrowser.open(fx.url);
});

afterAll(async () => {
  await web?.close();
  await fx?.stop();
});

/** What the breakdown table shows, row by row: indicator, points, evidence cell. */
const breakdownRows = (p: Page) =>
  p.locator('[data-testid=risk-breakdown] tbody tr').evaluateAll((rows: any[]) => rows.map((r) => ({ indicator: r.dataset.indicator as string, points: Number(r.querySelector('td.num').textContent), evidence: r.querySelector('td:last-child').textContent as string })));

describe('web risk view and draws', () => {
  it("reaches a vessel's risk from the port chart: score, breakdown with evidence, history", async () => {
    const p = await page();
    await signIn(p, fx.tokens.analyst, '#/chart');
    const button = p.locator('[data-testid=vessel-list] button', { hasText: 'HONG YUN 7' });
    await button.waitFor({ timeout: 30_000 });
    await button.click();
    await p.locator(`[data-testid=vessel-card] a[href="#/risk/${MMSI}"]`).click();
    await p.locator('[data-testid=risk-breakdown]').waitFor({ timeout: 15_000 });
    expect(await p.locator('[data-testid=risk-score]').textContent()).toBe(`${latest.points} 分 · 高风险船舶`);
    // Every indicator that scored, most points first, with its points and its evidence.
    const expected = Object.entries(latest.breakdown)
      .map(([indicator, s]) => ({ indicator, points: s.points, evidence: s.evidence }))
      .sort((a, b) => b.points - a.points || (a.indicator < b.indicator ? -1 : 1));
    expect(expected.length).toBeGreaterThan(1);
    const rows = await breakdownRows(p);
    expect(rows.map((r) => [r.indicator, r.points])).toEqual(expected.map((e) => [e.indicator, e.points]));
    for (const [i, e] of expected.entries()) for (const ev of e.evidence) expect(rows[i]!.evidence).toContain(ev);
    expect(await p.locator('[data-testid=risk-reason]').textContent()).toBe(latest.profile_reason);
    // The history: newest first, the earlier score below.
    const history = await p.locator('[data-testid=risk-history] li time').evaluateAll((ts: any[]) => ts.map((t) => t.getAttribute('datetime')));
    expect(history).toEqual(['2026-12-06T02:00:00.000Z', '2026-12-05T02:00:00.000Z']);
    // And drawn over time (uPlot), oldest to newest.
    await p.locator('[data-testid=risk-plot] canvas').waitFor();
    expect(await p.locator('[data-testid=risk-plot] .u-title').textContent()).toBe('分值变化');
    await p.screenshot({ path: join(SHOTS, 'risk-vessel.png'), fullPage: true });
    await p.click('[data-testid=lang-switch]');
    await expect.poll(() => p.locator('[data-testid=risk-score]').textContent()).toBe(`${latest.points} points · high-risk ship`);
    expect(await p.locator('.risk-detail h2').allTextContents()).toEqual(['Breakdown', 'History']);
    await p.click('[data-testid=lang-switch]');
    await expect.poll(() => p.locator('.risk-detail h2').first().textContent()).toBe('评分明细');
    await p.close();
  });

  it('shows on the dispatch board how each inspection was drawn, verified, and links to the vessel risk', async () => {
    const board = (await call('/api/dispatch', fx.tokens.operator)).body.inspections;
    expect(board.find((i: any) => i.id === inspectionId)).toMatchObject({ target_draw_id: targetDraw, inspector_draw_id: inspectorDraw, inspector: drawnInspector });
    const p = await page();
    await signIn(p, fx.tokens.operator, '#/dispatch');
    const row = p.locator('[data-testid=dispatch-board] tbody tr', { hasText: 'HONG YUN 7' });
    await row.waitFor({ timeout: 15_000 });
    expect(await row.locator('[data-testid=draw-link]').evaluateAll((as: any[]) => as.map((a) => a.getAttribute('href')))).toEqual([`#/dispatch/draws/${targetDraw}`, `#/dispatch/draws/${inspectorDraw}`]);

    // The target draw: commitment, revealed seed, both candidates, the HRS one selected, and it recomputes.
    await row.locator('[data-testid=draw-link]').first().click();
    await expect.poll(() => p.locator('[data-testid=draw-verdict]').textContent(), { timeout: 15_000 }).toMatch(/^核验通过/);
    const seed = (await p.locator('[data-testid=draw-seed]').textContent())!;
    expect(await p.locator('[data-testid=draw-commitment]').textContent()).toBe(seedSha256(seed));
    expect(await p.locator('[data-testid=draw-candidates] tbody tr').evaluateAll((rs: any[]) => rs.map((r) => [r.dataset.candidate, r.className]))).toEqual([
      [`MMSI${MMSI}`, 'selected'],
      [`MMSI${OTHER}`, ''],
    ]);
    await p.screenshot({ path: join(SHOTS, 'draw-target.png'), fullPage: true });

    // The inspector draw: both eligible inspectors with their workload, the drawn one marked.
    await p.goto(`${fx.url}/#/dispatch`);
    await row.locator('[data-testid=draw-link]').nth(1).click();
    await expect.poll(() => p.locator('[data-testid=draw-verdict]').textContent(), { timeout: 15_000 }).toMatch(/^核验通过/);
    expect(await p.locator('[data-testid=draw-candidates] tbody tr').evaluateAll((rs: any[]) => rs.map((r) => r.dataset.candidate))).toEqual(['insp-01', 'insp-02']);
    expect(await p.locator('[data-testid=draw-candidates] tr.selected').getAttribute('data-candidate')).toBe(drawnInspector);

    // From the board to the target's risk.
    await p.goto(`${fx.url}/#/dispatch`);
    await row.locator('[data-testid=job-risk]').click();
    await p.locator('[data-testid=risk-breakdown]').waitFor({ timeout: 15_000 });
    expect(p.url()).toMatch(new RegExp(`#/risk/${MMSI}$`));
    await p.close();
  });

  it('says a draw whose published selection was altered does not verify, and why', async () => {
    await fx.store.query(`UPDATE draws SET record = jsonb_set(record, '{selected}', $2::jsonb) WHERE id = $1`, [targetDraw, JSON.stringify([`MMSI${OTHER}`])]);
    const p = await page();
    await signIn(p, fx.tokens.operator, `#/dispatch/draws/${targetDraw}`);
    await expect.poll(() => p.locator('[data-testid=draw-verdict]').textContent(), { timeout: 15_000 }).toBe('核验未通过：');
    const problems = await p.locator('[data-testid=draw-problems] li').allTextContents();
    expect(problems).toEqual([expect.stringMatching(new RegExp(`^MMSI${MMSI} is selected by the seed`)), expect.stringMatching(new RegExp(`^MMSI${OTHER} is in selected but the seed does not select it`))]);
    await p.close();
  });

  it("shows a company's token the risk of its own vessels only", async () => {
    const p = await page({ width: 390, height: 844 });
    await signIn(p, enterpriseToken);
    const list = p.locator('[data-testid=risk-list] li');
    await list.first().waitFor({ timeout: 15_000 });
    expect(await list.allTextContents()).toEqual([expect.stringContaining('HONG YUN 7')]);
    await list.first().locator('a').click();
    await p.locator('[data-testid=risk-breakdown]').waitFor({ timeout: 15_000 });
    expect(await p.evaluate(() => (globalThis as any).document.documentElement.scrollWidth as number)).toBeLessThanOrEqual(390);
    await p.screenshot({ path: join(SHOTS, 'risk-enterprise-390.png'), fullPage: true });
    await p.close();
  });

  it('serves risk by role: a company sees its own vessels only; bad input is a 400 naming the field', async () => {
    expect((await call('/api/risk', fx.tokens.analyst)).body.scores.map((s: any) => s.mmsi).sort()).toEqual([MMSI, OTHER]);
    expect((await call('/api/risk', enterpriseToken)).body.scores.map((s: any) => [s.mmsi, s.name, s.level])).toEqual([[MMSI, 'HONG YUN 7', 'HRS']]);
    expect((await call(`/api/risk/${MMSI}`, enterpriseToken)).status).toBe(200);
    expect((await call(`/api/risk/${OTHER}`, enterpriseToken)).status).toBe(404);
    expect((await call(`/api/risk/${OTHER}`, fx.tokens.operator)).body).toMatchObject({ mmsi: OTHER, level: 'SRS', history: [{ time: '2026-12-06T02:00:00.000Z' }] });
    expect((await call(`/api/risk/${MMSI}`, fx.tokens.inspector)).status).toBe(403);
    expect((await call(`/api/risk/${MMSI}`)).status).toBe(401);
    expect((await call('/api/risk/413000999', fx.tokens.analyst)).status).toBe(404);
    const bad = await call('/api/risk/123', fx.tokens.analyst);
    expect(bad.status).toBe(400);
    expect(bad.body.message).toMatch(/mmsi.*9 digits/);
    const limit = await call(`/api/risk/${MMSI}?limit=0`, fx.tokens.analyst);
    expect(limit.status).toBe(400);
    expect(limit.body.message).toMatch(/limit/);
    expect((await call(`/api/risk/${MMSI}?limit=1`, fx.tokens.analyst)).body.history).toHaveLength(1);
  });

  it('made no request outside its own origin and logged no console error', () => {
    expect(web.foreign.join('\n')).toBe('');
    expect(web.consoleErrors.join('\n')).toBe('');
  });
});
