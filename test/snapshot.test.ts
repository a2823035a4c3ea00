import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import jpeg from 'jpeg-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventId } from '../pipeline/events/index.js';
import { drawBox, JpegEncoder, jpegEnd, qscale, renderSnapshot, snapshotPath, writeSnapshot, type RgbImage } from '../pipeline/snapshot/index.js';

/** A mid-grey frame with a soft gradient, like a dull quay. */
function greyFrame(width: number, height: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 3;
      const v = 100 + Math.round((30 * x) / width);
      data[o] = v;
      data[o + 1] = v;
      data[o + 2] = v;
    }
  }
  return { width, height, data };
}

function pixel(img: { width: number; data: Uint8Array }, x: number, y: number, channels: number): number[] {
  const o = (y * img.width + x) * channels;
  return [img.data[o]!, img.data[o + 1]!, img.data[o + 2]!];
}

let root = '';
const encoder = new JpegEncoder();
beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'portwatch-snapshot-'));
});
afterAll(async () => {
  await encoder.close();
  await rm(root, { recursive: true, force: true });
});

describe('drawing', () => {
  it('draws a box outline in the given colour, clipped to the frame, leaving the inside alone', () => {
    const f = greyFrame(50, 40);
    drawBox(f, [10, 10, 30, 25], [255, 0, 0], 2);
    expect(pixel(f, 10, 10, 3)).toEqual([255, 0, 0]);
    expect(pixel(f, 11, 18, 3)).toEqual([255, 0, 0]); // left edge, second pixel of thickness
    expect(pixel(f, 30, 25, 3)).toEqual([255, 0, 0]);
    expect(pixel(f, 20, 18, 3)[1]).toBeGreaterThan(90); // inside untouched (grey)
    expect(pixel(f, 5, 5, 3)[0]).toBeLessThan(140);
    // Partly off-frame boxes do not throw and draw what is visible.
    drawBox(f, [-20, 5, 30, 60], [0, 0, 255], 1);
    expect(pixel(f, 0, 5, 3)).toEqual([0, 0, 255]); // top edge, from the frame border
    expect(pixel(f, 30, 39, 3)).toEqual([0, 0, 255]); // right edge, down to the last row
  });

  it('renderSnapshot copies the frame instead of drawing on it', () => {
    const f = greyFrame(20, 20);
    const before = Buffer.from(f.data);
    const out = renderSnapshot(f, { boxes: [{ box: [2, 2, 10, 10] }] });
    expect(Buffer.from(f.data).equals(before)).toBe(true);
    expect(pixel(out, 2, 2, 3)).toEqual([255, 0, 0]);
  });

  it('scales boxes given in detector pixels onto a larger snapshot frame', () => {
    const f = greyFrame(200, 100);
    const out = renderSnapshot(f, { boxes: [{ box: [10, 10, 50, 40], colour: [0, 255, 0] }], sourceSize: { width: 100, height: 50 }, thickness: 1 });
    expect(pixel(out, 20, 20, 3)).toEqual([0, 255, 0]);
    expect(pixel(out, 10, 10, 3)[1]).toBeLessThan(200);
  });

  it('rejects a frame whose data does not match its size, saying both numbers', () => {
    expect(() => encoder.encode({ width: 10, height: 10, data: new Uint8Array(10) })).toThrow(/10 bytes.*300/);
  });
});

describe('writeSnapshot', () => {
  const event = {
    id: eventId('cam-07', 'unauthorized_access:quay-gate', 1, 1767578400000),
    camera: 'cam-07',
    bbox: [80, 40, 200, 160] as [number, number, number, number],
  };

  it('writes a JPEG with the event box drawn, at a path derived from the event id', async () => {
    const frame = greyFrame(320, 240);
    const zone: [number, number][] = [
      [0.5, 0],
      [1, 0],
      [1, 1],
      [0.5, 1],
    ];
    const rel = await writeSnapshot({ root, encoder, event, frame, overlay: { thickness: 6, zones: [{ polygon: zone, colour: [0, 0, 255] }] }, quality: 92 });
    expect(rel).toBe(`cam-07/${event.id.slice(0, 2)}/${event.id}.jpg`);
    expect(rel).toBe(snapshotPath(event));
    expect(path.isAbsolute(rel)).toBe(false);

    const bytes = await readFile(path.join(root, rel));
    expect(bytes[0]).toBe(0xff);
    expect(bytes[1]).toBe(0xd8); // JPEG SOI
    const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true });
    expect(img.width).toBe(320);
    expect(img.height).toBe(240);
    // Middle of the 6-pixel left edge of the red box: red survives JPEG compression.
    const [r, g, b] = pixel(img, 82, 100, 4);
    expect(r).toBeGreaterThan(200);
    expect(g).toBeLessThan(60);
    expect(b).toBeLessThan(60);
    // Inside the box: still grey.
    const inside = pixel(img, 140, 100, 4);
    expect(Math.abs(inside[0]! - inside[2]!)).toBeLessThan(20);
    // The zone's left edge (x = 0.5 · 319 ≈ 160) is bluish where no box covers it.
    const edge = pixel(img, 160, 200, 4);
    expect(edge[2]!).toBeGreaterThan(edge[0]! + 40);
    // No temporary file is left behind.
    expect(await readdir(path.join(root, path.dirname(rel)))).toEqual([`${event.id}.jpg`]);
  });

  it('a later snapshot of the same event replaces the file at the same path', async () => {
    const first = await writeSnapshot({ root, encoder, event, frame: greyFrame(64, 48) });
    const second = await writeSnapshot({ root, encoder, event: { ...event, bbox: [1, 1, 20, 20] }, frame: greyFrame(128, 96) });
    expect(second).toBe(first);
    const img = jpeg.decode(await readFile(path.join(root, second)), { useTArray: true });
    expect(img.width).toBe(128);
  });

  it('keeps awkward camera ids inside the snapshot root', () => {
    expect(snapshotPath({ id: event.id, camera: '../../etc' })).not.toContain('..');
    expect(snapshotPath({ id: event.id, camera: null })).toMatch(/^unknown\//);
  });
});


describe('JpegEncoder', () => {
  it('answers each picture with its own JPEG, in order, from one ffmpeg per size and quality', async () => {
    const local = new JpegEncoder();
    try {
      // Three pictures of one size in flight at once, told apart by their brightness, and one of another size.
      const shades = [40, 120, 220];
      const pictures = await Promise.all([
        ...shades.map((v) => local.encode({ width: 96, height: 64, data: new Uint8Array(96 * 64 * 3).fill(v) })),
        local.encode(greyFrame(50, 30), 95),
      ]);
      for (const [i, v] of shades.entries()) {
        const img = jpeg.decode(pictures[i]!, { useTArray: true });
        expect([img.width, img.height]).toEqual([96, 64]);
        expect(Math.abs(img.data[4 * (32 * 96 + 48)]! - v)).toBeLessThanOrEqual(3);
      }
      const odd = jpeg.decode(pictures[3]!, { useTArray: true });
      expect([odd.width, odd.height]).toEqual([50, 30]);
      expect(local.stats()).toEqual({ encoded: 4, failed: 0, spawns: 2 });
    } finally {
      await local.close();
    }
    await expect(local.encode(greyFrame(8, 8))).rejects.toThrow(/closed/);
  });

  it('a missing ffmpeg fails the picture with what to do, and the next picture tries again', async () => {
    const broken = new JpegEncoder({ ffmpegPath: '/nonexistent/ffmpeg' });
    await expect(broken.encode(greyFrame(16, 16))).rejects.toThrow(/could not be started.*is ffmpeg installed/);
    await expect(broken.encode(greyFrame(16, 16))).rejects.toThrow(/could not be started/);
    expect(broken.stats()).toMatchObject({ encoded: 0, failed: 2, spawns: 2 });
    await broken.close();
  });

  it('finds where a JPEG ends by its structure, not by the first FF D9 in its bytes', () => {
    // SOI, a comment segment holding FF D9, a scan header, entropy data with a stuffed FF 00 and a restart marker, EOI.
    const bytes = Uint8Array.from([0xff, 0xd8, 0xff, 0xfe, 0x00, 0x04, 0xff, 0xd9, 0xff, 0xda, 0x00, 0x02, 0x12, 0xff, 0x00, 0x34, 0xff, 0xd0, 0x56, 0xff, 0xd9, 0x99]);
    expect(jpegEnd(bytes)).toBe(21);
    expect(jpegEnd(bytes.subarray(0, 20))).toBe(-1);
    expect(() => jpegEnd(Uint8Array.from([1, 2, 3, 4]))).toThrow(/SOI/);
    expect([qscale(80), qscale(92), qscale(50), qscale(1)]).toEqual([4, 2, 10, 20]);
    expect(() => qscale(0)).toThrow(/1–100/);
  });
});
