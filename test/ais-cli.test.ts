import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { aisJsonLine, decodeAisLines, type AisRecord } from '../pipeline/ais/index.js';
import { fixture, readLines } from './fixtures/ais/compare.js';
// @ts-expect-error plain JavaScript build script without type declarations
import { bundleFor } from '../scripts/build-cli.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * Runs the `ais` command group the way cli/main.ts mounts it (commander,
 * CliError → one line on stderr and its exit code), without loading the
 * other command groups.
 */
const HARNESS = `
import { Command } from 'commander';
import { registerAisCommands } from './cli/commands/ais.ts';
import { CliError } from './cli/cli-error.ts';
const program = new Command('portwatch').exitOverride();
registerAisCommands(program);
try {
  await program.parseAsync(process.argv.slice(1), { from: 'user' });
} catch (err) {
  if (err instanceof CliError) { process.stderr.write('portwatch: ' + err.message + '\\n'); process.exitCode = err.exitCode; }
  else if (err && typeof err === 'object' && 'exitCode' in err) process.exitCode = err.exitCode;
  else throw err;
}
`;

function portwatch(args: string[], input?: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', HARNESS, ...args], {
    cwd: ROOT,
    input,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('portwatch ais decode', () => {
  it('prints one gpsd-style JSON line per message and a reject summary on stderr', () => {
    const file = fixture('gpsd', 'sample.aivdm');
    const r = portwatch(['ais', 'decode', file]);
    expect(r.status).toBe(0);
    const out = r.stdout.trim().split('\n');
    const expected = decodeAisLines(readLines(file), { device: 'stdin' })
      .records.filter((x): x is AisRecord => x.kind === 'ais')
      .map(aisJsonLine);
    expect(out).toEqual(expected);
    expect(out).toHaveLength(97);
    expect(JSON.parse(out[0]!)).toMatchObject({ class: 'AIS', device: 'stdin', type: 1, mmsi: 371798000, scaled: true, speed: 12.3 });
    expect(r.stderr).toContain('97 AIS messages');
    expect(r.stderr).toContain('not_nmea: 1');
    expect(r.stderr).toContain(`${file}:`);
  });

  it('reads stdin with -, adds tagblock_* fields, and gives raw values with -u', () => {
    const input = readFileSync(fixture('libais', 'tagblock.nmea'), 'latin1');
    const scaled = portwatch(['ais', 'decode', '-'], input);
    expect(scaled.status).toBe(0);
    const first = JSON.parse(scaled.stdout.split('\n')[0]!) as Record<string, unknown>;
    expect(first).toMatchObject({ type: 1, mmsi: 224651000, tagblock_station: 'rORBCOMM104', tagblock_timestamp: '2014-12-10T00:41:53.000000Z', tagblock_q: 'u' });
    const raw = portwatch(['ais', 'decode', '-u', '-'], input);
    expect(JSON.parse(raw.stdout.split('\n')[0]!)).toMatchObject({ scaled: false, lon: Math.round(-161.88265 * 600000) });
  });

  it('also prints the other NMEA sentences with --nmea', () => {
    const input = '$GPVTG,,T,,M,0.020,N,0.038,K,A*2A\n!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*4A\n';
    const r = portwatch(['ais', 'decode', '--nmea', '-'], input);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => l.class)).toEqual(['NMEA', 'AIS']);
    expect(lines[0]).toMatchObject({ sentenceId: 'VTG', line: 1 });
  });

  it('fails with one line and exit code 2 for a missing file', () => {
    const r = portwatch(['ais', 'decode', '/nonexistent/feed.nmea']);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual(['portwatch: ais decode: no such file: /nonexistent/feed.nmea (give a path, or - for stdin)']);
    expect(r.stdout).toBe('');
  });
});

describe('bin/portwatch.js: the start-up bundle', () => {
  it('runs ais decode from the bundle with the same bytes as through tsx, on every corpus concatenated', () => {
    const build = spawnSync(process.execPath, ['scripts/build-cli.mjs'], { cwd: ROOT, encoding: 'utf8' });
    expect(build.status, build.stderr).toBe(0);
    // The bundle can still go stale between the build and the run (the tree is edited while tests
    // run); then this compares tsx with tsx, which the next assertion would reveal.
    expect(bundleFor('ais')).not.toBeNull();
    const dir = mkdtempSync(join(tmpdir(), 'portwatch-ais-bundle-'));
    try {
      const file = join(dir, 'all.nmea');
      const corpora = [
        ['gpsd', 'sample.aivdm'],
        ['gpsd', 'ais-nmea.log'],
        ['gpsd', 'ais-nmea-type6-fid55.log'],
        ['libais', 'test.aivdm'],
        ['libais', 'tagblock.nmea'],
        ['pyais', 'nmea_data_sample.txt'],
        ['pyais', 'gatehouse.nmea'],
      ] as const;
      writeFileSync(file, corpora.map((c) => readFileSync(fixture(...c), 'latin1').replace(/\n?$/, '\n')).join(''), 'latin1');
      const run = (env: Record<string, string>): string => {
        const r = spawnSync(process.execPath, ['bin/portwatch.js', 'ais', 'decode', '-q', '--nmea', file], { cwd: ROOT, encoding: 'latin1', env: { ...process.env, ...env }, maxBuffer: 256 << 20 });
        expect(r.status, r.stderr).toBe(0);
        return r.stdout;
      };
      const bundled = run({});
      const viaTsx = run({ PORTWATCH_NO_BUNDLE: '1' });
      expect(bundled).toBe(viaTsx);
      const expected = decodeAisLines(readLines(file), { device: 'stdin' })
        .records.filter((x): x is AisRecord => x.kind === 'ais')
        .map(aisJsonLine);
      const ais = bundled.split('\n').filter((l) => l.startsWith('{"class":"AIS"'));
      expect(ais).toEqual(expected);
      expect(ais.length).toBeGreaterThan(2000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is used only while every source of the command group is unchanged', () => {
    const dir = mkdtempSync(join(tmpdir(), 'portwatch-bundle-fresh-'));
    try {
      mkdirSync(join(dir, '.cache', 'cli'), { recursive: true });
      mkdirSync(join(dir, 'cli'));
      writeFileSync(join(dir, 'cli', 'main.ts'), 'main');
      writeFileSync(join(dir, 'cli', 'ais.ts'), 'ais');
      writeFileSync(join(dir, 'cli', 'db.ts'), 'db');
      const stamp = (f: string): [number, number] => {
        const st = statSync(join(dir, f));
        return [st.size, st.mtimeMs];
      };
      const manifest = {
        entry: 'main.js',
        common: ['cli/main.ts'],
        groups: { ais: ['cli/ais.ts'], db: ['cli/db.ts'] },
        stamps: { 'cli/main.ts': stamp('cli/main.ts'), 'cli/ais.ts': stamp('cli/ais.ts'), 'cli/db.ts': stamp('cli/db.ts') },
      };
      writeFileSync(join(dir, '.cache', 'cli', 'manifest.json'), JSON.stringify(manifest));
      expect(bundleFor('ais', dir)).toBe(join(dir, '.cache', 'cli', 'main.js'));
      expect(bundleFor('detect', dir)).toBeNull(); // not bundled
      writeFileSync(join(dir, 'cli', 'db.ts'), 'db changed');
      expect(bundleFor('db', dir)).toBeNull();
      expect(bundleFor('ais', dir)).not.toBeNull(); // another group's change leaves ais bundled
      utimesSync(join(dir, 'cli', 'main.ts'), new Date(), new Date(Date.now() + 5000)); // same size, new mtime
      expect(bundleFor('ais', dir)).toBeNull();
      rmSync(join(dir, 'cli', 'main.ts'));
      expect(bundleFor('ais', dir)).toBeNull();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
