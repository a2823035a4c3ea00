import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { iou } from '../pipeline/detect/index.js';

const CLI = 'cli/main.ts';
function portwatch(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', CLI, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('portwatch detect', () => {
  it('prints one JSON line per good image in source pixels, one error line per bad one, and exits 1', () => {
    const r = portwatch('detect', 'test/fixtures/images/person.jpg', 'missing.jpg', 'package.json', 'test/fixtures/images/dog.jpg', '--model', 'nanodet', '--threshold', '0.4');
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { image: string; detections: { class: string; score: number; box: number[] }[] });
    expect(lines.map((l) => l.image)).toEqual(['test/fixtures/images/person.jpg', 'test/fixtures/images/dog.jpg']);
    const person = lines[0]!.detections.find((d) => d.class === 'person');
    // The man in person.jpg (640x424), box checked by eye.
    expect(iou(person!.box as [number, number, number, number], [190, 98, 273, 375])).toBeGreaterThan(0.5);
    for (const l of lines) for (const d of l.detections) expect(d.score).toBeGreaterThanOrEqual(0.4);
    expect(lines[1]!.detections.map((d) => d.class)).toContain('bicycle');
    const errors = r.stderr.trim().split('\n');
    expect(errors).toContain('portwatch detect: missing.jpg: file not found');
    expect(errors.some((e) => /package\.json: not a JPEG file/.test(e))).toBe(true);
    expect(errors.at(-1)).toBe('portwatch: 2 of 4 images could not be read');
    expect(r.code).toBe(1);
  });

  it('uses the manifest default threshold and keeps only --classes', () => {
    // Default model: centernet.
    const r = portwatch('detect', 'test/fixtures/images/dog.jpg', '--classes', 'truck,car');
    expect(r.code).toBe(0);
    const { default_threshold } = JSON.parse(readFileSync('models/centernet.json', 'utf8')) as { default_threshold: number };
    const line = JSON.parse(r.stdout) as { detections: { class: string; score: number; box: number[] }[] };
    expect(line.detections.length).toBeGreaterThan(0);
    for (const d of line.detections) {
      expect(['truck', 'car']).toContain(d.class);
      expect(d.score).toBeGreaterThanOrEqual(default_threshold);
    }
    // The white pickup, box checked by eye.
    expect(iou(line.detections[0]!.box as [number, number, number, number], [465, 73, 692, 170])).toBeGreaterThan(0.5);
  });

  it('rejects an unknown model and a bad threshold with one line and exit code 2', () => {
    const unknown = portwatch('detect', 'test/fixtures/images/dog.jpg', '--model', 'yolo-nope');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr.trim()).toMatch(/^portwatch: no model "yolo-nope": .*models in .*: centernet, nanodet, nanodet-int8\)$/);
    const bad = portwatch('detect', 'test/fixtures/images/dog.jpg', '--threshold', '1.5');
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim()).toBe('portwatch: --threshold must be a number between 0 and 1, got "1.5"');
    expect(bad.stdout).toBe('');
  });
});
