import { describe, expect, it } from 'vitest';
import { eventId, type PortEvent } from '../pipeline/events/index.js';
import { Tracker } from '../pipeline/track/index.js';
import { ZoneEngine, segmentsIntersect, sideOf, type TripwireSpec } from '../pipeline/zones/index.js';

import { FRAME, at, boxAt, track } from './helpers/zone-tracks.js';

// A horizontal gate line across the middle third of the picture, drawn from left (a) to right (b).
// Looking from a to b means looking right across the screen; with y pointing down the
// left-hand side is the upper half. So a truck driving down the picture goes left → right.
const gate: TripwireSpec = { id: 'gate-in', line: [[0.2, 0.5], [0.8, 0.5]], direction: 'both', classes: ['truck', 'car'] };

function engine(tripwires: TripwireSpec[], extra: Partial<ConstructorParameters<typeof ZoneEngine>[0]> = {}) {
  return new ZoneEngine({ camera: 'gate-cam', zones: [], tripwires, timeZone: 'UTC', ...extra });
}

/** A track driving from y0 to y1 at x in `n` observations, one per second from `start`. */
function drive(e: ZoneEngine, id: number, cls: string, x: number, y0: number, y1: number, start = 0, n = 10): PortEvent[] {
  const out: PortEvent[] = [];
  for (let i = 0; i < n; i++) {
    const y = y0 + ((y1 - y0) * i) / (n - 1);
    const s = start + i;
    out.push(...e.update([track(id, cls, boxAt(x, y, 120, 80), at(s))], FRAME, at(s)));
  }
  return out;
}

describe('line geometry', () => {
  it('side of a line in image coordinates: upper half is left of a left-to-right line', () => {
    expect(sideOf([0, 0.5], [1, 0.5], [0.5, 0.2])).toBe(-1);
    expect(sideOf([0, 0.5], [1, 0.5], [0.5, 0.8])).toBe(1);
    expect(sideOf([0, 0.5], [1, 0.5], [0.5, 0.5])).toBe(0);
    // A vertical line drawn top to bottom: looking down the screen, left is the right-hand half.
    expect(sideOf([0.5, 0], [0.5, 1], [0.8, 0.5])).toBe(-1);
  });

  it('segment intersection, including touching and parallel cases', () => {
    expect(segmentsIntersect([0, 0], [1, 1], [0, 1], [1, 0])).toBe(true);
    expect(segmentsIntersect([0, 0], [1, 0], [0, 1], [1, 1])).toBe(false);
    expect(segmentsIntersect([0, 0], [0.4, 0.4], [0, 1], [1, 0])).toBe(false);
    expect(segmentsIntersect([0, 0], [0.5, 0.5], [0, 1], [1, 0])).toBe(true); // touches
    expect(segmentsIntersect([0, 0], [2, 0], [1, 0], [3, 0])).toBe(true); // collinear overlap
  });
});

describe('tripwire crossings → cargo_movement crossed', () => {
  it('counts both directions with the right direction label and a running count', () => {
    const e = engine([gate]);
    const down = drive(e, 1, 'truck', 0.5, 0.2, 0.8);
    expect(down).toHaveLength(1);
    expect(down[0]).toMatchObject({ kind: 'cargo_movement', phase: 'instant', zone: 'gate-in', track: 1, class: 'truck' });
    expect(down[0]!.details).toMatchObject({ action: 'crossed', direction: 'left_to_right', count: 1 });
    // Ten steps from 0.2 to 0.8: y > 0.5 first at step 5 (0.5333), which is when it is seen across.
    expect(down[0]!.time.getTime()).toBe(at(5));

    const up = drive(e, 2, 'car', 0.4, 0.9, 0.1, 20);
    expect(up).toHaveLength(1);
    expect(up[0]!.details).toMatchObject({ direction: 'right_to_left', count: 2, counts: { left_to_right: 1, right_to_left: 1 } });
    expect(e.counts()).toEqual([{ tripwire: 'gate-in', count: 2, left_to_right: 1, right_to_left: 1 }]);
  });

  it('the direction filter drops the other way and does not count it', () => {
    const e = engine([{ ...gate, direction: 'left_to_right' }]);
    expect(drive(e, 1, 'truck', 0.5, 0.8, 0.2)).toHaveLength(0);
    expect(drive(e, 2, 'truck', 0.5, 0.2, 0.8, 20)).toHaveLength(1);
    expect(e.counts()[0]).toMatchObject({ count: 1, left_to_right: 1, right_to_left: 0 });
    const r = engine([{ ...gate, direction: 'right_to_left' }]);
    expect(drive(r, 1, 'truck', 0.5, 0.2, 0.8)).toHaveLength(0);
    expect(drive(r, 2, 'truck', 0.5, 0.8, 0.2, 20)[0]!.details!.direction).toBe('right_to_left');
  });

  it('passing beside the line (beyond its end points) is not a crossing', () => {
    const e = engine([gate]);
    expect(drive(e, 1, 'truck', 0.9, 0.2, 0.8)).toHaveLength(0);
    expect(drive(e, 2, 'truck', 0.1, 0.8, 0.2, 20)).toHaveLength(0);
  });

  it('a person crossing a people line is a line_crossing, not cargo movement; a truck on the same line stays cargo', () => {
    const e = engine([{ ...gate, id: 'quay-edge', classes: ['person', 'truck'] }]);
    const walk = drive(e, 1, 'person', 0.5, 0.2, 0.8);
    expect(walk).toHaveLength(1);
    expect(walk[0]).toMatchObject({ kind: 'line_crossing', phase: 'instant', zone: 'quay-edge', class: 'person' });
    expect(walk[0]!.details).toMatchObject({ action: 'crossed', direction: 'left_to_right', count: 1 });
    expect(walk[0]!.id).toBe(eventId('gate-cam', 'line_crossing:quay-edge', 1, walk[0]!.time.getTime()));
    const drive2 = drive(e, 2, 'truck', 0.5, 0.2, 0.8, 20);
    expect(drive2[0]).toMatchObject({ kind: 'cargo_movement', class: 'truck' });
    expect(e.counts()[0]).toMatchObject({ count: 2 });
  });

  it('other classes do not cross', () => {
    const e = engine([gate]);
    expect(drive(e, 1, 'person', 0.5, 0.2, 0.8)).toHaveLength(0);
    expect(e.counts()[0]!.count).toBe(0);
  });

  it('a box jittering on the line does not count crossings', () => {
    const e = engine([gate]);
    const evs: PortEvent[] = [];
    for (let s = 0; s < 20; s++) {
      const y = 0.5 + (s % 2 ? 0.01 : -0.01);
      evs.push(...e.update([track(1, 'truck', boxAt(0.5, y, 120, 80), at(s))], FRAME, at(s)));
    }
    expect(evs).toHaveLength(0);
  });

  it('back and forth: each settled crossing counts once', () => {
    const e = engine([gate]);
    const evs = [...drive(e, 1, 'truck', 0.5, 0.3, 0.7, 0, 6), ...drive(e, 1, 'truck', 0.5, 0.7, 0.3, 6, 6), ...drive(e, 1, 'truck', 0.5, 0.3, 0.7, 12, 6)];
    expect(evs.map((x) => x.details!.direction)).toEqual(['left_to_right', 'right_to_left', 'left_to_right']);
    expect(new Set(evs.map((x) => x.id)).size).toBe(3);
  });

  it('a crossing between sparse observations counts when the step passes between the end points', () => {
    // Two observations only, far apart in time (motion-gated detection), with inertia 1.
    const e = engine([gate], { tripwireInertia: 1 });
    const evs = [
      ...e.update([track(1, 'truck', boxAt(0.3, 0.2, 120, 80), at(0))], FRAME, at(0)),
      ...e.update([track(1, 'truck', boxAt(0.6, 0.9, 120, 80), at(8))], FRAME, at(8)),
    ];
    expect(evs).toHaveLength(1);
    // The same jump diagonally past the end of the line is not a crossing.
    const f = engine([gate], { tripwireInertia: 1 });
    const miss = [
      ...f.update([track(1, 'truck', boxAt(0.7, 0.2, 120, 80), at(0))], FRAME, at(0)),
      ...f.update([track(1, 'truck', boxAt(0.98, 0.6, 120, 80), at(8))], FRAME, at(8)),
    ];
    expect(miss).toHaveLength(0);
  });

  it('respects the tripwire schedule', () => {
    // at(0) is Monday 02:00 UTC.
    const e = engine([{ ...gate, schedule: [{ days: ['mon'], from: '08:00', to: '18:00' }] }]);
    expect(drive(e, 1, 'truck', 0.5, 0.2, 0.8)).toHaveLength(0);
  });

  it('rejects a tripwire whose two points coincide, and duplicate ids', () => {
    expect(() => engine([{ ...gate, line: [[0.3, 0.3], [0.3, 0.3]] }])).toThrow(/tripwires\[0\] \(gate-in\)\.line/);
    expect(() => engine([gate, gate])).toThrow(/used twice/);
  });
});

describe('tripwire crossings by tracks that are still tentative', () => {
  /** Feeds a hand-made track sequence: [seconds, y, state] per observation, at x = 0.5. */
  function feed(e: ZoneEngine, id: number, cls: string, steps: Array<[number, number, 'tentative' | 'confirmed']>): PortEvent[][] {
    return steps.map(([s, y, state]) => e.update([track(id, cls, boxAt(0.5, y, 120, 80), at(s), { state })], FRAME, at(s)));
  }

  it('a crossing on the 2nd observation counts once the track is confirmed on the 3rd, with the flip time', () => {
    const e = engine([gate]);
    const [first, second, third, ...rest] = feed(e, 7, 'truck', [
      [0, 0.3, 'tentative'],
      [1, 0.6, 'tentative'], // across the line here
      [2, 0.7, 'confirmed'],
      [3, 0.8, 'confirmed'],
      [4, 0.9, 'confirmed'],
    ]);
    expect(first).toEqual([]);
    expect(second).toEqual([]); // nothing while tentative: it may still be a false detection
    expect(third).toHaveLength(1);
    const ev = third![0]!;
    expect(ev).toMatchObject({ kind: 'cargo_movement', phase: 'instant', zone: 'gate-in', track: 7, class: 'truck' });
    expect(ev.details).toMatchObject({ action: 'crossed', direction: 'left_to_right', count: 1, counts: { left_to_right: 1, right_to_left: 0 } });
    expect(ev.time.getTime()).toBe(at(1));
    // The id is the one the same crossing by a confirmed track gets: camera, rule, track and crossing time.
    expect(ev.id).toBe(eventId('gate-cam', 'cargo_movement:gate-in', 7, at(1)));
    // The box is the one of the frame being processed (a snapshot of this frame draws it).
    expect(ev.bbox).toEqual(boxAt(0.5, 0.7, 120, 80));
    expect(rest.flat()).toEqual([]);
    expect(e.counts()[0]).toMatchObject({ count: 1, left_to_right: 1 });
  });

  it('the same crossing gives the same event id in a second engine (deterministic)', () => {
    const steps: Array<[number, number, 'tentative' | 'confirmed']> = [
      [0, 0.8, 'tentative'],
      [1, 0.4, 'tentative'],
      [2, 0.3, 'confirmed'],
    ];
    const a = feed(engine([gate]), 3, 'car', steps).flat();
    const b = feed(engine([gate]), 3, 'car', steps).flat();
    expect(a).toHaveLength(1);
    expect(a[0]!.details!.direction).toBe('right_to_left');
    expect(b.map((x) => x.id)).toEqual(a.map((x) => x.id));
  });

  it('a tentative track that crosses and then disappears (a false detection) raises nothing', () => {
    const e = engine([gate]);
    const evs = feed(e, 1, 'truck', [
      [0, 0.3, 'tentative'],
      [1, 0.6, 'tentative'],
      [2, 0.7, 'tentative'],
    ]).flat();
    for (let s = 3; s < 30; s++) evs.push(...e.update([], FRAME, at(s)));
    expect(evs).toEqual([]);
    expect(e.counts()[0]).toMatchObject({ count: 0 });
    // A later, unrelated confirmed track standing on the far side does not inherit the crossing.
    evs.push(...feed(e, 2, 'truck', [[30, 0.7, 'confirmed'], [31, 0.7, 'confirmed'], [32, 0.7, 'confirmed']]).flat());
    expect(evs).toEqual([]);
    evs.push(...e.flush(at(40)));
    expect(evs).toEqual([]);
  });

  it('tentative crossings still respect tripwire inertia, direction, classes and schedule', () => {
    // Across on the 2nd observation, back on the 3rd: never settled on the far side.
    const bounce = engine([gate]);
    expect(feed(bounce, 1, 'truck', [[0, 0.3, 'tentative'], [1, 0.6, 'tentative'], [2, 0.3, 'confirmed'], [3, 0.3, 'confirmed']]).flat()).toEqual([]);

    const crossing: Array<[number, number, 'tentative' | 'confirmed']> = [
      [0, 0.3, 'tentative'],
      [1, 0.6, 'tentative'],
      [2, 0.7, 'confirmed'],
      [3, 0.8, 'confirmed'],
    ];
    const wrongWay = engine([{ ...gate, direction: 'right_to_left' }]);
    expect(feed(wrongWay, 1, 'truck', crossing).flat()).toEqual([]);
    expect(wrongWay.counts()[0]!.count).toBe(0);
    expect(feed(engine([gate]), 1, 'person', crossing).flat()).toEqual([]);
    // at(0) is Monday 02:00 UTC, outside the window.
    expect(feed(engine([{ ...gate, schedule: [{ days: ['mon'], from: '08:00', to: '18:00' }] }]), 1, 'truck', crossing).flat()).toEqual([]);
    // With tripwire inertia 3 the far side must be seen three times: at 1, 2 and 3.
    const slow = feed(engine([gate], { tripwireInertia: 3 }), 1, 'truck', crossing);
    expect(slow.map((x) => x.length)).toEqual([0, 0, 0, 1]);
    expect(slow[3]![0]!.time.getTime()).toBe(at(1));
  });

  it('with the real tracker: a truck that crosses on its 2nd detection is counted once', () => {
    // One detection run per second; the truck enters the picture just above the gate line
    // (y 250 px on a 500 px frame) and drives down 40 px per run.
    const tr = new Tracker();
    const e = engine([gate]);
    const evs: PortEvent[] = [];
    const states: string[] = [];
    for (let s = 0; s < 8; s++) {
      const bottom = 220 + 40 * s;
      const dets = [{ class: 'truck', score: 0.9, box: [440, bottom - 80, 560, bottom] as [number, number, number, number] }];
      const tracks = tr.update(dets, at(s));
      states.push(tracks.map((t) => t.state).join(','));
      evs.push(...e.update(tracks, FRAME, at(s)));
    }
    // The premise: still tentative when it crossed (bottom 260 px at 1 s), confirmed later.
    expect(states[1]).toBe('tentative');
    expect(states.slice(2).every((x) => x === 'confirmed')).toBe(true);
    expect(evs).toHaveLength(1);
    expect(evs[0]!.details).toMatchObject({ direction: 'left_to_right', count: 1 });
    expect(evs[0]!.time.getTime()).toBe(at(1));
  });
});
