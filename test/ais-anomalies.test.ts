import { describe, expect, it } from 'vitest';
import { AisAnomalyDetector, checkMmsi, isValidImo } from '../pipeline/anomalies/index.js';
import type { LatLon } from '../pipeline/berths/index.js';

const t0 = Date.parse('2026-11-27T02:00:00Z');
const at = (seconds: number) => new Date(t0 + seconds * 1000);
const fix = (mmsi: number, seconds: number, p: LatLon, speed: number | null = 5) => ({ mmsi, time: at(seconds), lat: p[0], lon: p[1], speed });

const port: LatLon[] = [
  [24.40, 118.00],
  [24.40, 118.15],
  [24.50, 118.15],
  [24.50, 118.00],
];
const channel = { id: 'main-channel', speed_limit_kn: 8, polygon: [[24.42, 118.02], [24.42, 118.06], [24.44, 118.06], [24.44, 118.02]] as LatLon[] };

describe('identity checks', () => {
  it('validates IMO check digits', () => {
    expect(isValidImo(9074729)).toBe(true); // IMO's own worked example
    expect(isValidImo(9074728)).toBe(false);
    expect(isValidImo(123)).toBe(false);
  });
  it('classifies MMSIs by their leading digits', () => {
    expect(checkMmsi(413000001).kind).toBe('ship'); // China, MID 413
    expect(checkMmsi(2573000).kind).toBe('coast_station'); // 002573000, Norway
    expect(checkMmsi(992351234).kind).toBe('aid_to_navigation');
    expect(checkMmsi(970012345).kind).toBe('sart');
    expect(checkMmsi(123456789)).toMatchObject({ kind: 'invalid' });
    expect(checkMmsi(123456789).reason).toMatch(/MID 123/);
    expect(checkMmsi(1_000_000_000).kind).toBe('invalid');
  });
});

describe('AisAnomalyDetector', () => {
  it('raises going dark once, and ends it when the vessel is heard again', () => {
    const d = new AisAnomalyDetector({ port_area: port, dark_after_seconds: 600 });
    d.observePosition(fix(413000001, 0, [24.45, 118.07]));
    expect(d.sweep(at(599))).toHaveLength(0);
    const start = d.sweep(at(700));
    expect(start.map((e) => [e.kind, e.phase])).toEqual([['ais_dark', 'start']]);
    expect(start[0]!.time).toEqual(at(600));
    expect(d.sweep(at(800))).toHaveLength(0);
    const end = d.observePosition(fix(413000001, 900, [24.45, 118.07]));
    expect(end.map((e) => [e.kind, e.phase, e.id])).toEqual([['ais_dark', 'end', start[0]!.id]]);
    expect(end[0]!.details?.silent_seconds).toBe(900);
  });

  it('does not call a vessel outside the port dark', () => {
    const d = new AisAnomalyDetector({ port_area: port, dark_after_seconds: 600 });
    d.observePosition(fix(413000002, 0, [25.0, 119.0]));
    expect(d.sweep(at(5000))).toHaveLength(0);
  });

  it('flags a position jump with an impossible implied speed, but not GPS jitter', () => {
    const d = new AisAnomalyDetector({ jump_knots: 50 });
    d.observePosition(fix(413000003, 0, [24.45, 118.07]));
    expect(d.observePosition(fix(413000003, 1, [24.45001, 118.07]))).toHaveLength(0); // 1 m in 1 s
    const jump = d.observePosition(fix(413000003, 60, [24.50, 118.07])); // 5.5 km in a minute
    expect(jump.map((e) => e.kind)).toEqual(['ais_position_jump']);
    expect(jump[0]!.details?.implied_knots).toBeGreaterThan(170);
    expect(d.observePosition(fix(413000003, 120, [24.5005, 118.07]))).toHaveLength(0);
  });

  it('raises speeding in a channel after two fast fixes, once, and ends it', () => {
    const d = new AisAnomalyDetector({ channels: [channel] });
    const inChannel: LatLon = [24.43, 118.04];
    expect(d.observePosition(fix(413000004, 0, inChannel, 12))).toHaveLength(0);
    const start = d.observePosition(fix(413000004, 10, inChannel, 13));
    expect(start.map((e) => [e.kind, e.phase])).toEqual([['ais_speeding', 'start']]);
    expect(d.observePosition(fix(413000004, 20, inChannel, 14))).toHaveLength(0);
    const end = d.observePosition(fix(413000004, 30, inChannel, 6));
    expect(end.map((e) => [e.kind, e.phase, e.id])).toEqual([['ais_speeding', 'end', start[0]!.id]]);
    expect(end[0]!.details?.max_speed_kn).toBe(14);
  });

  it('flags an invalid MMSI once and an invalid IMO', () => {
    const d = new AisAnomalyDetector();
    expect(d.observePosition(fix(123456789, 0, [24.45, 118.07])).map((e) => e.kind)).toEqual(['ais_invalid_identity']);
    expect(d.observePosition(fix(123456789, 10, [24.45, 118.07]))).toHaveLength(0);
    const bad = d.observeIdentity({ mmsi: 413000005, time: at(0), imo: 9074728, shipname: 'EVER GIVEN' });
    expect(bad.map((e) => e.details?.field)).toEqual(['imo']);
  });

  it('flags an identity change for the same MMSI, ignoring AIS padding', () => {
    const d = new AisAnomalyDetector();
    expect(d.observeIdentity({ mmsi: 413000006, time: at(0), imo: 9074729, shipname: 'HAI FENG 7@@@@' })).toHaveLength(0);
    expect(d.observeIdentity({ mmsi: 413000006, time: at(60), imo: 9074729, shipname: 'HAI  FENG 7' })).toHaveLength(0);
    const change = d.observeIdentity({ mmsi: 413000006, time: at(120), imo: 9074729, shipname: 'OCEAN STAR' });
    expect(change.map((e) => [e.kind, e.details?.field, e.details?.from, e.details?.to])).toEqual([
      ['ais_identity_change', 'shipname', 'HAI FENG 7', 'OCEAN STAR'],
    ]);
  });
});
