import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRtspServer, type RtspServer } from './helpers/rtsp-server.js';

/**
 * The RTSP simulator's starting points: a mount may start part-way into its
 * clip (the keyframe at or before the second asked for), and `camStart:
 * 'random'` gives every /cam/NNN its own seeded point of the loop, so the
 * end-to-end benchmark's cameras show independent scenes. Checked on the
 * pictures themselves: the first frame a client receives is compared with the
 * clip's frames decoded straight from the file.
 */
const CLIP = 'test/fixtures/video/vtest-640x480.mp4';
const W = 160;
const H = 120;

/** The first picture of a file (from `seconds`) or a stream, as W×H grey. */
function firstGray(input: string, seconds?: number): Promise<Buffer> {
  const args = ['-v', 'error', ...(input.startsWith('rtsp:') ? ['-rtsp_transport', 'tcp'] : []), ...(seconds !== undefined ? ['-ss', String(seconds)] : []), '-i', input, '-frames:v', '1', '-vf', `scale=${W}:${H}`, '-pix_fmt', 'gray', '-f', 'rawvideo', '-'];
  return new Promise((resolve, reject) => {
    const ff = spawn('ffmpeg', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    let err = '';
    ff.stdout.on('data', (d: Buffer) => chunks.push(d));
    ff.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => ff.kill('SIGKILL'), 30_000);
    ff.once('exit', (code) => {
      clearTimeout(timer);
      const out = Buffer.concat(chunks);
      if (out.length === W * H) resolve(out);
      else reject(new Error(`ffmpeg ${input} exited ${code} with ${out.length} bytes: ${err.slice(-500)}`));
    });
  });
}

/** Mean absolute difference of two grey pictures (0 = the same picture). */
const diff = (a: Buffer, b: Buffer) => a.reduce((s, v, i) => s + Math.abs(v - b[i]!), 0) / a.length;

describe('RTSP simulator starting points', () => {
  let server: RtspServer;
  beforeAll(async () => {
    server = await startRtspServer({
      mounts: { '/from-start': 'vtest', '/from-23': { clip: 'vtest', startSeconds: 23.5 }, '/from-100': 'vtest@100' },
      cams: 4,
      camStart: 'random',
      seed: 7,
    });
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
  });

  it('a mount with a start serves the clip from the keyframe at or before it', async () => {
    const [at0, at23, from0, from23, from100] = await Promise.all([
      firstGray(CLIP),
      firstGray(CLIP, 23),
      firstGray(server.url('/from-start')),
      firstGray(server.url('/from-23')),
      firstGray(server.url('/from-100')),
    ]);
    // Two different moments of the clip differ clearly (people moved); the same one within coding noise.
    expect(diff(at0, at23)).toBeGreaterThan(3);
    expect(diff(from0, at0)).toBeLessThan(1);
    expect(diff(from23, at23)).toBeLessThan(1);
    // 100 s wraps round the 79.5 s loop to 20.5 s: the keyframe at 20 s.
    expect(diff(from100, await firstGray(CLIP, 20))).toBeLessThan(1);
    expect(server.starts).toMatchObject({ '/from-23': 23, '/from-100': 20 });
    expect(server.starts['/from-start']).toBeUndefined();
  }, 90_000);

  it('random camera starts are seeded points of the loop, one per camera', async () => {
    const starts = [1, 2, 3, 4].map((i) => server.starts[`/cam/00${i}`] ?? 0);
    for (const s of starts) {
      expect(s).toBeGreaterThanOrEqual(0);
      expect(s).toBeLessThan(79.5);
      expect(Number.isInteger(s)).toBe(true); // a keyframe: the clip's GOP is 1 s
    }
    expect(new Set(starts).size).toBeGreaterThan(1);
    // The picture a camera sends first is the clip's at its start.
    const cam = 1 + starts.findIndex((s) => s > 0);
    expect(diff(await firstGray(server.url(`/cam/00${cam}`)), await firstGray(CLIP, starts[cam - 1]))).toBeLessThan(1);
    // The same seed gives the same starts; another seed others.
    const again = await startRtspServer({ cams: 4, camStart: 'random', seed: 7 });
    const other = await startRtspServer({ cams: 4, camStart: 'random', seed: 8 });
    try {
      expect(again.starts).toEqual(Object.fromEntries(Object.entries(server.starts).filter(([p]) => p.startsWith('/cam/'))));
      expect(other.starts).not.toEqual(again.starts);
    } finally {
      await Promise.all([again.stop(), other.stop()]);
    }
  }, 90_000);

  it('a bad start is refused with the mount and the reason', async () => {
    await expect(startRtspServer({ mounts: { '/bad': 'vtest@soon' } })).rejects.toThrow(/--mount \/bad=vtest@soon: the start must be a number of seconds >= 0/);
    await expect(startRtspServer({ mounts: { '/bad': { clip: 'vtest', startSeconds: -2 } } })).rejects.toThrow(/--mount \/bad=vtest@-2: the start must be a number of seconds >= 0/);
  }, 60_000);
});
