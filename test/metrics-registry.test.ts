import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetricsRegistry, registerPortwatchMetrics, startMetricsServer, storeSources } from '../pipeline/metrics/index.js';
import { silentLogger } from '../pipeline/log/index.js';
import { migrate, openStore, type Store } from '../pipeline/store/index.js';
import { startTestApi, type TestApi } from './helpers/api-server.js';

let store: Store;

beforeAll(async () => {
  store = await openStore({ dataDir: 'memory://', logger: silentLogger() });
  await migrate(store, { logger: silentLogger() });
});
afterAll(async () => {
  await store?.close();
});

/** Stats shaped as the camera service and AIS ingest keep them (pipeline/camera, pipeline/ais-ingest). */
function serviceStats() {
  const runners = [
    { camera: 'dock-001', frames: 120, dropped: 3, detectorRuns: 40, lastLatencyMs: 85, connected: true },
    { camera: 'gate-001', frames: 60, dropped: 0, detectorRuns: 10, lastLatencyMs: 40, connected: false },
  ];
  const cameras = {
    stats: () => ({ frames: 180, dropped: 3, detectorRuns: 50, cropRuns: 20, detectorDropped: 2, events: 7, maxLatencyMs: 300, detectionRows: 90, storeRejected: 0 }),
    runners: () => runners,
  };
  const ais = {
    summary: () => ({
      messages: 1000,
      rejected: 5,
      rejects: { checksum: 3, truncated: 2 },
      positions: 800,
      events: { berth_arrival: 2, ais_dark: 1 },
      writers: { ais_positions: { written: 790, held: 10, rejected: 0 }, events: { written: 3, held: 0, rejected: 0 } },
    }),
  };
  return { runners, cameras, ais };
}

describe('metrics', () => {
  it('exposes the services’ running totals, writers, AIS rejects by reason, alerts and camera states from the store, in Prometheus text', async () => {
    const s = serviceStats();
    await store.query(
      `INSERT INTO alerts (id, rule, kind, severity, priority, active, first_at, last_at, created_at, updated_at) VALUES ($1, 'r', 'loitering', 'low', 4, true, now(), now(), now(), now()), ($2, 'r', 'loitering', 'low', 4, true, now(), now(), now(), now())`,
      [randomUUID(), randomUUID()],
    );
    await store.insertRows('camera_health', ['id', 'time', 'camera', 'state', 'metrics'], [
      [randomUUID(), new Date(Date.now() - 60_000), 'gate-001', 'ok', '{}'],
      [randomUUID(), new Date(), 'gate-001', 'offline', '{}'],
    ]);
    const registry = createMetricsRegistry({ labels: { worker: 'w1' } });
    registerPortwatchMetrics(registry, { cameras: () => s.cameras, ais: () => s.ais, events: () => ({ stored: 12, refused: 1, published: 11, pending: 1 }), ...storeSources(store) });
    const server = await startMetricsServer({ registry, port: 0, logger: silentLogger() });
    try {
      const text = await (await fetch(server.url)).text();
      expect(text).toContain('portwatch_frames_analysed_total{camera="dock-001",worker="w1"} 120');
      expect(text).toContain('portwatch_frames_dropped_total{camera="dock-001",worker="w1"} 3');
      expect(text).toContain('portwatch_detector_runs_total{camera="gate-001",worker="w1"} 10');
      expect(text).toContain('portwatch_detector_latency_seconds{camera="dock-001",worker="w1"} 0.085');
      expect(text).toContain('portwatch_ais_rejects_total{reason="checksum",worker="w1"} 3');
      expect(text).toContain('portwatch_ais_messages_total{worker="w1"} 1000');
      expect(text).toContain('portwatch_writer_held_rows{table="ais_positions",worker="w1"} 10');
      expect(text).toContain('portwatch_writer_rows_total{table="detections",worker="w1"} 90');
      expect(text).toContain('portwatch_events_total{kind="berth_arrival",source="ais",worker="w1"} 2');
      expect(text).toContain('portwatch_alerts{kind="loitering",state="open",worker="w1"} 2');
      expect(text).toContain('portwatch_camera_state{camera="gate-001",state="offline",worker="w1"} 1');
      expect(text).not.toContain('state="ok"');
      expect(text).toContain('portwatch_outbox_pending{worker="w1"} 1');
      // Totals follow the services at the next scrape.
      s.runners[0]!.frames = 150;
      expect(await (await fetch(server.url)).text()).toContain('portwatch_frames_analysed_total{camera="dock-001",worker="w1"} 150');
      expect((await fetch(server.url.replace('/metrics', '/other'))).status).toBe(404);
    } finally {
      await server.close();
    }
  });

  it('a process without cameras or AIS exposes no series for them', async () => {
    const registry = createMetricsRegistry({ processMetrics: false });
    registerPortwatchMetrics(registry, {});
    const text = await registry.metrics();
    expect(text).toContain('# TYPE portwatch_frames_analysed_total counter');
    expect(text).not.toMatch(/^portwatch_frames_analysed_total\{/m);
  });

  it('the API serves the registry at /metrics to admin and operator tokens, and /api/health says what answers', async () => {
    const registry = createMetricsRegistry({ processMetrics: false });
    registerPortwatchMetrics(registry, storeSources(store));
    let t: TestApi | null = null;
    try {
      t = await startTestApi({ store, metrics: registry });
      const m = await t.api.app.inject({ url: '/metrics', headers: { authorization: `Bearer ${t.tokens.operator}` } });
      expect(m.statusCode).toBe(200);
      expect(m.body).toContain('portwatch_alerts{kind="loitering",state="open"} 2');
      expect((await t.api.app.inject({ url: '/metrics', headers: { authorization: `Bearer ${t.tokens.analyst}` } })).statusCode).toBe(403);
      const h = await t.api.app.inject({ url: '/api/health' });
      expect(h.statusCode).toBe(200);
      expect(JSON.parse(h.body)).toMatchObject({ ok: true, database: { ok: true }, redis: { ok: true } });
      t.redis.disconnect();
      const down = await t.api.app.inject({ url: '/api/health' });
      expect(down.statusCode).toBe(503);
      expect(JSON.parse(down.body)).toMatchObject({ ok: false, database: { ok: true }, redis: { ok: false } });
    } finally {
      await t?.close().catch(() => {});
    }
  });
});
