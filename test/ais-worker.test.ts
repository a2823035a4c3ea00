import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AisIngest } from '../pipeline/ais-ingest/index.js';
import { TcpLineFeed, UdpLineFeed } from '../pipeline/feeds/index.js';
import { silentLogger } from '../pipeline/log/index.js';
import { migrate, openStore, type Store } from '../pipeline/store/index.js';
import { portScenario, type Scenario } from '../scripts/sim/ais-scenario.js';
import { AisReplay, retimeLine } from '../scripts/sim/ais-replay.js';
import { decodeAisLines, type AisRecord } from '../pipeline/ais/index.js';
import { createTestDatabase, type TestDatabase } from './helpers/pg-database.js';

const logger = silentLogger();
const root = fileURLToPath(new URL('..', import.meta.url));

async function until(cond: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const count = async (store: Store, sql: string) => Number((await store.query<{ n: number }>(sql)).rows[0]!.n);

describe('AIS replay simulator and live feeds', () => {
  let db: TestDatabase;
  let store: Store;
  let scenario: Scenario;

  beforeAll(async () => {
    db = await createTestDatabase('pw_ais_worker');
    store = await openStore({ databaseUrl: db.url, logger });
    await migrate(store, { logger });
    scenario = portScenario();
  }, 60_000);

  afterAll(async () => {
    await store?.close();
    await db?.drop();
  });

  it('retimes tag blocks with a valid checksum', () => {
    const line = scenario.lines[0]!;
    const moved = retimeLine(line, 1_900_000_000);
    expect(moved).toContain('c:1900000000*');
    const rec = decodeAisLines([moved]).records[0] as AisRecord | undefined;
    // The first scenario message is a two-sentence type 5: check a single-sentence one too.
    const single = scenario.lines.find((l) => l.includes('!AIVDM,1,1'))!;
    const recs = decodeAisLines([retimeLine(single, 1_900_000_000)]);
    expect(recs.stats.rejected).toBe(0);
    expect((recs.records[0] as AisRecord).receivedAt).toBe(1_900_000_000);
    expect(rec).toBeUndefined(); // half a type 5 is pending, not an error
  });

  it('serves the scenario over TCP; the feed reconnects after the link drops and ingest continues', async () => {
    const replay = new AisReplay({ lines: scenario.lines, tcpPort: 0, speed: 0, loop: true, retime: true });
    await replay.start();
    const ingest = new AisIngest({ store, logger, berths: scenario.berths, anomalies: scenario.options.anomalies });
    const feed = new TcpLineFeed({ id: 'tcp-replay', host: '127.0.0.1', port: replay.port, station: 'loop', logger, backoff: { baseMs: 50, capMs: 200 } });
    try {
      feed.start(ingest.handleLine);
      await until(() => ingest.stats().lines >= 800, 30_000, '800 lines over TCP');
      replay.dropClients();
      const atDrop = ingest.stats().lines;
      await until(() => feed.stats.connects >= 2 && ingest.stats().lines >= atDrop + 800, 30_000, 'reconnect and 800 more lines');
    } finally {
      await feed.stop();
      await replay.stop();
    }
    const stats = await ingest.close();
    expect(feed.stats.connects).toBeGreaterThanOrEqual(2);
    expect(feed.stats.disconnects).toBeGreaterThanOrEqual(1);
    expect(stats.record_errors).toBe(0);
    // A cut can split a line or a two-part message; everything else decodes.
    expect(stats.rejected).toBeLessThanOrEqual(4 * feed.stats.disconnects);
    expect(stats.positions).toBeGreaterThan(1000);
    // Each pass is retimed, so no pass folds into another: every report is a row.
    expect(await count(store, 'SELECT count(*) AS n FROM ais_positions')).toBe(stats.positions);
    expect(stats.writers.ais_positions.written).toBe(stats.positions);
    expect(await count(store, `SELECT count(*) AS n FROM ais_positions WHERE time < now() - interval '1 hour'`)).toBe(0);
  }, 90_000);

  it('sends the scenario as UDP datagrams to a UDP feed', async () => {
    const ingest = new AisIngest({ store, logger });
    const feed = new UdpLineFeed({ id: 'udp-replay', host: '127.0.0.1', port: 0, logger });
    feed.start(ingest.handleLine);
    const port = await feed.listening();
    const lines = scenario.lines.slice(0, 300);
    const replay = new AisReplay({ lines, udp: { host: '127.0.0.1', port }, speed: 0, retime: false });
    await replay.start();
    await replay.done;
    await until(() => ingest.stats().lines >= lines.length, 10_000, 'UDP lines').catch((e) => { throw new Error(`${e.message}: ${ingest.stats().lines}/${lines.length}, feed ${JSON.stringify(feed.stats)}, replay ${JSON.stringify(replay.stats)}`); });
    await feed.stop();
    await replay.stop();
    const stats = await ingest.close();
    expect(stats.lines).toBe(lines.length);
    expect(stats.rejected).toBe(0);
    const expected = decodeAisLines(lines).records.filter((r) => r.kind === 'ais' && [1, 2, 3].includes(r.message.type)).length;
    expect(stats.positions).toBe(expected);
  }, 30_000);
});

describe('workers/ais.ts as a process', () => {
  let db: TestDatabase;
  let dir: string;
  let scenario: Scenario;

  beforeAll(async () => {
    db = await createTestDatabase('pw_ais_proc');
    dir = mkdtempSync(join(tmpdir(), 'pw-ais-worker-'));
    scenario = portScenario({ badLines: true });
    writeFileSync(join(dir, 'port.nmea'), `${scenario.lines.join('\n')}\n`);
    writeFileSync(
      join(dir, 'ais.yaml'),
      `anomalies:\n  port_area: ${JSON.stringify(scenario.options.anomalies.port_area)}\n  dark_after_seconds: 900\n  channels:\n    - id: main-channel\n      speed_limit_kn: 8\n      polygon: ${JSON.stringify(scenario.options.anomalies.channels![0]!.polygon)}\n`,
    );
  }, 60_000);

  afterAll(async () => {
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  const site = (feeds: string, ais = '') => `site: { name: Test port, timezone: Asia/Shanghai }
${ais}
berths:
  - id: D1
    name: Demo berth 1
    polygon: [[24.4515, 118.0300], [24.4515, 118.0340], [24.4510, 118.0340], [24.4510, 118.0300]]
    quay_length_m: 400
  - id: D2
    name: Demo berth 2
    polygon: [[24.4515, 118.0342], [24.4515, 118.0382], [24.4510, 118.0382], [24.4510, 118.0342]]
    quay_length_m: 400
    schedule: [{ mmsi: 413000004, from: "2026-11-27T00:00Z", to: "2026-11-27T04:00Z" }]
feeds:
${feeds}`;

  function startWorker(args: string[], env: Record<string, string>) {
    const child = spawn(process.execPath, ['--import', 'tsx', 'workers/ais.ts', ...args], { cwd: root, env: { ...process.env, LOG_LEVEL: 'info', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const out = { stdout: '', stderr: '' };
    child.stdout.on('data', (d: Buffer) => (out.stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out.stderr += d.toString()));
    const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, ...out }));
    });
    return { child, out, done };
  }
  const runWorker = (args: string[], env: Record<string, string>) => startWorker(args, env).done;

  it('ingests a TCP feed for --duration seconds and prints a summary', async () => {
    const replay = new AisReplay({ lines: scenario.lines, tcpPort: 0, speed: 0, loop: false, retime: false });
    await replay.start();
    writeFileSync(join(dir, 'site-tcp.yaml'), site(`  - { id: replay, protocol: tcp, host: 127.0.0.1, port: ${replay.port}, station_id: sim }\n`));
    let result;
    try {
      result = await runWorker(['--site', join(dir, 'site-tcp.yaml'), '--ais-options', join(dir, 'ais.yaml'), '--duration', '12', '--clock', 'data', '--stats-every', '2'], { DATABASE_URL: db.url });
    } finally {
      await replay.stop();
    }
    expect(result.code, result.stderr.slice(-2000)).toBe(0);
    const summary = JSON.parse(result.stdout.trim().split('\n').pop()!) as Record<string, any>;
    const f = scenario.facts;
    expect(summary.lines).toBe(f.goodLines + f.badLines);
    expect(summary.rejected).toBe(f.badLines);
    expect(summary.positions).toBe(f.positionReports);
    expect(summary.writers.ais_positions.written).toBe(f.positionReports);
    expect(summary.events).toMatchObject({ berth_arrival: 2, berth_departure: 1, ais_unassigned_berth: 1, ais_dark: 1, ais_identity_change: 1 });
    expect(summary.feeds.replay.connects).toBe(1);
    expect(result.stderr).toContain('AIS ingest stats');

    const store = await openStore({ databaseUrl: db.url, logger });
    try {
      expect(await count(store, 'SELECT count(*) AS n FROM ais_positions')).toBe(f.positionReports);
      expect(await count(store, 'SELECT count(*) AS n FROM berth_visits')).toBe(2);
      expect(await count(store, `SELECT count(*) AS n FROM vessels WHERE name IS NOT NULL`)).toBe(6);
    } finally {
      await store.close();
    }
  }, 90_000);

  it('replays a recorded file as fast as it goes and exits at its end with a summary (embedded store)', async () => {
    // The AIS settings from the site's own ais: section this time (the TCP test above passes --ais-options).
    const ais = `ais:\n${readFileSync(join(dir, 'ais.yaml'), 'utf8').replace(/^/gm, '  ')}`;
    writeFileSync(join(dir, 'site-fast.yaml'), site(`  - { id: recorded, protocol: file, path: port.nmea }\n`, ais));
    const result = await runWorker(['--site', join(dir, 'site-fast.yaml'), '--db-dir', 'memory://'], {});
    expect(result.code, result.stderr.slice(-2000)).toBe(0);
    const summary = JSON.parse(result.stdout.trim().split('\n').pop()!) as Record<string, any>;
    const f = scenario.facts;
    expect(summary.store).toBe('embedded');
    expect(summary.positions).toBe(f.positionReports);
    expect(summary.writers.ais_positions.written).toBe(f.positionReports);
    expect(summary.rejected).toBe(f.badLines);
    // Recorded file: judged on its own clock, so DARK STAR is dark and nobody else.
    expect(summary.events).toMatchObject({ berth_arrival: 2, berth_departure: 1, ais_dark: 1, ais_speeding: 2, ais_position_jump: 2, ais_invalid_identity: 2 });
    expect(summary.reject_samples[0]).toMatchObject({ feed: 'recorded', reason: 'checksum' });
    expect(summary.reject_samples[0].line).toBeGreaterThan(1);
  }, 90_000);

  it('flushes everything on SIGTERM (file feed replayed in real time, embedded store)', async () => {
    writeFileSync(join(dir, 'site-file.yaml'), site(`  - { id: recorded, protocol: file, path: port.nmea, replay: realtime, loop: true }\n`));
    const dataDir = join(dir, 'pglite');
    const w = startWorker(['--site', join(dir, 'site-file.yaml'), '--db-dir', dataDir, '--speed', '600', '--stats-every', '1'], {});
    let exited = false;
    void w.done.then(() => (exited = true));
    // Stop it while it is ingesting: a stats line shows lines coming in.
    await until(() => exited || /"lines":[1-9]\d*,"lines_per_s"/.test(w.out.stderr), 100_000, 'worker ingesting');
    expect(exited).toBe(false);
    w.child.kill('SIGTERM');
    const done = w.done;
    const result = await done;
    expect(result.code, result.stderr.slice(-2000)).toBe(0);
    const stopped = result.stderr.split('\n').filter((l) => l.includes('AIS worker stopped')).map((l) => JSON.parse(l) as { positions: number });
    expect(stopped).toHaveLength(1);
    expect(stopped[0]!.positions).toBeGreaterThan(0);
    const store = await openStore({ dataDir, logger });
    try {
      expect(await count(store, 'SELECT count(*) AS n FROM ais_positions')).toBe(stopped[0]!.positions);
    } finally {
      await store.close();
    }
  }, 180_000);
});
