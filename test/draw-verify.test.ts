import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash, createHmac } from 'node:crypto';
import {
  candidatesSha256,
  drawValue,
  runInspectorDraw,
  runTargetDraw,
  selectInspector,
  selectTargets,
  seedSha256,
  verifyDraw,
  type TargetCandidate,
} from '../pipeline/dispatch/draw.js';
import { runCli } from './helpers/cli.js';

/** Deterministic seeds: the statistics below are the same on every run. */
const seedN = (n: number) => createHash('sha256').update(`seed ${n}`).digest('hex');
const PROFILES = ['HRS', 'SRS', 'LRS'] as const;
const RATES = { HRS: 1, SRS: 0.3, LRS: 0.05 };
const candidates = (n: number): TargetCandidate[] => Array.from({ length: n }, (_, i) => ({ id: `IMO${1_000_000 + i}`, profile: PROFILES[i % 3]!, berth: `B${i % 7}` }));

// Upper 0.1 % points of the chi-square distribution.
const CHI2_999 = { 1: 10.83, 2: 13.82, 9: 27.88 } as const;

describe('the draw as a pure function', () => {
  it('hashes the candidate list canonically: order and key order do not matter, content does', () => {
    const a = [{ id: 'b', profile: 'SRS', x: 1 }, { id: 'a', profile: 'HRS' }];
    const b = [{ profile: 'HRS', id: 'a' }, { x: 1, profile: 'SRS', id: 'b' }];
    expect(candidatesSha256(a)).toBe(candidatesSha256(b));
    expect(candidatesSha256(a)).toBe(createHash('sha256').update('{"id":"a","profile":"HRS"}\n{"id":"b","profile":"SRS","x":1}\n').digest('hex'));
    expect(candidatesSha256([{ ...a[0]!, x: 2 }, a[1]!])).not.toBe(candidatesSha256(a));
    expect(() => candidatesSha256([...a, { id: 'a', profile: 'LRS' }])).toThrow(/"a" appears twice/);
  });

  it('the draw value is the documented HMAC: first 48 bits of HMAC-SHA-256(seed bytes, id) / 2^48', () => {
    const seed = seedN(1);
    const mac = (id: string) => Number.parseInt(createHmac('sha256', Buffer.from(seed, 'hex')).update(id).digest('hex').slice(0, 12), 16) / 2 ** 48;
    for (const id of ['IMO9074729', 'ü-ß', 'x']) expect(drawValue(seed, id)).toBe(mac(id));
    expect(seedSha256(seed)).toBe(createHash('sha256').update(Buffer.from(seed, 'hex')).digest('hex'));
    // The selection uses the pads-hashed-once HMAC: it must select exactly by the documented value.
    const list = candidates(300);
    expect(selectTargets(seed, list, RATES)).toEqual(list.filter((c) => mac(c.id) < RATES[c.profile as 'HRS']).map((c) => c.id).sort());
  });

  it('selection rates match the configured rates (chi-square over 200 seeds × 1500 candidates)', () => {
    const list = candidates(1500);
    const perProfile = 500;
    const picked: Record<string, number> = { HRS: 0, SRS: 0, LRS: 0 };
    const bins = new Array(10).fill(0);
    const seeds = 200;
    for (let s = 0; s < seeds; s++) {
      const seed = seedN(s);
      const chosen = new Set(selectTargets(seed, list, RATES));
      for (const c of list) if (chosen.has(c.id)) picked[c.profile]!++;
      for (const c of list.slice(0, 300)) bins[Math.floor(drawValue(seed, c.id) * 10)]++;
    }
    // HRS at 100 %: every one, every time.
    expect(picked.HRS).toBe(seeds * perProfile);
    for (const p of ['SRS', 'LRS'] as const) {
      const n = seeds * perProfile;
      const expected = n * RATES[p];
      const chi2 = (picked[p]! - expected) ** 2 / expected + (n - picked[p]! - (n - expected)) ** 2 / (n - expected);
      expect(chi2, `${p}: ${picked[p]} selected of ${n}, expected ${expected}`).toBeLessThan(CHI2_999[1]);
    }
    // The draw values themselves are uniform on [0, 1).
    const total = bins.reduce((a, b) => a + b, 0);
    const chi2u = bins.reduce((acc, o) => acc + (o - total / 10) ** 2 / (total / 10), 0);
    expect(chi2u).toBeLessThan(CHI2_999[9]);
  });

  it('an inspector is drawn with chance proportional to 1 / (1 + workload) (chi-square over 6000 seeds)', () => {
    const pool = [
      { id: 'insp-a', workload: 0 },
      { id: 'insp-b', workload: 1 },
      { id: 'insp-c', workload: 3 },
    ];
    const weights = pool.map((p) => 1 / (1 + p.workload));
    const sum = weights.reduce((a, b) => a + b, 0);
    const counts = new Map(pool.map((p) => [p.id, 0]));
    const n = 6000;
    for (let s = 0; s < n; s++) {
      const id = selectInspector(seedN(10_000 + s), pool)!;
      counts.set(id, counts.get(id)! + 1);
    }
    const chi2 = pool.reduce((acc, p, i) => acc + (counts.get(p.id)! - (n * weights[i]!) / sum) ** 2 / ((n * weights[i]!) / sum), 0);
    expect(chi2, JSON.stringify([...counts])).toBeLessThan(CHI2_999[2]);
    expect(selectInspector(seedN(1), [])).toBeNull();
  });

  it('verifyDraw names a selected id the seed does not select, a missing one, a changed list and a broken commitment', () => {
    const list = candidates(60);
    const record = runTargetDraw({ seed: seedN(7), candidates: list, rates: RATES });
    expect(verifyDraw(record, list)).toEqual({ ok: true, problems: [] });
    const notSelected = list.find((c) => !record.selected.includes(c.id))!;
    const selectedSrs = record.selected.find((id) => list.find((c) => c.id === id)!.profile === 'SRS')!;
    const forged = { ...record, selected: [...record.selected.filter((id) => id !== selectedSrs), notSelected.id] };
    const v = verifyDraw(forged, list);
    expect(v.ok).toBe(false);
    expect(v.problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(new RegExp(`^${notSelected.id} is in selected but the seed does not select it \\(draw value 0\\.\\d+ ≥ rate`)),
        expect.stringMatching(new RegExp(`^${selectedSrs} is selected by the seed \\(draw value 0\\.\\d+ < rate 0.3 for SRS\\) but missing from selected`)),
      ]),
    );
    expect(verifyDraw(record, [...list, { id: 'late', profile: 'LRS' }]).problems[0]).toMatch(/^the candidate list changed/);
    expect(verifyDraw({ ...record, seed: seedN(8) }, list).problems[0]).toMatch(/^the seed does not match its commitment/);
  });

  it('an inspector draw carries its candidates and verifies from the record alone', () => {
    const rec = runInspectorDraw({ seed: seedN(3), subject: 'insp-1', candidates: [{ id: 'a', workload: 2 }, { id: 'b', workload: 0 }], excluded: [{ id: 'c', reason: 'off duty' }] });
    expect(verifyDraw(rec)).toEqual({ ok: true, problems: [] });
    const other = rec.selected[0] === 'a' ? 'b' : 'a';
    expect(verifyDraw({ ...rec, selected: [other] }).problems[0]).toBe(`the seed draws inspector ${rec.selected[0]}, the record names ${other}`);
    expect(verifyDraw({ ...rec, candidates: [{ id: 'a', workload: 9 }, { id: 'b', workload: 0 }] }).problems[0]).toMatch(/candidate list changed/);
  });
});

describe('portwatch draw run / verify', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pw-draw-'));
  const env = { PATH: process.env.PATH };
  const seed = seedN(42);
  const list = join(dir, 'candidates.jsonl');
  writeFileSync(list, candidates(40).map((c) => JSON.stringify(c)).join('\n') + '\n');

  it('run prints the record; verify says genuine (exit 0), then names each tampering (exit 1)', async () => {
    const run = await runCli(['draw', 'run', '--candidates', list, '--seed', seed, '--rates', 'HRS=1,SRS=0.3,LRS=0.05'], env);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const record = JSON.parse(run.stdout);
    expect(record).toMatchObject({ kind: 'target', seed, seed_sha256: seedSha256(seed), candidates: 40, rates: RATES });
    expect(record.selected).toEqual(selectTargets(seed, candidates(40), RATES));
    const recordFile = join(dir, 'record.json');
    writeFileSync(recordFile, run.stdout);
    const ok = await runCli(['draw', 'verify', recordFile, '--candidates', list], env);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^genuine: target draw over 40 candidates, \d+ selected/);

    // A changed list: one profile lowered after the draw.
    const changed = join(dir, 'changed.jsonl');
    writeFileSync(changed, readFileSync(list, 'utf8').replace('"id":"IMO1000000","profile":"HRS"', '"id":"IMO1000000","profile":"LRS"'));
    const c = await runCli(['draw', 'verify', recordFile, '--candidates', changed], env);
    expect(c.code).toBe(1);
    expect(c.stdout).toMatch(/does not match: the candidate list changed: its SHA-256 is [0-9a-f]{64}, the record has /);
    expect(c.stdout).toMatch(/does not match: IMO1000000 is in selected but the seed does not select it/);

    // Another seed put in the record: it does not match the commitment.
    const swapped = join(dir, 'swapped.json');
    writeFileSync(swapped, JSON.stringify({ ...record, seed: seedN(43) }));
    const s = await runCli(['draw', 'verify', swapped, '--candidates', list], env);
    expect(s.code).toBe(1);
    expect(s.stdout).toMatch(/does not match: the seed does not match its commitment/);

    // A selected id dropped from the record.
    const dropped = join(dir, 'dropped.json');
    writeFileSync(dropped, JSON.stringify({ ...record, selected: record.selected.slice(1) }));
    const d = await runCli(['draw', 'verify', dropped, '--candidates', list], env);
    expect(d.code).toBe(1);
    expect(d.stdout).toContain(`does not match: ${record.selected[0]} is selected by the seed`);
  });

  it('refuses a bad candidate list whole (duplicate id, unknown profile, bad JSON) and a bad seed, exit 2', async () => {
    const bad = join(dir, 'bad.jsonl');
    writeFileSync(bad, ['{"id":"a","profile":"HRS"}', '{"id":"a","profile":"SRS"}', '{"id":"b","profile":"XRS"}', '{"id":"c"', '{"profile":"HRS"}'].join('\n') + '\n');
    const r = await runCli(['draw', 'run', '--candidates', bad, '--seed', seed], env);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/bad\.jsonl:2 id: "a" is already a candidate at line 1/);
    expect(r.stderr).toMatch(/bad\.jsonl:3 profile: "XRS" has no rate \(rates: HRS, SRS, LRS\)/);
    expect(r.stderr).toMatch(/bad\.jsonl:4 \(line\): not JSON/);
    expect(r.stderr).toMatch(/bad\.jsonl:5 id: required/);
    expect(r.stderr).toMatch(/no draw was made/);
    const s = await runCli(['draw', 'run', '--candidates', list, '--seed', 'xyz'], env);
    expect(s.code).toBe(2);
    expect(s.stderr).toMatch(/--seed: a seed is 16 to 64 bytes/);
    const rates = await runCli(['draw', 'run', '--candidates', list, '--seed', seed, '--rates', 'HRS=2'], env);
    expect(rates.code).toBe(2);
    expect(rates.stderr).toMatch(/"HRS=2" is not PROFILE=RATE with a rate from 0 to 1/);
  });
});
