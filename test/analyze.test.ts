import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLIP = 'test/fixtures/video/vtest-640x480.mp4';
const SITE = 'test/fixtures/sites/vtest.yaml';
const snapshots = mkdtempSync(join(tmpdir(), 'pw-analyze-'));
afterAll(() => rmSync(snapshots, { recursive: true, force: true }));

interface Line {
  t: number;
  kind: string;
  phase: string;
  camera: string;
  zone: string | null;
  track: number | null;
  class: string | null;
  id: string;
  snapshot?: string;
  details: Record<string, unknown>;
}

/**
 * Ground truth, read off the footage by eye (1 frame/s and 2 frames/s contact
 * sheets of the first 31 s with the zone drawn in; see docs/camera-pipeline.md):
 * three people walk into the west end of the footpath (x < 0.28, 0.33 < y < 0.50):
 *   L, light-blue jacket, walking west: feet cross x = 0.28 at about 17.8 s, leaves the picture at about 22 s;
 *   K, dark jacket, walking west: crosses at about 20.1 s, stands near the left edge until about 28 s;
 *   M, walking west along the top edge of the path: enters at about 24.5 s, turns back east and leaves the zone at about 30.2 s.
 * Nobody else is inside the zone before 30.5 s (then a fourth person dips into its edge).
 * The clip is cut at 30 s, so all three are still inside when it ends.
 */
const ENTRIES = [17.8, 20.1, 24.5];

describe('portwatch analyze', () => {
  it('prints one unauthorized_access per person at the times seen in the footage, and tripwire crossings as instants', async () => {
    const { stdout, stderr } = await run(
      process.execPath,
      ['--import', 'tsx', 'cli/main.ts', 'analyze', CLIP, '--site', SITE, '--camera', 'vtest-cam', '--duration', '30', '--snapshots', snapshots, '--stats'],
      { cwd: ROOT, maxBuffer: 8 << 20 },
    );
    const lines = stdout.trim().split('\n').map((l) => JSON.parse(l) as Line);
    for (const l of lines) {
      expect(l).toMatchObject({ camera: 'vtest-cam', class: 'person' });
      expect(typeof l.t).toBe('number');
      expect(typeof l.track).toBe('number');
    }
    const starts = lines.filter((l) => l.kind === 'unauthorized_access' && l.phase === 'start');
    // One per person: three people, three tracks, three events.
    expect(starts.map((s) => s.zone)).toEqual(['west-path', 'west-path', 'west-path']);
    expect(new Set(starts.map((s) => s.track)).size).toBe(3);
    expect(new Set(starts.map((s) => s.id)).size).toBe(3);
    // Each start comes after its person is inside for the zone's inertia (3 observations
    // at 2 fps) and 1 s of dwell, so it lags the entry by about 1–2 s; never before it.
    starts.forEach((s, i) => {
      expect(s.t).toBeGreaterThanOrEqual(ENTRIES[i]! - 0.5);
      expect(s.t).toBeLessThanOrEqual(ENTRIES[i]! + 3);
      expect(s.snapshot && existsSync(join(snapshots, s.snapshot))).toBe(true);
    });
    // L walks out of the picture at about 22 s: the tracker sees it leave at the edge, and
    // the event ends when L was last seen, not when a hold for a successor runs out.
    // K and M are inside (K at the edge, standing) when the clip ends: ended then.
    const ends = lines.filter((l) => l.kind === 'unauthorized_access' && l.phase === 'end');
    expect(new Set(ends.map((e) => e.id))).toEqual(new Set(starts.map((s) => s.id)));
    const endOf = (i: number) => ends.find((e) => e.id === starts[i]!.id)!;
    expect(endOf(0).details.reason).toBe('track_lost');
    expect(endOf(0).t).toBeGreaterThanOrEqual(21.5);
    expect(endOf(0).t).toBeLessThanOrEqual(22.6);
    expect(Date.parse(endOf(0).details.last_seen as string)).toBeLessThanOrEqual(Date.parse(endOf(0).details.started as string) + (endOf(0).t - starts[0]!.t) * 1000 + 1);
    for (const i of [1, 2]) expect(endOf(i)).toMatchObject({ t: 30, details: { reason: 'shutdown' } });

    // The line at x = 0.28 from top to bottom: walking west is left_to_right (seen from the
    // first point towards the second, west is on the right). Nobody crosses back before 30 s.
    // People crossing a line are line crossings; nothing on this footage is cargo.
    expect(lines.filter((l) => l.kind === 'cargo_movement')).toEqual([]);
    const crossings = lines.filter((l) => l.kind === 'line_crossing');
    for (const c of crossings) expect(c).toMatchObject({ phase: 'instant', zone: 'west-line' });
    const west = crossings.filter((c) => c.details.direction === 'left_to_right');
    const east = crossings.filter((c) => c.details.direction === 'right_to_left');
    expect(west).toHaveLength(3);
    west.forEach((c, i) => {
      expect(c.t).toBeGreaterThanOrEqual(ENTRIES[i]! - 0.5);
      expect(c.t).toBeLessThanOrEqual(ENTRIES[i]! + 2);
      expect(c.track).toBe(starts[i]!.track);
    });
    expect(east).toHaveLength(0);
    expect(stderr).toMatch(/^analyze: 60 frames at 2 fps, detector on \d+/m);
  }, 120_000);

  it('--labels scores the events against visits labelled by eye, and refuses labels for zones the camera does not have', async () => {
    const { stdout, stderr } = await run(
      process.execPath,
      ['--import', 'tsx', 'cli/main.ts', 'analyze', CLIP, '--site', 'test/fixtures/sites/vtest-zones.yaml', '--camera', 'vtest-zones', '--duration', '24', '--labels', 'test/fixtures/video/vtest-zone-visits.json'],
      { cwd: ROOT, maxBuffer: 8 << 20 },
    );
    expect(stdout.trim().split('\n').length).toBeGreaterThan(10);
    const scores = stderr.trim().split('\n').map((l) => JSON.parse(l) as { score: { zone: string; rule: string; expected: number; hits: number; recall: number | null; merges: number } });
    const total = scores.find((x) => x.score.zone === 'total' && x.score.rule === 'unauthorized_access')!.score;
    // In 24 s: L, K into the west end; the man at the start, the one from the lamp, L, K and M across the footpath; two on the van's road.
    expect(total.expected).toBeGreaterThanOrEqual(8);
    expect(total.recall).toBeGreaterThanOrEqual(0.95);
    expect(total.merges).toBe(0);
    expect(scores.map((x) => `${x.score.zone}/${x.score.rule}`)).toContain('lawn/loitering');

    const bad = join(snapshots, 'labels.json');
    writeFileSync(bad, JSON.stringify({ clip: CLIP, site: SITE, camera: 'vtest-cam', clip_seconds: 30, visits: [{ zone: 'footpath', entry: 1, exit: 2 }] }));
    const err = await run(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'analyze', CLIP, '--site', SITE, '--camera', 'vtest-cam', '--labels', bad], { cwd: ROOT }).catch((e: { code: number; stderr: string }) => e);
    expect(err).toMatchObject({ code: 2 });
    expect((err as { stderr: string }).stderr).toContain('visits[0].zone: "footpath" is not a zone of camera vtest-cam (west-path)');
  }, 120_000);

  it('refuses an unknown camera with the cameras it knows, and a missing clip, with exit code 2', async () => {
    const err = await run(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'analyze', CLIP, '--site', SITE, '--camera', 'nope'], { cwd: ROOT }).catch((e: { code: number; stderr: string }) => e);
    expect(err).toMatchObject({ code: 2 });
    expect((err as { stderr: string }).stderr).toMatch(/--camera nope: no such camera in test\/fixtures\/sites\/vtest.yaml \(3 cameras: vtest-cam, frozen-cam, black-cam\)/);
    const missing = await run(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'analyze', 'nope.mp4', '--site', SITE, '--camera', 'vtest-cam'], { cwd: ROOT }).catch((e: { code: number; stderr: string }) => e);
    expect(missing).toMatchObject({ code: 2 });
    expect((missing as { stderr: string }).stderr).toMatch(/nope\.mp4: no such file/);
  }, 60_000);
});
