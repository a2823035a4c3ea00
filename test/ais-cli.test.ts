import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { aisJsonLine, decodeAisLines, type AisRecord } from '../pipeline/ais/index.js';
import { fixture, readLines } from './fixtures/ais/compare.js';
// @ts-expect-error plain JavaScript build script without type declarations
import { bundleFor, fastCommandsBundle } from '../scripts/build-cli.mjs';
import { parseAisDecodeArgs } from '../cli/commands/ais-decode.js';

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

describe('bin/portwatch.js: ais decode starts without commander', () => {
  it('parses only plain runs; anything else is left to commander', () => {
    expect(parseAisDecodeArgs([])).toEqual({ file: '-', flags: {} });
    expect(parseAisDecodeArgs(['-q', 'feed.nmea', '--unscaled'])).toEqual({ file: 'feed.nmea', flags: { quiet: true, unscaled: true } });
    expect(parseAisDecodeArgs(['--nmea', '--type24-parts', '-u', '--quiet', '-'])).toEqual({ file: '-', flags: { nmea: true, type24Parts: true, unscaled: true, quiet: true } });
    for (const args of [['--help'], ['-h'], ['-uq', 'f'], ['--bogus', 'f'], ['a', 'b'], ['--', '-f'], ['--quiet=1']]) expect(parseAisDecodeArgs(args), args.join(' ')).toBeNull();
  });

  it('answers as the commander path does: output, reject summary with FILE:LINE, exit codes; help and bad options through commander', () => {
    const build = spawnSync(process.execPath, ['scripts/build-cli.mjs'], { cwd: ROOT, encoding: 'utf8' });
    expect(build.status, build.stderr).toBe(0);
    expect(fastCommandsBundle()).not.toBeNull();
    const dir = mkdtempSync(join(tmpdir(), 'portwatch-ais-fast-'));
    try {
      // Real traffic with a damaged line, a binary line and a cut line: rejects are reported with FILE:LINE.
      const file = join(dir, 'feed.nmea');
      const clean = readFileSync(fixture('pyais', 'nmea_data_sample.txt'), 'latin1').split('\n').slice(0, 200);
      clean.splice(20, 0, '!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*4B', '\u0000\u00ff\u0010junk', '!AIVDM,1,1,,B,177KQJ5000G?tO`K>RA1wUbN0TKH,0');
      writeFileSync(file, clean.join('\n'), 'latin1');
      const run = (args: string[], env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } => {
        const r = spawnSync(process.execPath, ['bin/portwatch.js', ...args], { cwd: ROOT, encoding: 'latin1', env: { ...process.env, NODE_DEBUG: 'module', ...env } });
        return { status: r.status, stdout: r.stdout, stderr: r.stderr };
      };
      /** The command's own stderr, without NODE_DEBUG's lines; and whether commander was loaded. */
      const own = (stderr: string): { text: string; commander: boolean } => ({
        text: stderr
          .split('\n')
          .filter((l) => !l.startsWith('MODULE '))
          .join('\n'),
        commander: /node_modules\/commander\//.test(stderr),
      });
      for (const args of [['ais', 'decode', file], ['ais', 'decode', '-u', '--nmea', file], ['ais', 'decode', '/nonexistent/feed.nmea']]) {
        const fast = run(args);
        const viaCommander = run(args, { PORTWATCH_NO_BUNDLE: '1' });
        expect(own(fast.stderr).commander, args.join(' ')).toBe(false);
        expect(own(viaCommander.stderr).commander).toBe(true);
        expect(fast.status, args.join(' ')).toBe(viaCommander.status);
        expect(fast.stdout).toBe(viaCommander.stdout);
        expect(own(fast.stderr).text).toBe(own(viaCommander.stderr).text);
      }
      const summary = own(run(['ais', 'decode', file]).stderr).text;
      expect(summary).toContain(`  checksum: 1\n    ${file}:21: !AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*4B\n`);
      expect(summary).toContain(`  not_nmea: 1\n    ${file}:22: `);
      expect(summary).toContain('decoded with a cut or damaged checksum field (payload complete): 1');
      expect(run(['ais', 'decode', '/nonexistent/feed.nmea']).status).toBe(2);
      const help = run(['ais', 'decode', '--help']);
      expect(help.status).toBe(0);
      expect(help.stdout).toContain('Usage: portwatch ais decode [options] [file]');
      expect(own(help.stderr).commander).toBe(true);
      const bad = run(['ais', 'decode', '--bogus', file]);
      expect(bad.status).toBe(1);
      expect(own(bad.stderr).text).toContain("error: unknown option '--bogus'");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('portwatch ais decode | head', () => {
  it('ends quietly with exit code 0 when the reader closes the pipe, from the bundle and through commander', async () => {
    const build = spawnSync(process.execPath, ['scripts/build-cli.mjs'], { cwd: ROOT, encoding: 'utf8' });
    expect(build.status, build.stderr).toBe(0);
    const dir = mkdtempSync(join(tmpdir(), 'portwatch-ais-epipe-'));
    try {
      // 100,000 lines of real traffic: about 25 MB of JSON, far more than a pipe holds.
      const base = readFileSync(fixture('pyais', 'nmea_data_sample.txt'), 'latin1').replace(/\n?$/, '\n');
      const file = join(dir, 'long.nmea');
      writeFileSync(file, base.repeat(Math.ceil(100000 / base.split('\n').length)), 'latin1');
      for (const env of [{}, { PORTWATCH_NO_BUNDLE: '1' }]) {
        const child = spawn(process.execPath, ['bin/portwatch.js', 'ais', 'decode', file], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
        let stderr = '';
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        const first = await new Promise<string>((resolve) => child.stdout.once('data', (d: Buffer) => resolve(d.toString())));
        child.stdout.destroy();
        const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
        expect(first.startsWith('{"class":"AIS"')).toBe(true);
        expect(stderr, JSON.stringify(env)).toBe('');
        expect(code, JSON.stringify(env)).toBe(0);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60000);
});
