import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  canonicalTimeZone,
  checkSiteConfig,
  checkSiteConfigText,
  ConfigError,
  detectStreamUrl,
  formatIssue,
  loadSiteConfig,
  parseSiteDateTime,
  polygonProblem,
  redactSiteConfig,
  redactUrl,
  resolveEnvReferences,
  summarizeSiteConfig,
  type CameraConfig,
} from '../pipeline/config/index.js';

import { exampleEnv } from './helpers/cli.js';

const FIXTURES = 'test/fixtures/config';
const EXAMPLE = 'config/site.example.yaml';
const DEMO = 'config/site.demo.yaml';


const byId = (cameras: CameraConfig[], id: string) => {
  const camera = cameras.find((c) => c.id === id);
  if (!camera) throw new Error(`no camera ${id}`);
  return camera;
};

describe('the example site', () => {
  const env = exampleEnv();
  const config = loadSiteConfig(EXAMPLE, { env });

  it('expands to 284 cameras: 96 dock, 104 yard, 36 channel, 48 gate, all ids distinct', () => {
    expect(config.cameras).toHaveLength(284);
    const kinds: Record<string, number> = {};
    for (const c of config.cameras) kinds[c.kind] = (kinds[c.kind] ?? 0) + 1;
    expect(kinds).toEqual({ dock: 96, yard: 104, channel: 36, gate: 48 });
    expect(new Set(config.cameras.map((c) => c.id)).size).toBe(284);
  });

  it('gives the yard group its keyframe interval (keyframe-only decoding at 1 frame/s) and leaves the GOP of the others unknown', () => {
    const withGop = config.cameras.filter((c) => c.detect.keyframe_interval !== undefined);
    expect(withGop.length).toBe(84);
    expect(new Set(withGop.map((c) => `${c.kind} ${c.detect.fps} ${c.detect.keyframe_interval}`))).toEqual(new Set(['yard 1 1']));
    expect(byId(config.cameras, 'dock-001').detect.keyframe_interval).toBeUndefined();
  });

  it('has 20 berths, 3 feeds, 30 inspectors, and every dock camera sits at a defined berth', () => {
    expect(config.berths).toHaveLength(20);
    expect(config.feeds).toHaveLength(3);
    expect(config.inspectors).toHaveLength(30);
    const berths = new Set(config.berths.map((b) => b.id));
    const docks = config.cameras.filter((c) => c.kind === 'dock');
    expect(docks.every((c) => c.berth !== undefined && berths.has(c.berth))).toBe(true);
    // 5 cameras per container berth: dock-006..010 watch B02; dock-071..074 watch B15.
    expect(byId(config.cameras, 'dock-006').berth).toBe('B02');
    expect(byId(config.cameras, 'dock-010').berth).toBe('B02');
    expect(byId(config.cameras, 'dock-071').berth).toBe('B15');
    expect(byId(config.cameras, 'dock-096').berth).toBe('B20');
  });

  it('fills templates, resolves credentials and applies overrides field by field', () => {
    const dock12 = byId(config.cameras, 'dock-012');
    expect(dock12.name).toBe('Berth B03 quay camera 12');
    expect(dock12.streams.main).toBe(`rtsp://viewer:${env.CAM_DOCK_PASSWORD}@10.21.0.12:554/Streaming/Channels/101`);
    expect(dock12.detect).toEqual({ fps: 2, width: 640, height: 360, model: 'nanodet-int8', stream: 'sub' });

    const dock7 = byId(config.cameras, 'dock-007');
    expect(dock7.streams.main).toBe(`rtsp://inspect:${env.CAM_07_PASSWORD}@10.21.0.7:554/live/ch00_0`);
    expect(dock7.zones.map((z) => z.id)).toEqual(['quay-edge', 'apron', 'gangway']);
    expect(dock7.berth).toBe('B02');

    expect(byId(config.cameras, 'dock-052').detect).toEqual({ fps: 1, width: 640, height: 360, model: 'nanodet-int8', stream: 'main' });
    expect(byId(config.cameras, 'chan-35').enabled).toBe(false);
    expect(byId(config.cameras, 'yard-001').detect.fps).toBe(1);
    expect(config.cameras.filter((c) => !c.enabled).map((c) => c.id)).toEqual(['chan-35']);
  });

  it('picks the stream the detector decodes: sub when preferred and present, else main', () => {
    expect(detectStreamUrl(byId(config.cameras, 'dock-012'))).toBe(`rtsp://viewer:${env.CAM_DOCK_PASSWORD}@10.21.0.12:554/Streaming/Channels/102`);
    expect(detectStreamUrl(byId(config.cameras, 'dock-052'))).toBe(`rtsp://viewer:${env.CAM_DOCK_PASSWORD}@10.21.0.52:554/Streaming/Channels/101`);
    // chan-pilot has no sub-stream.
    const pilot = byId(config.cameras, 'chan-pilot');
    expect(detectStreamUrl({ ...pilot, detect: { ...pilot.detect, stream: 'sub' } })).toBe(pilot.streams.main);
  });

  it('counts zones and tripwires as designed (598 zones, 84 tripwires)', () => {
    // Zones: 86 quay cameras × 3 + 10 passenger quay × 2 + 84 yard × 2 + 12 inspection yard × 2
    // + 6 hazardous × 1 + 35 channel × 1 + 36 lane cameras × 2 + 11 passenger gate × 1 + 4 single cameras × 1.
    // Tripwires: 36 lane cameras × 2 + 11 turnstiles + 1 pit exit.
    expect(summarizeSiteConfig(config)).toEqual({ site: 'Port of Lanjiang — Haixi terminals', cameras: 284, berths: 20, zones: 598, tripwires: 84, feeds: 3, inspectors: 30 });
  });

  it('turns schedules, local times and relative paths into what the stages use', () => {
    const edge = byId(config.cameras, 'dock-001').zones[0]!;
    expect(edge.schedule).toEqual([{ days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], from: '19:00', to: '06:30' }]);
    // 07:00 in Shanghai (UTC+8, no daylight saving) is 23:00 UTC the day before.
    expect(config.berths.find((b) => b.id === 'B20')!.schedule[0]!.from).toEqual(new Date('2026-11-26T23:00:00Z'));
    expect(config.risk?.model).toBe(path.resolve('config/risk/port.yaml'));
    expect(config.inspectors[0]!.shifts[0]!.days).toEqual(['mon', 'tue', 'wed', 'thu', 'fri']);
    expect(config.store.retain_for).toEqual({ detections: '14 days', events: '5 years' });
  });

  it('names every missing variable when the environment is empty, and can downgrade them to warnings', () => {
    const result = checkSiteConfig(EXAMPLE, { env: {} });
    expect(result.config).toBeNull();
    expect(result.issues.every((i) => i.code === 'missing_env' && i.severity === 'error')).toBe(true);
    const named = new Set(result.issues.map((i) => /environment variable (\w+) is not set/.exec(i.message)?.[1]));
    expect([...named].sort()).toEqual(Object.keys(env).sort());

    const lenient = checkSiteConfig(EXAMPLE, { env: {}, allow_missing_env: true });
    expect(lenient.errors).toBe(0);
    expect(lenient.warnings).toBe(result.errors);
    expect(lenient.config?.cameras).toHaveLength(284);
  });
});

describe('the demo site', () => {
  it('loads without any environment: 3 loopback cameras, 2 berths, 1 feed', () => {
    const config = loadSiteConfig(DEMO, { env: {} });
    expect(config.cameras.map((c) => c.id)).toEqual(['dock-001', 'yard-001', 'gate-001']);
    expect(config.cameras.every((c) => c.streams.main.startsWith('rtsp://127.0.0.1:8554/'))).toBe(true);
    expect(config.berths.map((b) => b.id)).toEqual(['D1', 'D2']);
    expect(config.feeds).toEqual([{ id: 'ais-demo', name: 'AIS replay on loopback', protocol: 'tcp', host: '127.0.0.1', port: 10110, station_id: 'demo', reconnect_seconds: 1 }]);
  });
});

describe('bad site files', () => {
  const bad = readdirSync(FIXTURES).filter((f) => f.endsWith('.yaml'));

  it('has a fixture for each kind of mistake', () => {
    expect(bad.sort()).toEqual(['berth-reference.yaml', 'duplicate-ids.yaml', 'group-errors.yaml', 'missing-env.yaml', 'schema-errors.yaml', 'yaml-syntax.yaml', 'zone-polygon.yaml']);
  });

  // Each .expected file was written by reading the YAML: line, column of the offending value, path, reason.
  for (const name of bad) {
    it(`${name}: every issue at its exact position`, () => {
      const file = path.join(FIXTURES, name);
      const expected = readFileSync(file.replace(/\.yaml$/, '.expected'), 'utf8').trimEnd().split('\n');
      const result = checkSiteConfig(file, { env: { PW_A: 'pw-a-value' } });
      expect(result.issues.map((i) => formatIssue(i))).toEqual(expected.map((line) => `${file}:${line}`));
      expect(result.config).toBeNull();
    });
  }

  it('loadSiteConfig refuses an invalid file with a ConfigError carrying every issue', () => {
    const file = path.join(FIXTURES, 'duplicate-ids.yaml');
    let thrown: unknown;
    try {
      loadSiteConfig(file, { env: {} });
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    const err = thrown as ConfigError;
    expect(err.issues).toHaveLength(6);
    expect(err.message.split('\n')[0]).toBe(`${file}: 6 errors in the site config`);
    expect(err.message).toContain(`${file}:9:9 camera_groups.1.id: duplicate camera id "cam-3" (first used at line 5)`);
  });

  it('reports a missing file as FILE: reason', () => {
    const result = checkSiteConfig('test/fixtures/config/no-such-site.yaml');
    expect(result.issues.map(formatIssue)).toEqual(['test/fixtures/config/no-such-site.yaml: no such file']);
  });

  it('reports an empty file and a file that is not a mapping', () => {
    expect(checkSiteConfigText('', { file: 'x.yaml' }).issues.map(formatIssue)).toEqual([
      'x.yaml:1:1 (top level): the file is empty; it starts with site: (name, timezone), then cameras, berths, feeds…',
    ]);
    expect(checkSiteConfigText('\n- a\n- b\n', { file: 'x.yaml' }).issues.map(formatIssue)).toEqual([
      'x.yaml:2:1 (top level): a site file is a mapping of sections; it starts with site: (name, timezone), then cameras, berths, feeds…',
    ]);
  });

  it('with allow_missing_env only the missing variables become warnings', () => {
    const result = checkSiteConfig(path.join(FIXTURES, 'missing-env.yaml'), { env: { PW_A: 'x' }, allow_missing_env: true });
    const bySeverity = (s: string) => result.issues.filter((i) => i.severity === s).map((i) => `${i.line}:${i.column} ${i.path}`);
    expect(bySeverity('warning')).toEqual(['9:12 cameras.0.streams.sub', '18:13 cameras.2.streams.main', '20:37 feeds.0.host']);
    expect(bySeverity('error')).toEqual(['5:11 cameras.0.name', '13:13 cameras.1.streams.main']);
  });
});

const SITE_HEAD = `site: { name: T, timezone: Asia/Shanghai }
defaults: { detect: { model: centernet } }
`;

describe('credentials', () => {
  const SECRET = 'Xq9-very-secret-7Zp';

  it('never repeat a resolved secret in an issue or a ConfigError', () => {
    const text = `${SITE_HEAD}cameras:
  - id: cam-1
    kind: gate
    streams: { main: "ftp://viewer:\${CAM_PW}@10.0.0.1/x", sub: "rtsp://viewer:\${CAM_PW}@/x" }
alerts:
  routes:
    - { id: hook, kind: webhook, url: "mailto:\${CAM_PW}" }
`;
    const result = checkSiteConfigText(text, { file: 'secret.yaml', env: { CAM_PW: SECRET } });
    expect(result.errors).toBe(3);
    const printed = result.issues.map(formatIssue).join('\n');
    expect(printed).not.toContain(SECRET);
    expect(new ConfigError('secret.yaml', result.issues).message).not.toContain(SECRET);
  });

  it('must be percent-encoded where they would break the URL, and the error does not show them', () => {
    const text = `${SITE_HEAD}cameras:
  - id: cam-1
    kind: gate
    streams: { main: "rtsp://viewer:\${CAM_PW}@10.0.0.1/x", sub: "rtsp://10.0.0.1/y?auth=\${CAM_PW}" }
`;
    const bad = checkSiteConfigText(text, { file: 'u.yaml', env: { CAM_PW: 'p@ss/word' } });
    expect(bad.issues.map(formatIssue)).toEqual([
      "u.yaml:6:22 cameras.0.streams.main: the value of CAM_PW holds characters that break a URL's user:password part (@ / ? # % or spaces); store it percent-encoded, e.g. @ as %40",
    ]);
    const good = checkSiteConfigText(text, { file: 'u.yaml', env: { CAM_PW: 'p%40ss%2Fword' } });
    expect(good.issues).toEqual([]);
    expect(good.config!.cameras[0]!.streams.main).toBe('rtsp://viewer:p%40ss%2Fword@10.0.0.1/x');
  });

  it('are shown by reference in the redacted config, and literal passwords as ***', () => {
    const text = `${SITE_HEAD}cameras:
  - id: cam-1
    kind: gate
    streams: { main: "rtsp://viewer:\${CAM_PW}@10.0.0.1/x", sub: "rtsp://admin:hunter2@10.0.0.1/y?token=abc&channel=2" }
`;
    const result = checkSiteConfigText(text, { file: 's.yaml', env: { CAM_PW: SECRET } });
    expect(result.config!.cameras[0]!.streams.main).toBe(`rtsp://viewer:${SECRET}@10.0.0.1/x`);
    expect(result.issues.map(formatIssue)).toEqual([
      's.yaml:6:65 cameras.0.streams.sub: warning: a password is written into the file; use an environment reference such as ${CAM_PASSWORD}',
    ]);
    const shown = JSON.stringify(redactSiteConfig(result.config!, result.env_refs));
    expect(shown).not.toContain(SECRET);
    expect(shown).not.toContain('hunter2');
    expect(shown).toContain('"main":"rtsp://viewer:${CAM_PW}@10.0.0.1/x"');
    expect(shown).toContain('"sub":"rtsp://admin:***@10.0.0.1/y?token=***&channel=2"');
  });

  it('redactUrl hides passwords and secret query values and keeps the rest as written', () => {
    expect(redactUrl('rtsp://viewer:pa%40ss@10.20.0.7:554/Streaming/Channels/101')).toBe('rtsp://viewer:***@10.20.0.7:554/Streaming/Channels/101');
    expect(redactUrl('rtsp://10.20.0.7/live')).toBe('rtsp://10.20.0.7/live');
    expect(redactUrl('rtsp://viewer@10.20.0.7/live')).toBe('rtsp://viewer@10.20.0.7/live');
    expect(redactUrl('https://h/x?user=a&password=b&pwd=c&api_key=d&n=1#frag')).toBe('https://h/x?user=a&password=***&pwd=***&api_key=***&n=1#frag');
    expect(redactUrl('rtsp://viewer:${CAM_07_PASSWORD}@10.20.0.7/')).toBe('rtsp://viewer:${CAM_07_PASSWORD}@10.20.0.7/');
    expect(redactUrl('rtsp://u:p@ss@host/x')).toBe('rtsp://u:***@host/x');
    expect(redactUrl('not a url')).toBe('not a url');
  });

  it('resolveEnvReferences handles defaults, escapes, empty and malformed references', () => {
    expect(resolveEnvReferences('a${X}b${Y:-dflt}c$${Z}', { X: '1' })).toEqual({ value: 'a1bdfltc${Z}', names: ['X', 'Y'], missing: [] });
    expect(resolveEnvReferences('${X}', { X: '' })).toEqual({ value: '${X}', names: ['X'], missing: ['X'] });
    expect(resolveEnvReferences('p${A B}q', {}).malformed).toBe('${A B}');
    expect(resolveEnvReferences('p${OPEN', {}).malformed).toBe('${OPEN…');
  });
});

describe('camera groups', () => {
  const group = (extra: string) => `${SITE_HEAD}camera_groups:
  - id: "yard-{n:03}"
    name: "Yard {n} at {berth}"
    count: 5
    start: 8
    kind: yard
    berths: { "8-9": B1, "10": B2, "12": B1 }
    streams: { main: "rtsp://10.0.0.{n}/main" }
    detect: { fps: 1 }
${extra}berths:
  - { id: B1, name: One, polygon: [[24.1, 118.1], [24.1, 118.2], [24.2, 118.2]], quay_length_m: 300 }
  - { id: B2, name: Two, polygon: [[24.3, 118.1], [24.3, 118.2], [24.4, 118.2]], quay_length_m: 300 }
`;

  it('expand with numbers, padding and a per-number berth map; a number without a berth used by {berth} is an error', () => {
    const result = checkSiteConfigText(group(''), { file: 'g.yaml' });
    expect(result.issues.map(formatIssue)).toEqual(['g.yaml:4:5 camera_groups.0: the template uses {berth} but camera number 11 gets no berth']);
    const ok = checkSiteConfigText(group('').replace('"12": B1', '"11-12": B1'), { file: 'g.yaml' });
    expect(ok.issues).toEqual([]);
    const cameras = ok.config!.cameras;
    expect(cameras.map((c) => [c.id, c.name, c.berth, c.streams.main])).toEqual([
      ['yard-008', 'Yard 8 at B1', 'B1', 'rtsp://10.0.0.8/main'],
      ['yard-009', 'Yard 9 at B1', 'B1', 'rtsp://10.0.0.9/main'],
      ['yard-010', 'Yard 10 at B2', 'B2', 'rtsp://10.0.0.10/main'],
      ['yard-011', 'Yard 11 at B1', 'B1', 'rtsp://10.0.0.11/main'],
      ['yard-012', 'Yard 12 at B1', 'B1', 'rtsp://10.0.0.12/main'],
    ]);
    expect(cameras[0]!.detect).toEqual({ fps: 1, width: 640, height: 360, model: 'centernet', stream: 'sub' });
  });

  it('are overridden field by field; null removes a field; an error in an override points at the override', () => {
    const fixed = group('').replace('"12": B1', '"11-12": B1');
    const overrides = `cameras:
  - id: yard-010
    berth: null
    detect: { width: 1280, height: 720 }
  - id: yard-011
    detect: { fps: -1 }
`;
    const result = checkSiteConfigText(fixed.replace('berths:\n  - { id: B1', `${overrides}berths:\n  - { id: B1`), { file: 'g.yaml' });
    expect(result.issues.map(formatIssue)).toEqual(['g.yaml:17:20 cameras.1.detect.fps: fps must be above 0']);
    const lenient = checkSiteConfigText(fixed.replace('berths:\n  - { id: B1', `${overrides.replace('fps: -1', 'fps: 3')}berths:\n  - { id: B1`), { file: 'g.yaml' });
    const cams = lenient.config!.cameras;
    expect(cams).toHaveLength(5);
    expect(cams[2]).toMatchObject({ id: 'yard-010', name: 'Yard 10 at B2', detect: { fps: 1, width: 1280, height: 720, model: 'centernet' } });
    expect(cams[2]!.berth).toBeUndefined();
    expect(cams[3]!.detect.fps).toBe(3);
  });

  it('report an error in the template once, at the template', () => {
    const text = group('').replace('"12": B1', '"11-12": B1').replace('detect: { fps: 1 }', 'detect: { fps: 1 }\n    zones: [{ id: z, kind: cargo, polygon: [[0, 0], [2, 0], [1, 1]], classes: [truck] }]');
    const result = checkSiteConfigText(text, { file: 'g.yaml' });
    expect(result.issues.map(formatIssue)).toEqual(['g.yaml:12:54 camera_groups.0.zones.0.polygon.1.0: out of range: normalised image coordinates run from 0 to 1']);
  });
});

describe('feeds and paths', () => {
  it('resolve file feeds and the risk model against the site file, and warn about a feed file that is not there', () => {
    const text = `${SITE_HEAD}feeds:
  - { id: replay, protocol: file, path: ais/day1.nmea, replay: realtime }
  - { id: here, protocol: file, path: site.example.yaml }
risk: { model: risk/profile.yaml }
`;
    const result = checkSiteConfigText(text, { file: 'config/x.yaml', base_dir: path.resolve('config') });
    expect(result.issues.map(formatIssue)).toEqual(['config/x.yaml:4:41 feeds.0.path: warning: the file does not exist (yet); the feed will fail when it starts']);
    expect(result.config!.feeds[0]).toEqual({ id: 'replay', protocol: 'file', path: path.resolve('config/ais/day1.nmea'), replay: 'realtime', loop: false });
    expect(result.config!.feeds[1]).toMatchObject({ path: path.resolve('config/site.example.yaml') });
    expect(result.config!.risk).toEqual({ model: path.resolve('config/risk/profile.yaml') });
  });
});

describe('geometry and site time', () => {
  it('polygonProblem accepts simple polygons and names the defect of the others', () => {
    expect(polygonProblem([[0, 0], [1, 0], [1, 1], [0, 1]])).toBeNull();
    expect(polygonProblem([[0, 0], [0.5, 0.5], [1, 0], [1, 1], [0, 1]])).toBeNull(); // concave is fine
    expect(polygonProblem([[0, 0], [1, 1], [1, 0], [0, 1]])).toBe('the polygon crosses itself: edge 0→1 meets edge 2→3');
    expect(polygonProblem([[0, 0], [0.5, 0], [1, 0]])).toBe('the points lie on one line: the polygon has no area');
    expect(polygonProblem([[0, 0], [1, 0], [1, 0], [0, 1]])).toBe('points 1 and 2 are the same point');
    // A spike folding back along its own edge touches itself.
    expect(polygonProblem([[0, 0], [1, 0], [0.5, 0], [0.5, 1]])).toMatch(/crosses itself/);
  });

  it('parseSiteDateTime reads site-local and explicit-offset times, across daylight saving', () => {
    // Amsterdam: CET (UTC+1) in January, CEST (UTC+2) from 2026-03-29 01:00 UTC.
    expect(parseSiteDateTime('2026-01-10T12:00', 'Europe/Amsterdam')).toEqual(new Date('2026-01-10T11:00:00Z'));
    expect(parseSiteDateTime('2026-03-29T03:30', 'Europe/Amsterdam')).toEqual(new Date('2026-03-29T01:30:00Z'));
    expect(parseSiteDateTime('2026-07-01 08:15:30', 'Europe/Amsterdam')).toEqual(new Date('2026-07-01T06:15:30Z'));
    expect(parseSiteDateTime('2026-11-27T06:00+08:00', 'Europe/Amsterdam')).toEqual(new Date('2026-11-26T22:00:00Z'));
    expect(parseSiteDateTime('2026-11-27T06:00Z', 'Asia/Shanghai')).toEqual(new Date('2026-11-27T06:00:00Z'));
    expect(parseSiteDateTime('2026-02-30T10:00', 'UTC')).toBeNull();
    expect(parseSiteDateTime('27/11/2026 06:00', 'UTC')).toBeNull();
  });

  it('canonicalTimeZone accepts IANA names only', () => {
    expect(canonicalTimeZone('Asia/Shanghai')).toBe('Asia/Shanghai');
    expect(canonicalTimeZone('asia/shanghai')).toBe('Asia/Shanghai');
    expect(canonicalTimeZone('UTC')).toBe('UTC');
    expect(canonicalTimeZone('Europe/Rotterdam')).toBeNull();
    expect(canonicalTimeZone('+08:00')).toBeNull();
  });
});

describe('the ais section', () => {
  it('is optional, and the example and demo sites carry one with a port area and a speed-limited channel', () => {
    expect(checkSiteConfigText(SITE_HEAD, { file: 'x.yaml', base_dir: '/tmp' }).config!.ais).toBeUndefined();
    const example = loadSiteConfig(EXAMPLE, { env: exampleEnv() }).ais!;
    expect(example.anomalies!.port_area).toHaveLength(4);
    expect(example.anomalies!.channels!.map((c) => [c.id, c.speed_limit_kn])).toEqual([
      ['main-channel', 10],
      ['inner-basin', 6],
    ]);
    expect(example.occupancy).toEqual({ moored_speed_kn: 0.5, arrival_minutes: 10, departure_fixes: 2 });
    const demo = loadSiteConfig(DEMO, { env: {} });
    expect(demo.ais!.anomalies!.channels![0]).toEqual({ id: 'main-channel', speed_limit_kn: 8, polygon: [[24.42, 118.0], [24.449, 118.0], [24.449, 118.06], [24.42, 118.06]] });
    // The scenario's schedule: ais_unassigned_berth needs one to compare with.
    expect(demo.berths.map((b) => b.schedule.map((a) => a.mmsi))).toEqual([[413000001], [413000004]]);
  });

  it('reports a bad channel polygon, bad thresholds and unknown fields at their exact positions', () => {
    // Columns counted by hand in the text below (1-based, at the offending value or key).
    const text = `${SITE_HEAD}ais:
  anomalies:
    dark_after_seconds: 600
    channels:
      - id: main
        speed_limit_kn: 8
        polygon: [[24.42, 118.0], [24.45, 118.06], [24.45, 118.0], [24.42, 118.06]]
      - id: inner
        speed_limit_kn: 0
        polygon: [[24.44, 118.0], [94.0, 118.0], [24.44, 118.1]]
      - { id: main, speed_limit_kn: 5, polygon: [[24.40, 118.0], [24.41, 118.0], [24.41, 118.1]] }
  occupancy: { departure_fixes: 1.5, arival_minutes: 3 }
`;
    const result = checkSiteConfigText(text, { file: 'ais.yaml', base_dir: '/tmp' });
    expect(result.config).toBeNull();
    expect(result.issues.map(formatIssue)).toEqual([
      'ais.yaml:9:18 ais.anomalies.channels.0.polygon: the polygon crosses itself: edge 0→1 meets edge 2→3',
      'ais.yaml:11:25 ais.anomalies.channels.1.speed_limit_kn: speed_limit_kn must be above 0',
      'ais.yaml:12:36 ais.anomalies.channels.1.polygon.1.0: latitude runs from -90 to 90 (points are [lat, lon])',
      'ais.yaml:13:15 ais.anomalies.channels.2.id: duplicate channel id "main" (first used by channel 0)',
      'ais.yaml:14:33 ais.occupancy.departure_fixes: departure_fixes is a whole number',
      'ais.yaml:14:38 ais.occupancy.arival_minutes: unknown field (see docs/config.md for the fields of this section)',
    ]);
  });
});
