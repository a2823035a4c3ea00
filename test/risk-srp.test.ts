import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadRiskModel, RiskModelError, scoreVessel, vesselLineSchema, type VesselFacts } from '../pipeline/risk/index.js';
import { runCli } from './helpers/cli.js';

const srp = loadRiskModel('config/risk/paris-mou-srp.yaml');
const port = loadRiskModel('config/risk/port.yaml');
const AS_OF = new Date('2026-12-06T00:00:00Z');

/** A ship with no SRP points that meets every LRS criterion; each test breaks one thing. */
const lrs = (): VesselFacts => ({
  imo: 9074729,
  name: 'BASELINE',
  type: 'container_ship',
  built: 2016,
  flag_list: 'white',
  flag_imo_audit: true,
  ro_performance: 'high',
  ro_eu_recognised: true,
  company_performance: 'high',
  inspections_36m: [{ date: '2025-06-01', deficiencies: 2, detained: false }],
});
const score = (f: Partial<VesselFacts>, model = srp, asOf = AS_OF) => scoreVessel(model, { ...lrs(), ...f }, asOf);

describe('Paris MoU SRP: points', () => {
  it('the baseline is a low-risk ship with no points', () => {
    const s = score({});
    expect(s).toMatchObject({ profile: 'LRS', points: 0, breakdown: {} });
  });

  it.each(['chemical_tanker', 'gas_carrier', 'oil_tanker', 'bulk_carrier', 'passenger_ship'])('2 points for a %s', (type) => {
    expect(score({ type }).breakdown.ship_type).toMatchObject({ points: 2, evidence: [`type="${type}"`] });
  });
  it.each(['container_ship', 'general_cargo', 'ro_ro'])('no type points for a %s', (type) => {
    expect(score({ type }).breakdown.ship_type).toBeUndefined();
  });

  it('age: 12 years is not over 12 (0), 13 is (1), counted from --as-of', () => {
    expect(score({ built: 2014 }).breakdown.age_over_12).toBeUndefined();
    expect(score({ built: 2013 }).breakdown.age_over_12).toMatchObject({ points: 1, why: 'age_years = 13' });
    expect(score({ built: 2014 }, srp, new Date('2027-01-01T00:00:00Z')).breakdown.age_over_12?.points).toBe(1);
  });

  it.each([
    ['very_high', 2],
    ['high', 2],
    ['medium_to_high', 2],
    ['medium', 1],
  ] as const)('black-list flag at %s risk: %i points', (flag_risk, points) => {
    expect(score({ flag_list: 'black', flag_risk }).breakdown.flag_black_list?.points).toBe(points);
  });
  it('grey and white flags get no flag points, whatever flag_risk says', () => {
    expect(score({ flag_list: 'grey', flag_risk: 'very_high' }).breakdown.flag_black_list).toBeUndefined();
    expect(score({ flag_list: 'white', flag_risk: 'very_high' }).breakdown.flag_black_list).toBeUndefined();
  });

  it.each([
    ['low', 1, 2],
    ['very_low', 1, 2],
    ['medium', 0, 0],
    ['high', 0, 0],
  ] as const)('%s performance: RO %i point(s), company %i', (perf, ro, company) => {
    expect(score({ ro_performance: perf }).breakdown.ro_low_performance?.points ?? 0).toBe(ro);
    expect(score({ company_performance: perf }).breakdown.company_low_performance?.points ?? 0).toBe(company);
  });

  it('detentions: 1 in 36 months is no point, 2 is one; one just outside the window does not count', () => {
    const det = (date: string) => ({ date, deficiencies: 8, detained: true });
    expect(score({ inspections_36m: [det('2025-01-10')] }).breakdown.detentions_36m).toBeUndefined();
    expect(score({ inspections_36m: [det('2025-01-10'), det('2023-12-06')] }).breakdown.detentions_36m).toMatchObject({
      points: 1,
      evidence: ['inspection 2025-01-10', 'inspection 2023-12-06'],
    });
    // 2023-12-05 is 36 months and a day before 2026-12-06.
    expect(score({ inspections_36m: [det('2025-01-10'), det('2023-12-05')] }).breakdown.detentions_36m).toBeUndefined();
    // An inspection after the as-of date is not history yet.
    expect(score({ inspections_36m: [det('2025-01-10'), det('2026-12-07')] }).breakdown.detentions_36m).toBeUndefined();
  });
});

describe('Paris MoU SRP: levels', () => {
  it('4 points is standard risk, 5 is high risk', () => {
    // tanker 2 + age 1 + RO 1 = 4; + medium-risk black flag 1 = 5
    const four = score({ type: 'oil_tanker', built: 2000, ro_performance: 'low' });
    expect(four).toMatchObject({ points: 4, profile: 'SRS' });
    expect(four.profile_reason).toMatch(/not HRS: 4 points < 5/);
    const five = score({ type: 'oil_tanker', built: 2000, ro_performance: 'low', flag_list: 'black', flag_risk: 'medium' });
    expect(five).toMatchObject({ points: 5, profile: 'HRS', profile_reason: 'HRS: 5 points ≥ 5' });
  });

  it('the highest possible score (9) is high risk and every point is traced', () => {
    const s = score({
      type: 'passenger_ship',
      built: 1990,
      flag_list: 'black',
      flag_risk: 'very_high',
      ro_performance: 'very_low',
      company_performance: 'very_low',
      inspections_36m: [
        { date: '2026-01-01', deficiencies: 1, detained: true },
        { date: '2025-01-01', deficiencies: 1, detained: true },
      ],
    });
    expect(s.points).toBe(9);
    expect(Object.values(s.breakdown).reduce((a, b) => a + b.points, 0)).toBe(9);
    expect(Object.keys(s.breakdown).sort()).toEqual(['age_over_12', 'company_low_performance', 'detentions_36m', 'flag_black_list', 'ro_low_performance', 'ship_type']);
  });

  it('5 deficiencies in an inspection still allows LRS, 6 does not', () => {
    expect(score({ inspections_36m: [{ date: '2025-06-01', deficiencies: 5, detained: false }] }).profile).toBe('LRS');
    const six = score({ inspections_36m: [{ date: '2025-06-01', deficiencies: 6, detained: false }, { date: '2024-06-01', deficiencies: 0, detained: false }] });
    expect(six.profile).toBe('SRS');
    expect(six.profile_reason).toMatch(/no more than 5 deficiencies/);
    // Six deficiencies 36 months and a day ago are outside the window.
    expect(score({ inspections_36m: [{ date: '2025-06-01', deficiencies: 0, detained: false }, { date: '2023-12-05', deficiencies: 6, detained: false }] }).profile).toBe('LRS');
  });

  it('LRS needs at least one inspection in 36 months: exactly 36 months ago counts, a day more does not', () => {
    expect(score({ inspections_36m: [] }).profile).toBe('SRS');
    expect(score({ inspections_36m: [{ date: '2023-12-06', deficiencies: 0, detained: false }] }).profile).toBe('LRS');
    expect(score({ inspections_36m: [{ date: '2023-12-05', deficiencies: 0, detained: false }] }).profile).toBe('SRS');
  });

  it('one detention in 36 months (no point) still rules out LRS', () => {
    const s = score({ inspections_36m: [{ date: '2025-06-01', deficiencies: 0, detained: true }] });
    expect(s).toMatchObject({ points: 0, profile: 'SRS' });
    expect(s.profile_reason).toMatch(/no detention/);
  });

  it.each([
    ['grey flag', { flag_list: 'grey' }],
    ['flag without the IMO audit', { flag_imo_audit: false }],
    ['RO of medium performance', { ro_performance: 'medium' }],
    ['RO not EU-recognised', { ro_eu_recognised: false }],
    ['company of medium performance', { company_performance: 'medium' }],
  ] as Array<[string, Partial<VesselFacts>]>)('each LRS criterion alone: %s makes it SRS', (_, change) => {
    expect(score(change).profile).toBe('SRS');
  });
});

describe('port model: SRP plus live signals', () => {
  const since = new Date('2026-12-05T10:00:00Z');
  const alongside = { berth: 'B1', since };
  it('scores the SRP part the same as the SRP model', () => {
    const f = { type: 'bulk_carrier', built: 2001, flag_list: 'black', flag_risk: 'high' } as const;
    expect(score(f, port).points).toBe(score(f, srp).points);
  });

  it('an unauthorised access at its berth while alongside lifts a standard ship to high risk; the event id is the evidence', () => {
    const base = { type: 'bulk_carrier', built: 2001, mmsi: 412345678, alongside, inspections_36m: [] } as Partial<VesselFacts>;
    expect(score(base, port).profile).toBe('SRS');
    const events = [{ id: 'ev-1', kind: 'unauthorized_access', time: new Date('2026-12-05T20:00:00Z'), berth: 'B1' }];
    const lifted = score({ ...base, events }, port);
    expect(lifted).toMatchObject({ profile: 'HRS', points: 6 });
    expect(lifted.breakdown.berth_unauthorized_access).toMatchObject({ points: 3, evidence: ['event ev-1'] });
    // The same alert at another berth, or before the vessel arrived, does not count.
    expect(score({ ...base, events: [{ ...events[0]!, berth: 'B2' }] }, port).profile).toBe('SRS');
    expect(score({ ...base, events: [{ ...events[0]!, time: new Date('2026-12-05T09:00:00Z') }] }, port).profile).toBe('SRS');
  });

  it('AIS anomalies count by the vessel MMSI; declared health data by field', () => {
    const s = score(
      {
        mmsi: 412345678,
        events: [
          { id: 'd1', kind: 'ais_dark', time: new Date('2026-12-04T00:00:00Z'), mmsi: 412345678 },
          { id: 'd2', kind: 'ais_dark', time: new Date('2026-12-04T00:00:00Z'), mmsi: 412345999 },
        ],
        declaration: { cargo_classes: ['3', '6.2'], health: { ill_crew: 2, deaths: 0, ports_last_30_days: ['SGSIN', 'GNCKY'] } },
      },
      port,
    );
    expect(s.breakdown.ais_dark).toMatchObject({ points: 1, evidence: ['event d1'] });
    expect(s.breakdown.ill_crew).toMatchObject({ points: 3, evidence: ['declaration.health.ill_crew=2'] });
    expect(s.breakdown.dangerous_cargo).toMatchObject({ points: 2, evidence: ['declaration.cargo_classes="6.2"'] });
    expect(s.breakdown.ports_of_concern).toMatchObject({ points: 2, evidence: ['declaration.health.ports_last_30_days="GNCKY"'] });
    expect(s.breakdown.deaths_on_board).toBeUndefined();
    expect(s.profile).toBe('HRS');
  });
});

describe('model files and vessel lines', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pw-risk-'));
  it('a bad model names FILE:LINE:COLUMN and the field', () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, ['name: bad', 'groups:', '  - id: g', '    factors:', '      - id: f', '        indicators:', '          - id: x', '            weight: 1', '            rule: { kind: threshold, field: flagg_list, op: eq, value: black }', '          - id: x', '            weight: two', '            rule: { kind: threshold, field: type, op: eq, value: a }', 'levels:', '  - level: SRS', ''].join('\n'));
    let err: unknown;
    try {
      loadRiskModel(file);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RiskModelError);
    const msg = (err as Error).message;
    expect(msg).toMatch(/bad\.yaml:9:\d+ groups\.0\.factors\.0\.indicators\.0\.rule\.field: a field starts with one of/);
    expect(msg).toMatch(/bad\.yaml:11:\d+ groups\.0\.factors\.0\.indicators\.1\.weight: weight is a number of points/);
  });

  it('a duplicate indicator id is named with where it was first used', () => {
    const file = join(dir, 'dup.yaml');
    writeFileSync(file, ['name: dup', 'groups:', '  - id: g', '    factors:', '      - id: f', '        indicators:', '          - { id: x, weight: 1, rule: { kind: threshold, field: type, op: eq, value: a } }', '          - { id: x, weight: 1, rule: { kind: threshold, field: type, op: eq, value: b } }', 'levels: [{ level: SRS }]', ''].join('\n'));
    expect(() => loadRiskModel(file)).toThrow(/dup\.yaml:8:\d+ .*indicator id "x" is already used at .*dup\.yaml:7/);
  });

  it('vessel lines: a black flag without flag_risk and a bad IMO check digit are refused with the field', () => {
    const r = vesselLineSchema.safeParse({ imo: 9074728, name: 'X', type: 'oil_tanker', built: 2000, flag_list: 'black', ro_performance: 'high', company_performance: 'high' });
    expect(r.success).toBe(false);
    expect(r.error!.issues.map((i) => i.path.join('.'))).toContain('imo');
    const r2 = vesselLineSchema.safeParse({ imo: 9074729, name: 'X', type: 'oil_tanker', built: 2000, flag_list: 'black', ro_performance: 'high', company_performance: 'high' });
    expect(r2.error!.issues).toMatchObject([{ path: ['flag_risk'] }]);
  });

  it('portwatch risk score: one JSON line per good vessel, FILE:LINE field errors for bad ones, exit 2', async () => {
    const file = join(dir, 'vessels.jsonl');
    const good = { imo: 9074729, name: 'GOOD', type: 'gas_carrier', built: 2013, flag_list: 'white', flag_imo_audit: true, ro_performance: 'high', ro_eu_recognised: true, company_performance: 'high', inspections_36m: [{ date: '2024-02-01', deficiencies: 0, detained: false }] };
    writeFileSync(file, [JSON.stringify(good), JSON.stringify({ ...good, imo: 1234568, built: 'old' }), '', JSON.stringify({ ...good, name: 'SECOND', type: 'general_cargo' })].join('\n') + '\n');
    const r = await runCli(['risk', 'score', '--vessels', file, '--as-of', '2026-12-06'], { PATH: process.env.PATH });
    expect(r.code).toBe(2);
    const out = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(out).toHaveLength(2);
    expect(out[0]).toMatchObject({ imo: 9074729, profile: 'LRS', points: 3, breakdown: { ship_type: { points: 2 }, age_over_12: { points: 1 } } });
    expect(out[1]).toMatchObject({ profile: 'LRS', points: 1 });
    expect(r.stderr).toMatch(/vessels\.jsonl:2 imo: IMO 1234568 fails its check digit/);
    expect(r.stderr).toMatch(/vessels\.jsonl:2 built: built is a year/);
    expect(r.stderr).toMatch(/1 of 3 vessel lines rejected/);
    // --as-of moves the age: a year earlier the 2013 gas carrier was 12, not over 12.
    const earlier = await runCli(['risk', 'score', '--vessels', file, '--as-of', '2025-12-06'], { PATH: process.env.PATH });
    expect(JSON.parse(earlier.stdout.split('\n')[0]!)).toMatchObject({ points: 2 });
  });
});
