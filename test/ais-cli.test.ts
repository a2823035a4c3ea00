import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { aisJsonLine, decodeAisLines, type AisRecord } from '../pipeline/ais/index.js';
import { fixture, readLines } from './fixtures/ais/compare.js';

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
