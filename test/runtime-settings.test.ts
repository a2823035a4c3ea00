import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { workersSettingsWithFlags } from '../cli/commands/run.js';
import { CliError } from '../cli/cli-error.js';
import { ConfigError, loadSiteConfig } from '../pipeline/config/index.js';
import { silentLogger } from '../pipeline/log/index.js';
import { WORKER_KINDS, healthThresholds, startRuntime } from '../pipeline/runtime/index.js';
import { portScenario } from '../scripts/sim/ais-scenario.js';
import { runCli } from './helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'pw-runtime-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const base = 'site: { name: Runtime port, timezone: UTC }\n';
function siteFile(name: string, body: string): string {
  const f = join(dir, name);
  writeFileSync(f, base + body);
  return f;
}

describe('the workers: section of the site file', () => {
  it('has a default for everything, so a site file without it is valid', () => {
    const site = loadSiteConfig(siteFile('plain.yaml', ''), { env: {} });
    expect(site.workers).toMatchObject({ stop_deadline_seconds: 10, lease_prefix: 'portwatch:', queue_prefix: 'bull' });
    expect(site.workers.camera).toMatchObject({ lease_ttl_seconds: 10, decode: 'on-demand', detections_per_second: 1, health_every_seconds: 10, max_batch: 4, sessions: 1, threads: true });
    expect(site.workers.ais).toEqual({ sweep_every_seconds: 5, stats_every_seconds: 10 });
    expect(healthThresholds(site.workers)).toBeUndefined();
  });

  it('reports every bad field with file, line and column', () => {
    const f = siteFile('bad.yaml', 'workers:\n  stop_deadline_seconds: -1\n  camera:\n    sessions: 0\n    decode: sometimes\n    health: { offline_after_s: 5, frozen_for: 3 }\n');
    let err: unknown;
    try {
      loadSiteConfig(f, { env: {} });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const msg = (err as Error).message;
    expect(msg).toContain(`${f}:3:26 workers.stop_deadline_seconds: stop_deadline_seconds must be above 0`);
    expect(msg).toContain(`${f}:5:15 workers.camera.sessions: sessions is at least 1`);
    expect(msg).toContain(`${f}:6:13 workers.camera.decode: decode is on-demand or every-keyframe`);
    expect(msg).toMatch(new RegExp(`${f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:7:\\d+ workers\\.camera\\.health\\.frozen_for: unknown field`));
  });

  it('maps health thresholds to the health stage, and flags override fields through the same checks', () => {
    const site = loadSiteConfig(siteFile('tuned.yaml', 'workers:\n  camera:\n    sessions: 2\n    health: { offline_after_s: 12, confirm_s: 2 }\n'), { env: {} });
    expect(healthThresholds(site.workers)).toEqual({ offlineAfterS: 12, confirmS: 2 });
    const s = workersSettingsWithFlags(site, { sessions: '3', leaseTtlMs: '3000', healthThresholds: '{"frozenAfterS":4}', redisPrefix: 'pw-test:' });
    expect(s.camera.sessions).toBe(3);
    expect(s.camera.lease_ttl_seconds).toBe(3);
    expect(s.lease_prefix).toBe('pw-test:');
    expect(healthThresholds(s)).toEqual({ offlineAfterS: 12, confirmS: 2, frozenAfterS: 4 });
    expect(() => workersSettingsWithFlags(site, { sessions: '0' })).toThrow(/^workers\.camera\.sessions: sessions is at least 1 \(from the command line\)$/);
    expect(() => workersSettingsWithFlags(site, { maxBatch: 'lots' })).toThrow(CliError);
    expect(() => workersSettingsWithFlags(site, { healthThresholds: '{"offlineAfterS":' })).toThrow(/--health-thresholds is not JSON/);
    expect(() => workersSettingsWithFlags(site, { healthThresholds: '{"bogus":1}' })).toThrow(/workers\.camera\.health: .*bogus/);
  });
});

describe('portwatch worker / run', () => {
  it('refuses an unknown kind, a bad Redis URL and a missing site with exit 2 and the reason', async () => {
    const site = siteFile('cli.yaml', '');
    const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' };
    const bogus = await runCli(['worker', 'bogus', '--site', site], env);
    expect(bogus.code).toBe(2);
    expect(bogus.stderr).toContain(`unknown kind "bogus": one of ${WORKER_KINDS.map((k) => k.name).join(', ')}`);
    const badRedis = await runCli(['run', '--site', site, '--redis', 'redis://user:hunter2@127.0.0.1:6379/zero'], env);
    expect(badRedis.code).toBe(2);
    expect(badRedis.stderr).toContain('--redis "redis://user:***@127.0.0.1:6379/zero": database "zero" is not a number');
    expect(badRedis.stderr).not.toContain('hunter2');
    const noSite = await runCli(['worker', 'ais'], env);
    expect(noSite.code).toBe(2);
    expect(noSite.stderr).toContain('no site file: pass --site FILE or set PORTWATCH_SITE');
  }, 180_000);

  it('runs the kinds a site wants from the registry; an AIS file feed ends by itself and the stop is clean', async () => {
    const scenario = portScenario({ badLines: false });
    writeFileSync(join(dir, 'port.nmea'), `${scenario.lines.join('\n')}\n`);
    const f = siteFile('ais-only.yaml', `feeds:\n  - { id: recorded, protocol: file, path: port.nmea }\n`);
    const site = loadSiteConfig(f, { env: {} });
    const wanted = WORKER_KINDS.filter((k) => k.wanted(site)).map((k) => k.name);
    expect(wanted).toContain('ais');
    expect(wanted).not.toContain('camera');
    const runtime = await startRuntime({ site, siteFile: f, settings: site.workers, logger: silentLogger(), dataDir: dir, dbDir: 'memory://', redisUrl: null, kinds: ['ais'] });
    expect([...runtime.workers.keys()]).toEqual(['ais']);
    await runtime.ended;
    let events = -1;
    let outbox = -1;
    const report = await runtime.stop({
      beforeClose: async (store) => {
        events = Number((await store.query<{ n: string }>('SELECT count(*) AS n FROM events')).rows[0]!.n);
        outbox = Number((await store.query<{ n: string }>('SELECT count(*) AS n FROM event_outbox')).rows[0]!.n);
      },
    });
    expect(report).toMatchObject({ clean: true, abandoned: 0, unpublished: 0, unfinished: [] });
    expect(events).toBeGreaterThan(0);
    // No queue configured: the spine hands the stored events to listeners and keeps no backlog.
    expect(outbox).toBe(0);
    const summary = runtime.workers.get('ais')!.summary!() as { positions: number; store: string };
    expect(summary.store).toBe('embedded');
    expect(summary.positions).toBe(scenario.facts.positionReports);
  }, 120_000);
});
