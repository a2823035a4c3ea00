import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlertEngine, applyAlertChanges } from '../pipeline/alerts/index.js';
import { eventId, type PortEvent } from '../pipeline/events/index.js';
import { silentLogger } from '../pipeline/log/index.js';
import { migrate, openStore } from '../pipeline/store/index.js';
import { alertsSite, alertsSiteYaml } from './helpers/alerts-site.js';
import { createTestDatabase, type TestDatabase } from './helpers/pg-database.js';
import { prng } from './helpers/prng.js';

const exec = promisify(execFile);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'pw-alerts-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function cli(args: string[], input?: string, databaseUrl = ''): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = exec(process.execPath, ['--import', 'tsx', 'cli/main.ts', ...args], { cwd: ROOT, maxBuffer: 16 << 20, env: { ...process.env, DATABASE_URL: databaseUrl } });
  if (input !== undefined) {
    child.child.stdin!.end(input);
  }
  try {
    const r = await child;
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

interface Line {
  alert: string;
  rule: string;
  state: string;
  kind: string;
  camera: string;
  zone: string;
  objects: Array<{ track: number; class: string; snapshot: string | null }>;
  first: number;
  last: number;
  t: number;
  merged_into?: string;
}

/** The last line per alert id, merged ones left out: the alerts as they stand at the end. */
function finalAlerts(stdout: string): Map<string, Line> {
  const m = new Map<string, Line>();
  for (const l of stdout.trim().split('\n').filter(Boolean).map((x) => JSON.parse(x) as Line)) m.set(l.alert, l);
  for (const [k, v] of m) if (v.merged_into) m.delete(k);
  return m;
}

describe('portwatch alerts evaluate on real footage', () => {
  const site = join(dir, 'vtest-alerts.yaml');
  let analyzed = '';
  beforeAll(async () => {
    // vtest's site with rules: intrusion into the west end of the path (people overlapping in time fold into
    // one alert), and line crossings (instants, no cooldown: one alert each).
    writeFileSync(
      site,
      `${readFileSync(join(ROOT, 'test/fixtures/sites/vtest.yaml'), 'utf8')}
alerts:
  routes:
    - { id: board, kind: board }
  rules:
    - id: west-intrusion
      kinds: [unauthorized_access]
      zones: [west-path]
      severity: high
      routes: [board]
      cooldown_seconds: 0
      procedure: [Look at the camera, Send the patrol]
    - id: west-crossing
      kinds: [line_crossing]
      zones: [west-line]
      severity: low
      routes: [board]
      cooldown_seconds: 0
`,
    );
    const r = await exec(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'analyze', 'test/fixtures/video/vtest-640x480.mp4', '--site', site, '--camera', 'vtest-cam', '--duration', '30', '--snapshots', dir], {
      cwd: ROOT,
      maxBuffer: 8 << 20,
    });
    analyzed = r.stdout;
  }, 600_000);

  it('folds the people who walk into the zone together into one alert listing each of them; each crossing is its own alert', async () => {
    const events = analyzed.trim().split('\n').map((l) => JSON.parse(l) as { kind: string; phase: string; track: number });
    const intruders = events.filter((e) => e.kind === 'unauthorized_access' && e.phase === 'start').map((e) => e.track);
    expect(intruders.length).toBeGreaterThanOrEqual(2);
    const file = join(dir, 'events.jsonl');
    writeFileSync(file, analyzed);
    const r = await cli(['alerts', 'evaluate', '--site', site, file]);
    expect(r.code).toBe(0);
    const alerts = [...finalAlerts(r.stdout).values()];
    const intrusion = alerts.filter((a) => a.rule === 'west-intrusion');
    expect(intrusion).toHaveLength(1);
    expect(intrusion[0]!.objects.map((o) => o.track)).toEqual(intruders);
    expect(intrusion[0]!.objects.every((o) => o.class === 'person' && o.snapshot !== null)).toBe(true);
    expect(intrusion[0]).toMatchObject({ state: 'open', kind: 'unauthorized_access', camera: 'vtest-cam', zone: 'west-path' });
    // Times stay in analyze's terms (seconds from the clip start).
    expect(intrusion[0]!.first).toBeGreaterThan(15);
    expect(intrusion[0]!.last).toBe(30);
    const crossings = events.filter((e) => e.kind === 'line_crossing').length;
    expect(crossings).toBeGreaterThan(0);
    expect(alerts.filter((a) => a.rule === 'west-crossing')).toHaveLength(crossings);
  });

  it('gives the same alerts with the same ids for the lines shuffled and duplicated, read from stdin', async () => {
    const reference = finalAlerts((await cli(['alerts', 'evaluate', '--site', site, '-'], analyzed)).stdout);
    const rand = prng(12);
    const lines = analyzed.trim().split('\n');
    const noisy = [...lines, ...lines.filter(() => rand() < 0.5)].sort(() => rand() - 0.5);
    const got = finalAlerts((await cli(['alerts', 'evaluate', '--site', site, '-'], `${noisy.join('\n')}\n`)).stdout);
    expect([...got.keys()].sort()).toEqual([...reference.keys()].sort());
    for (const [id, a] of reference) {
      const { t: _t, ...rest } = a;
      const { t: _u, ...other } = got.get(id)!;
      expect(other).toEqual(rest);
    }
  });

  it('reports bad lines as FILE:LINE: reason, counts them, keeps the rest, exits 1', async () => {
    const lines = analyzed.trim().split('\n');
    const file = join(dir, 'bad.jsonl');
    writeFileSync(file, [lines[0], '{"broken', lines[1], JSON.stringify({ t: 3, kind: 'teleport', phase: 'start', id: 'x' }), JSON.stringify({ kind: 'unauthorized_access', phase: 'start', id: 'y' }), ...lines.slice(2)].join('\n'));
    const r = await cli(['alerts', 'evaluate', '--site', site, file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${file}:2: not JSON`);
    expect(r.stderr).toContain(`${file}:4: kind: not an event kind`);
    expect(r.stderr).toContain(`${file}:5: time: missing`);
    expect(r.stderr).toMatch(/, 3 bad,/);
    expect(finalAlerts(r.stdout)).toEqual(finalAlerts((await cli(['alerts', 'evaluate', '--site', site, '-'], analyzed)).stdout));
  });
});

describe('portwatch alerts list | ack | shelve | resolve against the store', () => {
  // A PostgreSQL server: each command opens the store afresh, which the embedded one makes slow.
  let db: TestDatabase;
  const ids: string[] = [];
  const store = (args: string[]) => cli([...args], undefined, db.url);
  afterAll(() => db?.drop());
  beforeAll(async () => {
    db = await createTestDatabase('pw_alerts_cli');
    const store = await openStore({ databaseUrl: db.url, logger: silentLogger() });
    await migrate(store, { logger: silentLogger() });
    const engine = new AlertEngine({ site: alertsSite() });
    const ev = (camera: string, track: number, s: number): PortEvent[] => {
      const id = eventId(camera, track, s);
      const base = { id, kind: 'unauthorized_access' as const, camera, zone: 'fence', track, class: 'person' };
      return [
        { ...base, time: new Date(Date.UTC(2026, 11, 6, 2, 0, s)), phase: 'start' },
        { ...base, time: new Date(Date.UTC(2026, 11, 6, 2, 0, s + 5)), phase: 'end' },
      ];
    };
    const changes = [...ev('yard-1', 1, 0), ...ev('yard-2', 2, 10)].flatMap((e) => engine.ingest(e));
    for (const a of await applyAlertChanges(store, changes)) ids.push(a.alert.id);
    await store.close();
  }, 120_000);

  it('lists, acknowledges, shelves within the bound, resolves as a false alarm, and refuses what is not allowed', async () => {
    const siteFile = join(dir, 'site.yaml');
    writeFileSync(siteFile, alertsSiteYaml('  max_shelve_minutes: 60\n'));
    const list = await store(['alerts', 'list']);
    expect(list.code).toBe(0);
    const listed = list.stdout.trim().split('\n').map((l) => JSON.parse(l) as { id: string; camera: string; state: string });
    expect(listed.map((a) => a.camera)).toEqual(['yard-2', 'yard-1']);
    const [a, b] = listed;

    const ack = await store(['alerts', 'ack', a!.id, '--by', 'li.wei', '--comment', 'on it']);
    expect(ack.code).toBe(0);
    expect(JSON.parse(ack.stdout)).toMatchObject({ state: 'acknowledged', acknowledged_by: 'li.wei', history: { action: 'acknowledged', comment: 'on it' } });

    const tooLong = await store(['alerts', 'shelve', b!.id, '--for', '2h', '--reason', 'drill', '--site', siteFile]);
    expect(tooLong.code).toBe(2);
    expect(tooLong.stderr).toMatch(/at most 60 minutes/);
    const shelved = await store(['alerts', 'shelve', b!.id, '--for', '30m', '--reason', 'drill', '--by', 'zhang', '--site', siteFile]);
    expect(JSON.parse(shelved.stdout)).toMatchObject({ shelved: true, shelved_reason: 'drill', shelved_by: 'zhang' });
    expect((await cli(['alerts', 'shelve', b!.id, '--for', 'soon', '--reason', 'x'])).stderr).toMatch(/--for must be a duration/);

    const fa = await store(['alerts', 'resolve', b!.id, '--false-alarm', '--by', 'zhang']);
    expect(JSON.parse(fa.stdout)).toMatchObject({ state: 'false_alarm', closed_by: 'zhang' });
    const again = await store(['alerts', 'ack', b!.id, '--by', 'li']);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/false_alarm: it is closed/);
    expect(ids).toHaveLength(2);
  }, 600_000);
});
