import { describe, expect, it } from 'vitest';
import { BerthOccupancy, distanceMetres, pointInPolygon, type BerthArea, type LatLon } from '../pipeline/berths/index.js';

// A berth about 300 m along a quay, as a lat/lon rectangle.
const B1: LatLon[] = [
  [24.4500, 118.0700],
  [24.4500, 118.0730],
  [24.4510, 118.0730],
  [24.4510, 118.0700],
];
const B2: LatLon[] = B1.map(([lat, lon]) => [lat, lon + 0.004] as LatLon);
const inB1: LatLon = [24.4505, 118.0715];
const inB2: LatLon = [24.4505, 118.0755];
const outside: LatLon = [24.4550, 118.0715];

const t0 = Date.parse('2026-11-27T02:00:00Z');
const at = (minutes: number) => new Date(t0 + minutes * 60_000);
const fix = (mmsi: number, minutes: number, p: LatLon, speed: number | null) => ({ mmsi, time: at(minutes), lat: p[0], lon: p[1], speed });

describe('geo', () => {
  it('measures one minute of latitude as one nautical mile', () => {
    expect(distanceMetres([24, 118], [24 + 1 / 60, 118])).toBeGreaterThan(1840);
    expect(distanceMetres([24, 118], [24 + 1 / 60, 118])).toBeLessThan(1860);
  });
  it('tells inside from outside a berth polygon', () => {
    expect(pointInPolygon(inB1, B1)).toBe(true);
    expect(pointInPolygon(outside, B1)).toBe(false);
    expect(pointInPolygon(inB2, B1)).toBe(false);
  });
});

describe('BerthOccupancy', () => {
  const berths: BerthArea[] = [
    { id: 'B1', polygon: B1 },
    { id: 'B2', polygon: B2 },
  ];

  it('raises an arrival after the vessel lies still long enough, dated when it first lay still', () => {
    const occ = new BerthOccupancy(berths, { arrival_minutes: 10 });
    expect(occ.update(fix(412000001, 0, outside, 6)).events).toHaveLength(0);
    expect(occ.update(fix(412000001, 3, inB1, 0.2)).events).toHaveLength(0);
    expect(occ.update(fix(412000001, 9, inB1, 0.1)).events).toHaveLength(0);
    const u = occ.update(fix(412000001, 13, inB1, 0.0));
    expect(u.events.map((e) => e.kind)).toEqual(['berth_arrival']);
    expect(u.events[0]!.berth).toBe('B1');
    expect(u.visits[0]!.arrived_at).toEqual(at(3));
    expect(occ.occupancy().get('B1')?.map((v) => v.mmsi)).toEqual([412000001]);
  });

  it('does not count a vessel passing slowly through, nor one moving inside the berth', () => {
    const occ = new BerthOccupancy(berths, { arrival_minutes: 10 });
    occ.update(fix(412000002, 0, inB1, 0.3));
    occ.update(fix(412000002, 5, inB1, 2.5)); // moving again resets the clock
    expect(occ.update(fix(412000002, 12, inB1, 0.3)).events).toHaveLength(0);
    expect(occ.update(fix(412000002, 21, inB1, 0.3)).events).toHaveLength(0);
    expect(occ.update(fix(412000002, 23, inB1, 0.3)).events.map((e) => e.kind)).toEqual(['berth_arrival']);
  });

  it('needs two fixes outside before a departure, and dates it at the first', () => {
    const occ = new BerthOccupancy(berths, { arrival_minutes: 5, departure_fixes: 2 });
    occ.update(fix(412000003, 0, inB1, 0));
    occ.update(fix(412000003, 6, inB1, 0));
    expect(occ.update(fix(412000003, 60, outside, 4)).events).toHaveLength(0);
    const u = occ.update(fix(412000003, 62, outside, 7));
    expect(u.events.map((e) => e.kind)).toEqual(['berth_departure']);
    expect(u.visits[0]!.departed_at).toEqual(at(60));
    expect(u.visits[0]!.arrived_at).toEqual(at(0));
    expect(occ.occupancy().size).toBe(0);
  });

  it('ignores one stray fix outside the berth', () => {
    const occ = new BerthOccupancy(berths, { arrival_minutes: 5 });
    occ.update(fix(412000004, 0, inB1, 0));
    occ.update(fix(412000004, 6, inB1, 0));
    occ.update(fix(412000004, 7, outside, 0));
    expect(occ.update(fix(412000004, 8, inB1, 0)).events).toHaveLength(0);
    expect(occ.update(fix(412000004, 9, outside, 0)).events).toHaveLength(0);
    expect(occ.occupancy().get('B1')).toHaveLength(1);
  });

  it('gives the same visit id on replay, and skips fixes older than the latest', () => {
    const run = () => {
      const occ = new BerthOccupancy(berths, { arrival_minutes: 5 });
      occ.update(fix(412000005, 0, inB1, 0));
      occ.update(fix(412000005, 2, outside, 0)); // older fixes below are dropped, not re-ordered
      occ.update(fix(412000005, 1, inB1, 0));
      return { occ, u: occ.update(fix(412000005, 8, inB1, 0)) };
    };
    const a = run();
    const b = run();
    expect(a.occ.outOfOrderFixes).toBe(1);
    expect(a.u.visits).toHaveLength(0); // left at minute 2, came back at 8: not yet 5 minutes still
    expect(run().occ.update(fix(412000005, 14, inB1, 0)).visits[0]!.id).toBe(b.occ.update(fix(412000005, 14, inB1, 0)).visits[0]!.id);
  });

  it('flags an arrival at a berth the schedule gives to another vessel', () => {
    const occ = new BerthOccupancy(
      [
        { id: 'B1', polygon: B1, schedule: [{ mmsi: 412000007, from: at(-60), to: at(600) }] },
        { id: 'B2', polygon: B2, schedule: [{ mmsi: 412000006, from: at(-60), to: at(600) }] },
      ],
      { arrival_minutes: 5 },
    );
    occ.update(fix(412000006, 0, inB1, 0));
    const u = occ.update(fix(412000006, 6, inB1, 0));
    expect(u.events.map((e) => e.kind)).toEqual(['berth_arrival', 'ais_unassigned_berth']);
    expect(u.events[1]!.details).toMatchObject({ assigned_berth: 'B2', berth_assigned_to: [412000007] });

    occ.update(fix(412000007, 0, inB1, 0));
    expect(occ.update(fix(412000007, 6, inB1, 0)).events.map((e) => e.kind)).toEqual(['berth_arrival']);
  });
  it('restore() re-seeds open visits: no second arrival, the departure closes the restored visit', () => {
    const first = new BerthOccupancy(berths, { arrival_minutes: 10 });
    first.update(fix(412000001, 0, inB1, 0.1));
    const arrival = first.update(fix(412000001, 12, inB1, 0.1)).visits[0]!;
    expect(arrival).toMatchObject({ berth: 'B1', arrived_at: at(0), departed_at: null });

    // A new process: the store hands back the open visit, an older one left open, a closed one, one at an unknown berth.
    const occ = new BerthOccupancy(berths, { arrival_minutes: 10, departure_fixes: 2 });
    const restored = occ.restore([
      { id: 'older', berth: 'B2', mmsi: 412000001, arrived_at: at(-600), departed_at: null },
      arrival,
      { id: 'closed', berth: 'B2', mmsi: 412000002, arrived_at: at(-30), departed_at: at(-5) },
      { id: 'elsewhere', berth: 'X9', mmsi: 412000003, arrived_at: at(-30), departed_at: null },
    ]);
    expect(restored).toBe(1);
    expect(occ.occupancy().get('B1')).toEqual([arrival]);
    expect(occ.occupancy().has('B2')).toBe(false);

    // Still at the berth for a long time: no new arrival.
    for (const m of [20, 40, 60]) expect(occ.update(fix(412000001, m, inB1, 0)).events).toHaveLength(0);
    // A fix older than the arrival is history, not a movement.
    expect(occ.update(fix(412000001, -5, outside, 5)).events).toHaveLength(0);
    occ.update(fix(412000001, 70, outside, 4));
    const dep = occ.update(fix(412000001, 71, outside, 6));
    expect(dep.visits).toEqual([{ ...arrival, departed_at: at(70) }]);
    expect(dep.events.map((e) => e.kind)).toEqual(['berth_departure']);
    expect(dep.events[0]!.details).toMatchObject({ visit: arrival.id, arrived_at: at(0).toISOString(), departed_at: at(70).toISOString() });
    // A vessel the instance already tracks is not overwritten.
    expect(occ.restore([{ id: 'again', berth: 'B2', mmsi: 412000001, arrived_at: at(80), departed_at: null }])).toBe(0);
  });
});
