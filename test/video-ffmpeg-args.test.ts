import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { buildFfmpegArgs, buildKeyframeDecoderArgs, chooseStream, errorLinesOnly, keyframeOnlyAllowed, sampleFilter } from '../pipeline/video/index.js';

const streams = { main: 'rtsp://cam07:s3cret@10.0.0.7:554/main', sub: 'rtsp://cam07:s3cret@10.0.0.7:554/sub' };
const valueAfter = (args: string[], flag: string, from = 0) => args[args.indexOf(flag, from) + 1];

describe('buildFfmpegArgs', () => {
  it('reads RTSP over TCP with a socket timeout in microseconds, before -i', () => {
    const { args } = buildFfmpegArgs({ streams, detectFps: 2, rgb: { width: 640, height: 480 }, timeoutMs: 5000 });
    const input = args.indexOf('-i');
    expect(valueAfter(args, '-rtsp_transport')).toBe('tcp');
    expect(valueAfter(args, '-timeout')).toBe('5000000');
    expect(args.indexOf('-rtsp_transport')).toBeLessThan(input);
    expect(args.indexOf('-timeout')).toBeLessThan(input);
    expect(args).toContain('-nostats');
    expect(valueAfter(args, '-loglevel')).toBe('level+verbose');
  });

  it('prefers the sub-stream unless told otherwise', () => {
    expect(buildFfmpegArgs({ streams, detectFps: 1, gray: { width: 160, height: 120 } })).toMatchObject({ url: streams.sub, usedSubStream: true });
    expect(buildFfmpegArgs({ streams, detectFps: 1, gray: { width: 160, height: 120 }, forceMain: true })).toMatchObject({ url: streams.main, usedSubStream: false });
    expect(chooseStream({ main: streams.main })).toEqual({ url: streams.main, sub: false });
    expect(chooseStream({ main: streams.main, sub: null })).toEqual({ url: streams.main, sub: false });
  });

  it('scales and samples inside ffmpeg and writes raw rgb24 to stdout', () => {
    const plan = buildFfmpegArgs({ streams, detectFps: 5, rgb: { width: 320, height: 240 } });
    const vf = valueAfter(plan.args, '-vf')!;
    expect(vf).toContain(sampleFilter(5));
    expect(vf).toContain('scale=320:240');
    expect(vf).toMatch(/format=rgb24$/);
    expect(plan.args.slice(-7)).toEqual(['-fps_mode', 'passthrough', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1']);
    expect(plan).toMatchObject({ rgbFd: 1, grayFd: null, keyframeOnly: false });
    expect(plan.args).toEqual(expect.arrayContaining(['-an', '-sn', '-dn']));
  });

  it('gives rgb on stdout and grey on fd 3 from one decode when both are asked for', () => {
    const plan = buildFfmpegArgs({ streams, detectFps: 1, rgb: { width: 640, height: 480 }, gray: { width: 160, height: 120 } });
    const fc = valueAfter(plan.args, '-filter_complex')!;
    expect(fc).toContain('split=2');
    expect(fc).toContain('scale=640:480');
    expect(fc).toContain('scale=160:120');
    expect(plan.args.filter((a) => a === '-i')).toHaveLength(1);
    expect(plan.args).toContain('pipe:1');
    expect(plan.args).toContain('pipe:3');
    expect(plan).toMatchObject({ rgbFd: 1, grayFd: 3 });
  });

  it('decodes keyframes only when keyframes come at least as often as the sampling rate', () => {
    expect(keyframeOnlyAllowed(1, 1)).toBe(true);
    expect(keyframeOnlyAllowed(0.5, 2)).toBe(true);
    expect(keyframeOnlyAllowed(0.2, 2)).toBe(true);
    expect(keyframeOnlyAllowed(1, 2)).toBe(false);
    expect(keyframeOnlyAllowed(5, 1)).toBe(false);
    expect(keyframeOnlyAllowed(1, null)).toBe(false);
    expect(keyframeOnlyAllowed(1, 0)).toBe(false);

    const kf = buildFfmpegArgs({ streams, detectFps: 1, keyframeIntervalS: 1, gray: { width: 160, height: 120 } });
    expect(kf.keyframeOnly).toBe(true);
    expect(valueAfter(kf.args, '-skip_frame')).toBe('nokey');
    expect(kf.args.indexOf('-skip_frame')).toBeLessThan(kf.args.indexOf('-i'));
    // One decoder thread for keyframes only: frame threads would hold pictures back a GOP each.
    expect(valueAfter(kf.args, '-threads')).toBe('1');
    expect(kf.args.indexOf('-threads')).toBeLessThan(kf.args.indexOf('-i'));
    expect(valueAfter(kf.args, '-fps_mode')).toBe('passthrough');

    const full = buildFfmpegArgs({ streams, detectFps: 2, keyframeIntervalS: 1, gray: { width: 160, height: 120 } });
    expect(full.keyframeOnly).toBe(false);
    expect(full.args).not.toContain('-skip_frame');
    // Full decoding keeps ffmpeg's decoder threads (no -threads before the input).
    expect(full.args.slice(0, full.args.indexOf('-i'))).not.toContain('-threads');
    const off = buildFfmpegArgs({ streams, detectFps: 1, keyframeIntervalS: 1, allowKeyframeOnly: false, gray: { width: 160, height: 120 } });
    expect(off.args).not.toContain('-skip_frame');
  });

  it('can pipe colour frames as yuv420p (no colour conversion in ffmpeg), rgb24 by default', () => {
    const rgb = buildFfmpegArgs({ streams, detectFps: 1, rgb: { width: 640, height: 360 }, gray: { width: 160, height: 90 } });
    expect(rgb.colour).toBe('rgb24');
    const yuv = buildFfmpegArgs({ streams, detectFps: 1, rgb: { width: 640, height: 360 }, gray: { width: 160, height: 90 }, colour: 'yuv420p' });
    expect(yuv.colour).toBe('yuv420p');
    const fc = valueAfter(yuv.args, '-filter_complex')!;
    expect(fc).toContain('scale=640:360:flags=bilinear,format=yuv420p[rgb]');
    expect(fc).not.toContain('rgb24');
    expect(valueAfter(yuv.args, '-pix_fmt', yuv.args.indexOf('[rgb]'))).toBe('yuv420p');
    const single = buildFfmpegArgs({ streams, detectFps: 1, rgb: { width: 320, height: 180 }, colour: 'yuv420p' });
    expect(valueAfter(single.args, '-vf')).toMatch(/format=yuv420p$/);
    expect(() => buildFfmpegArgs({ streams, detectFps: 1, rgb: { width: 320, height: 180 }, colour: 'bgr24' as 'rgb24' })).toThrow(/colour must be rgb24 or yuv420p/);
  });

  it('leaves RTSP options off for files and reads them in real time only when asked', () => {
    const file = buildFfmpegArgs({ streams: { main: '/data/clip.mp4' }, detectFps: 1, gray: { width: 160, height: 120 } });
    expect(file.args).not.toContain('-rtsp_transport');
    expect(file.args).not.toContain('-re');
    expect(buildFfmpegArgs({ streams: { main: '/data/clip.mp4' }, detectFps: 1, gray: { width: 160, height: 120 }, realtime: true }).args).toContain('-re');
  });

  it('rejects settings that cannot work, saying which', () => {
    expect(() => buildFfmpegArgs({ streams, detectFps: 0, gray: { width: 160, height: 120 } })).toThrow(/detectFps/);
    expect(() => buildFfmpegArgs({ streams, detectFps: 1 })).toThrow(/rgb frames, gray frames or both/);
    expect(() => buildFfmpegArgs({ streams, detectFps: 1, rgb: { width: 641, height: 480 } })).toThrow(/rgb.width must be an even integer/);
    expect(() => buildFfmpegArgs({ streams: { main: '' }, detectFps: 1, gray: { width: 160, height: 120 } })).toThrow(/no stream URL/);
  });

  it('builds filter graphs the installed ffmpeg accepts', () => {
    // Real ffmpeg on a generated source: the graph parses and yields exactly the frames asked for.
    for (const [both, colour] of [[false, 'rgb24'], [true, 'rgb24'], [true, 'yuv420p']] as const) {
      const plan = buildFfmpegArgs({
        streams: { main: 'testsrc2=size=320x240:rate=10:duration=3' },
        detectFps: 2,
        gray: { width: 80, height: 60 },
        rgb: both ? { width: 160, height: 120 } : null,
        colour,
      });
      const args = [...plan.args];
      args.splice(args.indexOf('-i'), 0, '-f', 'lavfi');
      args.unshift('-y');
      if (both) args[args.indexOf('pipe:3')] = '/dev/null';
      const run = spawnSync('ffmpeg', args, { maxBuffer: 64 << 20 });
      // The ingest's log level tags each line; no error among them (what `-loglevel error` printed before).
      expect(run.stderr.toString().split('\n').filter((l) => l.trim() && errorLinesOnly(l) !== null)).toEqual([]);
      expect(run.status).toBe(0);
      const frameBytes = !both ? 80 * 60 : colour === 'rgb24' ? 160 * 120 * 3 : 160 * 120 * 1.5;
      // 3 s at 2 frames/s: one frame per half-second slot, never duplicated.
      expect(run.stdout.length).toBe(6 * frameBytes);
    }
  });

  it('runs the raw frame encoder on one thread on every output: frame threads held each picture back a frame', () => {
    for (const rgb of [null, { width: 640, height: 360 }]) {
      const { args } = buildFfmpegArgs({ streams, detectFps: 1, keyframeIntervalS: 1, rgb, gray: { width: 160, height: 90 } });
      const outputs = args.map((a, i) => (a.startsWith('pipe:') ? i : -1)).filter((i) => i >= 0);
      expect(outputs.length).toBe(rgb ? 2 : 1);
      let from = args.indexOf('-i');
      for (const end of outputs) {
        const opts = args.slice(from, end);
        expect(valueAfter(opts, '-threads')).toBe('1');
        expect(valueAfter(opts, '-f')).toBe('rawvideo');
        from = end;
      }
    }
  });
});

describe('on-demand decoding: buildKeyframeDecoderArgs', () => {
  it('decodes from stdin at once: no probing, one decoder and one encoder thread, no reordering delay', () => {
    const both = buildKeyframeDecoderArgs({ rgb: { width: 640, height: 360 }, colour: 'yuv420p', gray: { width: 160, height: 90 } });
    const input = both.indexOf('-i');
    expect(both[input + 1]).toBe('pipe:0');
    const before = both.slice(0, input);
    expect(valueAfter(before, '-f')).toBe('h264');
    expect(valueAfter(before, '-probesize')).toBe('32');
    expect(valueAfter(before, '-analyzeduration')).toBe('0');
    expect(valueAfter(before, '-threads')).toBe('1');
    expect(valueAfter(before, '-flags')).toBe('low_delay');
    expect(both.filter((a) => a === 'pipe:1' || a === 'pipe:3')).toEqual(['pipe:1', 'pipe:3']);
    expect(both.filter((a) => a === '-threads').length).toBe(3);
    expect(valueAfter(both, '-filter_complex')).toContain('format=yuv420p[rgb]');

    const grey = buildKeyframeDecoderArgs({ gray: { width: 160, height: 90 } });
    expect(grey.at(-1)).toBe('pipe:1');
    expect(valueAfter(grey, '-vf')).toBe('scale=160:90:flags=area,format=gray');
    expect(() => buildKeyframeDecoderArgs({})).toThrow(/rgb frames, gray frames or both/);
    expect(() => buildKeyframeDecoderArgs({ gray: { width: 161, height: 90 } })).toThrow(/gray.width must be an even integer/);
  });
});
