import { describe, expect, it } from 'vitest';
import type { Detection } from '../pipeline/detect/types.js';
import type { Box } from '../pipeline/events/types.js';
import { Tracker, assign, bufferedIou, iou, median, type Track } from '../pipeline/track/index.js';

const T0 = Date.UTC(2026, 0, 5, 10, 0, 0);
const at = (seconds: number) => T0 + Math.round(seconds * 1000);

function box(cx: number, cy: number, w: number, h: number): Box {
  return [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2];
}
function det(cls: string, score: number, b: Box): Detection {
  return { class: cls, score, box: b };
}
function byId(tracks: Track[], id: number): Track | undefined {
  return tracks.find((t) => t.id === id);
}

describe('box overlap', () => {
  it('iou of known boxes', () => {
    expect(iou([0, 0, 10, 10], [5, 0, 15, 10])).toBeCloseTo(50 / 150, 12);
    expect(iou([0, 0, 10, 10], [20, 20, 30, 30])).toBe(0);
    expect(iou([0, 0, 10, 10], [0, 0, 10, 10])).toBe(1);
  });
  it('buffered iou finds overlap between nearby boxes that plain iou misses', () => {
    const a: Box = [0, 0, 10, 10];
    const b: Box = [12, 0, 22, 10];
    expect(iou(a, b)).toBe(0);
    // Each grows by 3 px per side: [-3,13] and [9,25] overlap 4 of 28 wide, same height 16.
    expect(bufferedIou(a, b, 0.3)).toBeCloseTo((4 * 16) / (2 * 16 * 16 - 4 * 16), 12);
  });
});

describe('assign (Hungarian with a cost limit)', () => {
  /** Brute force: minimise Σ matched costs + limit/2 per unmatched row and column, over all partial matchings. */
  function bruteForce(cost: number[][], limit: number): number {
    const rows = cost.length;
    const cols = cost[0]!.length;
    let best = Infinity;
    const usedCols = new Array<boolean>(cols).fill(false);
    const rec = (i: number, acc: number, matched: number) => {
      if (i === rows) {
        best = Math.min(best, acc + (limit / 2) * (rows - matched) + (limit / 2) * (cols - matched));
        return;
      }
      rec(i + 1, acc, matched);
      for (let j = 0; j < cols; j++) {
        if (usedCols[j] || !(cost[i]![j]! <= limit)) continue;
        usedCols[j] = true;
        rec(i + 1, acc + cost[i]![j]!, matched + 1);
        usedCols[j] = false;
      }
    };
    rec(0, 0, 0);
    return best;
  }

  it('matches brute force on random matrices', () => {
    let seed = 42;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let trial = 0; trial < 200; trial++) {
      const rows = 1 + Math.floor(rnd() * 5);
      const cols = 1 + Math.floor(rnd() * 5);
      const limit = 0.3 + rnd() * 0.6;
      const cost = Array.from({ length: rows }, () => Array.from({ length: cols }, () => (rnd() < 0.1 ? Infinity : rnd())));
      const r = assign(cost, limit);
      const total =
        r.matches.reduce((s, [i, j]) => s + cost[i]![j]!, 0) + (limit / 2) * (r.unmatchedRows.length + r.unmatchedCols.length);
      expect(total).toBeCloseTo(bruteForce(cost, limit), 9);
      for (const [i, j] of r.matches) expect(cost[i]![j]!).toBeLessThanOrEqual(limit);
      expect(r.matches.length + r.unmatchedRows.length).toBe(rows);
      expect(r.matches.length + r.unmatchedCols.length).toBe(cols);
    }
  });

  it('prefers the globally best pairing over the greedy one', () => {
    // Greedy takes (0,0)=0.1 and leaves row 1 with only column 0; optimal is (0,1)+(1,0).
    const cost = [
      [0.1, 0.2],
      [0.15, 0.9],
    ];
    const r = assign(cost, 0.5);
    expect(r.matches.sort()).toEqual([
      [0, 1],
      [1, 0],
    ]);
  });

  it('handles empty inputs', () => {
    expect(assign([], 0.5)).toEqual({ matches: [], unmatchedRows: [], unmatchedCols: [] });
    expect(assign([[], []], 0.5).unmatchedRows).toEqual([0, 1]);
  });
});

describe('Tracker', () => {
  it('confirms a track only after minHits matches, with a stable id', () => {
    const tr = new Tracker({ minHits: 3 });
    const states: string[] = [];
    let id = -1;
    for (let i = 0; i < 4; i++) {
      const out = tr.update([det('person', 0.9, box(100 + i * 5, 200, 40, 100))], at(i * 0.2));
      expect(out).toHaveLength(1);
      if (id < 0) id = out[0]!.id;
      expect(out[0]!.id).toBe(id);
      states.push(out[0]!.state);
    }
    expect(states).toEqual(['tentative', 'tentative', 'confirmed', 'confirmed']);
    expect(tr.current()[0]!.hits).toBe(4);
  });

  it('drops a tentative track that is missed, and never starts a track from a weak detection', () => {
    const tr = new Tracker({ minHits: 3 });
    tr.update([det('person', 0.9, box(100, 200, 40, 100))], at(0));
    // One missed run is forgiven (a person hidden behind another while still tentative), two are not.
    expect(tr.update([], at(0.1))).toHaveLength(1);
    expect(tr.update([], at(0.2))).toHaveLength(0);
    // Below newTrackThreshold (0.6), above highThreshold: no new track.
    expect(tr.update([det('person', 0.55, box(300, 200, 40, 100))], at(0.4))).toHaveLength(0);
    expect(tr.update([det('person', 0.3, box(300, 200, 40, 100))], at(0.6))).toHaveLength(0);
  });

  it('keeps the ids of two people who cross paths', () => {
    const tr = new Tracker({ minHits: 2 });
    let leftId = -1;
    let rightId = -1;
    for (let i = 0; i <= 40; i++) {
      const t = i * 0.2;
      const a = box(100 + 40 * t, 300, 40, 100); // walks right at 40 px/s
      const b = box(420 - 40 * t, 315, 40, 100); // walks left, slightly lower in the picture
      const out = tr.update([det('person', 0.9, a), det('person', 0.85, b)], at(t));
      if (i === 2) {
        const confirmed = out.filter((x) => x.state === 'confirmed');
        expect(confirmed).toHaveLength(2);
        leftId = confirmed.find((x) => x.box[0] < 200)!.id;
        rightId = confirmed.find((x) => x.box[0] > 200)!.id;
      }
    }
    const end = tr.current();
    expect(end.filter((x) => x.state === 'confirmed')).toHaveLength(2);
    // After crossing, the one that started on the left is on the right and moves right.
    const left = byId(end, leftId)!;
    const right = byId(end, rightId)!;
    expect((left.box[0] + left.box[2]) / 2).toBeGreaterThan(400);
    expect(left.velocity.x).toBeGreaterThan(30);
    expect((right.box[0] + right.box[2]) / 2).toBeLessThan(120);
    expect(right.velocity.x).toBeLessThan(-30);
    expect(tr.stats.tracksCreated).toBe(2);
  });

  it('keeps the id through an occlusion shorter than the buffer, and not past it', () => {
    const tr = new Tracker({ minHits: 2, lostTtlSeconds: 10 });
    let id = -1;
    for (let i = 0; i < 5; i++) id = tr.update([det('truck', 0.9, box(500, 300, 200, 120))], at(i))[0]!.id;
    // Hidden behind a container for 8 s.
    for (let i = 5; i < 13; i++) {
      const out = tr.update([], at(i));
      expect(out).toHaveLength(1);
      expect(out[0]!.state).toBe('lost');
    }
    const back = tr.update([det('truck', 0.9, box(505, 300, 200, 120))], at(13));
    expect(back[0]!.id).toBe(id);
    expect(back[0]!.state).toBe('confirmed');

    // Now hide it past the buffer: the track is removed, a reappearance is a new track.
    for (let i = 14; i < 26; i++) tr.update([], at(i));
    expect(tr.current()).toHaveLength(0);
    const again = tr.update([det('truck', 0.9, box(505, 300, 200, 120))], at(26));
    expect(again[0]!.id).not.toBe(id);
  });

  it('second pass: low-score detections keep a confirmed track alive', () => {
    const tr = new Tracker({ minHits: 2 });
    let id = -1;
    for (let i = 0; i < 4; i++) id = tr.update([det('person', 0.9, box(100 + i * 4, 200, 40, 100))], at(i * 0.2))[0]!.id;
    // Half hidden: the detector's score drops to 0.3.
    for (let i = 4; i < 8; i++) {
      const out = tr.update([det('person', 0.3, box(100 + i * 4, 200, 40, 100))], at(i * 0.2));
      expect(out).toHaveLength(1);
      expect(out[0]!.id).toBe(id);
      expect(out[0]!.state).toBe('confirmed');
      expect(out[0]!.observed).toBe(true);
    }
    // Median of [0.9 ×4, 0.3 ×4] = 0.6: smoothed, not the last frame's 0.3.
    expect(tr.current()[0]!.score).toBeCloseTo(0.6, 9);
    // A low-score box far from any track starts nothing and is not matched.
    const out = tr.update([det('person', 0.3, box(600, 200, 40, 100))], at(1.6));
    expect(out).toHaveLength(1);
    expect(out[0]!.state).toBe('lost');
  });

  it('without the second pass the same low scores would lose the track', () => {
    // Control for the test above: with lowThreshold = highThreshold, 0.3 boxes are ignored.
    const tr = new Tracker({ minHits: 2, lowThreshold: 0.5 });
    for (let i = 0; i < 4; i++) tr.update([det('person', 0.9, box(100 + i * 4, 200, 40, 100))], at(i * 0.2));
    const out = tr.update([det('person', 0.3, box(116, 200, 40, 100))], at(0.8));
    expect(out[0]!.state).toBe('lost');
  });

  it('never matches a person to a truck, but class groups allow car/truck flicker', () => {
    const tr = new Tracker({ minHits: 1 });
    const personId = tr.update([det('person', 0.9, box(300, 300, 80, 80))], at(0))[0]!.id;
    const out = tr.update([det('truck', 0.9, box(300, 300, 80, 80))], at(0.2));
    expect(out).toHaveLength(2);
    expect(byId(out, personId)!.state).toBe('lost');
    expect(out.find((t) => t.id !== personId)!.class).toBe('truck');

    const grouped = new Tracker({ minHits: 1, classGroups: [['car', 'truck', 'bus']] });
    const carId = grouped.update([det('truck', 0.9, box(300, 300, 80, 80))], at(0))[0]!.id;
    grouped.update([det('car', 0.8, box(302, 300, 80, 80))], at(0.2));
    grouped.update([det('car', 0.8, box(304, 300, 80, 80))], at(0.4));
    const g = grouped.update([det('car', 0.8, box(306, 300, 80, 80))], at(0.6));
    expect(g).toHaveLength(1);
    expect(g[0]!.id).toBe(carId);
    expect(g[0]!.class).toBe('car'); // majority of the recent votes
  });

  it('predicts by elapsed time across irregular gaps', () => {
    // No IoU buffer: only a time-scaled prediction can bridge a gap larger than the box.
    const tr = new Tracker({ minHits: 2, iouBuffer: 0, lostTtlSeconds: 10 });
    const v = 60; // px/s, box 40 wide
    const times = [0, 0.2, 0.4, 0.6, 0.8, 1.0, 1.2, 1.5, 1.9, 2.0, 4.5, 4.7, 7.0, 7.3, 7.4];
    let id = -1;
    for (const t of times) {
      const out = tr.update([det('person', 0.9, box(100 + v * t, 300, 40, 100))], at(t));
      const live = out.filter((x) => x.state !== 'lost');
      expect(live).toHaveLength(1);
      if (id < 0) id = live[0]!.id;
      expect(live[0]!.id).toBe(id);
    }
    expect(tr.current()[0]!.velocity.x).toBeCloseTo(v, -1);

    // Control: the same 2.5 s gap with frame-count thinking (no time scaling) would not match.
    const predictedFrameWise = 100 + v * 2.0 + v * 0.2; // one "frame" of motion at 5 fps
    const actual = 100 + v * 4.5;
    expect(iou(box(predictedFrameWise, 300, 40, 100), box(actual, 300, 40, 100))).toBe(0);
  });

  it('does not mark lost a track outside the regions the detector examined', () => {
    const tr = new Tracker({ minHits: 1 });
    const id = tr.update([det('truck', 0.9, box(500, 300, 200, 120))], at(0))[0]!.id;
    // Motion elsewhere: the detector only looked at the top-left corner.
    const out = tr.update([], at(1), { examined: [[0, 0, 200, 150]] });
    expect(byId(out, id)!.state).toBe('confirmed');
    expect(byId(out, id)!.observed).toBe(false);
    // Whole frame examined and not found: lost.
    expect(byId(tr.update([], at(2)), id)!.state).toBe('lost');
  });

  it('counts invalid detections and out-of-order updates instead of failing', () => {
    const tr = new Tracker({ minHits: 1 });
    const bad = [
      det('person', 0.9, [10, 10, 5, 50]),
      det('person', Number.NaN, [0, 0, 10, 10]),
      { class: 'person', score: 0.9, box: [0, 0, Infinity, 10] } as Detection,
    ];
    const out = tr.update([...bad, det('person', 0.9, box(100, 100, 20, 40))], at(5));
    expect(out).toHaveLength(1);
    expect(tr.stats.invalidDetections).toBe(3);
    const stale = tr.update([det('person', 0.9, box(300, 100, 20, 40))], at(4));
    expect(stale).toHaveLength(1);
    expect(tr.stats.outOfOrder).toBe(1);
  });

  it('median of scores', () => {
    expect(median([0.1, 0.9, 0.5])).toBe(0.5);
    expect(median([0.2, 0.4])).toBeCloseTo(0.3, 12);
    expect(median([])).toBe(0);
  });
});
