import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aisJsonLine, decodeAisLines, type AisRecord } from '../pipeline/ais/index.js';
import { fixture } from './fixtures/ais/compare.js';
import { damageCapture } from './fixtures/ais/damage.js';

/**
 * Damaged input never produces a wrong message. Every real capture in
 * test/fixtures/ais is damaged by the seeded generator (2 % of lines: a
 * character changed, the line cut short, or 40 bytes of binary junk in
 * front) and decoded. A message is wrong when it is in no clean decode of the
 * same capture; there must be none, and at least as many correct messages as
 * a live `gpsdecode -j` recovers from the same damaged file (judged against
 * its own clean decode).
 *
 * Compared as printed, except for two kinds of receive metadata: USCG trailer
 * fields (`uscg_*`) follow the checksum and are protected by nothing, so
 * they are left out of the comparison (docs/ais.md); and a message printed
 * without any tag-block or Gatehouse fields counts as correct when it equals a
 * clean message stripped of them (the damaged metadata was dropped and
 * counted, nothing false was printed).
 */

const CORPORA = [
  ['gpsd', 'sample.aivdm'],
  ['gpsd', 'ais-nmea-type6-fid55.log'],
  ['gpsd', 'ais-nmea.log'],
  ['gpsd', 'ais-18-27.log'],
  ['gpsd', 'ais-raw-messages.log'],
  ['gpsd', 'ais_unpack_sixbit.log'],
  ['libais', 'test.aivdm'],
  ['libais', 'typeexamples.nmea'],
  ['libais', 'tagblock.nmea'],
  ['pyais', 'nmea_data_sample.txt'],
  ['pyais', 'gatehouse.nmea'],
  ['pyais', 'timestamped.ais'],
  ['pyais', 'sample.ais'],
  ['pyais', 'mixed.txt'],
  ['extracted', 'pyais-readme-tagblocks.nmea'],
  ['extracted', 'pyais-test-tagblocks-c.nmea'],
] as const;
const SEEDS = [1, 2, 3, 4, 5, 6, 7, 8];

let dir = '';

beforeAll(() => {
  if (spawnSync('sh', ['-c', 'command -v gpsdecode']).status !== 0) {
    throw new Error('gpsdecode is not installed: run `npm run bootstrap` (it installs the Debian package gpsd-clients), then run the tests again');
  }
  dir = mkdtempSync(join(tmpdir(), 'portwatch-ais-damage-'));
});

afterAll(() => {
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

const METADATA = /^(uscg|tagblock|gatehouse)_/;

/** The printed JSON line without uscg_* fields, and (stripped) without any receive metadata. */
function comparable(line: string): { full: string; stripped: string; hasMeta: boolean } {
  const o = JSON.parse(line) as Record<string, unknown>;
  const full: Record<string, unknown> = {};
  const stripped: Record<string, unknown> = {};
  let hasMeta = false;
  for (const [k, v] of Object.entries(o)) {
    if (k.startsWith('uscg_')) continue;
    full[k] = v;
    if (METADATA.test(k)) hasMeta = true;
    else stripped[k] = v;
  }
  return { full: JSON.stringify(full), stripped: JSON.stringify(stripped), hasMeta };
}

function ours(text: string): string[] {
  const { records } = decodeAisLines(text.split('\n'), { device: 'stdin', file: 'damaged' });
  return records.filter((r): r is AisRecord => r.kind === 'ais').map(aisJsonLine);
}

function gpsdecode(text: string, name: string): string[] {
  const path = join(dir, name);
  writeFileSync(path, text.endsWith('\n') ? text : `${text}\n`, 'latin1');
  const out = execFileSync('sh', ['-c', `gpsdecode -j < '${path}' 2>/dev/null`], { encoding: 'latin1', maxBuffer: 64 << 20 });
  return out.split('\n').filter((l) => l.startsWith('{"class":"AIS"'));
}

/** Messages of `damaged` that are in `clean`, and those that are not. */
function judge(clean: string[], damaged: string[], parse: (l: string) => ReturnType<typeof comparable>): { correct: number; wrong: string[] } {
  const full = new Set<string>();
  const stripped = new Set<string>();
  for (const l of clean) {
    const c = parse(l);
    full.add(c.full);
    stripped.add(c.stripped);
  }
  let correct = 0;
  const wrong: string[] = [];
  for (const l of damaged) {
    const c = parse(l);
    if (full.has(c.full) || (!c.hasMeta && stripped.has(c.stripped))) correct++;
    else wrong.push(l);
  }
  return { correct, wrong };
}

/** gpsdecode's lines compared as text (it prints no receive metadata). */
const asText = (l: string): ReturnType<typeof comparable> => ({ full: l, stripped: l, hasMeta: true });

describe('damaged captures: no wrong message, at least what gpsdecode -j recovers', () => {
  for (const parts of CORPORA) {
    it(`${parts.join('/')}, seeds ${SEEDS[0]}-${SEEDS.at(-1)}`, () => {
      const text = readFileSync(fixture(...parts), 'latin1');
      const cleanOurs = ours(text);
      const cleanGpsd = gpsdecode(text, `${parts[1]}.clean`);
      expect(cleanOurs.length).toBeGreaterThan(0);
      const wrong: string[] = [];
      const behind: string[] = [];
      let damagedLines = 0;
      for (const seed of SEEDS) {
        const d = damageCapture(text, seed);
        damagedLines += d.damaged.length;
        const o = judge(cleanOurs, ours(d.text), comparable);
        const g = judge(cleanGpsd, gpsdecode(d.text, `${parts[1]}.${seed}`), asText);
        wrong.push(...o.wrong.map((l) => `seed ${seed}: ${l}`));
        if (o.correct < g.correct) behind.push(`seed ${seed}: ${o.correct} correct, gpsdecode ${g.correct}`);
      }
      expect(wrong).toEqual([]);
      expect(behind).toEqual([]);
      // The generator did damage this capture (small ones may escape a seed or two).
      expect(damagedLines).toBeGreaterThan(0);
    });
  }
});

describe('the damage generator', () => {
  it('damages about 2 % of lines in three ways, the same way for the same seed', () => {
    const text = readFileSync(fixture('gpsd', 'ais-nmea.log'), 'latin1');
    const a = damageCapture(text, 42);
    expect(damageCapture(text, 42)).toEqual(a);
    expect(damageCapture(text, 43).text).not.toBe(a.text);
    const n = text.split('\n').filter((l) => l.length > 0).length;
    const all = SEEDS.flatMap((seed) => damageCapture(text, seed).damaged);
    expect(all.length / (n * SEEDS.length)).toBeGreaterThan(0.015);
    expect(all.length / (n * SEEDS.length)).toBeLessThan(0.025);
    expect(new Set(all.map((x) => x.kind))).toEqual(new Set(['char', 'cut', 'junk']));
    const lines = a.text.split('\n');
    const junk = a.damaged.find((x) => x.kind === 'junk')!;
    expect(lines[junk.line - 1]!.length).toBe(text.split('\n')[junk.line - 1]!.length + 40);
  });
});
