/**
 * Builds the ffmpeg command line for one camera. A pure function, so every
 * choice it makes (transport, timeouts, stream, scaling, sampling, keyframe-only
 * decoding) is tested without starting ffmpeg.
 */

export interface CameraStreams {
  /** Full-resolution stream. */
  main: string;
  /** Low-resolution sub-stream; preferred when present: decoding it costs a fraction. */
  sub?: string | null;
}

export interface FrameSize {
  width: number;
  height: number;
}

export interface IngestArgsOptions {
  streams: CameraStreams;
  /** Frames per second handed to motion/detection (e.g. 1–5). */
  detectFps: number;
  /** Colour frames for the detector (stdout). At least one of rgb and gray. */
  rgb?: FrameSize | null;
  /**
   * Pixel format of the colour frames. `rgb24` (default): what the detector
   * takes. `yuv420p`: the decoder's own format, so ffmpeg does no colour
   * conversion and pipes half the bytes; the consumer converts only the frames
   * the detector actually runs on (`yuv420pToRgb`). Most sampled frames of a
   * quiet camera never reach the detector.
   */
  colour?: 'rgb24' | 'yuv420p';
  /** Grey frames for motion and health (fd 3 when rgb is also produced, else stdout). */
  gray?: FrameSize | null;
  /**
   * The camera's keyframe interval in seconds (its GOP), when known. Keyframe-only
   * decoding is used when keyframes come at least as often as `detectFps` asks.
   */
  keyframeIntervalS?: number | null;
  /** Set false to decode every frame whatever the rates. Default true. */
  allowKeyframeOnly?: boolean;
  /** Socket I/O timeout. Default 10 s. */
  timeoutMs?: number;
  /** Use the main stream even when a sub-stream exists (e.g. for snapshots). */
  forceMain?: boolean;
  /** For file inputs: read at the file's own frame rate (`-re`), as a camera would deliver it. */
  realtime?: boolean;
}

export interface IngestPlan {
  args: string[];
  url: string;
  usedSubStream: boolean;
  keyframeOnly: boolean;
  /** Pixel format of the colour output. */
  colour: 'rgb24' | 'yuv420p';
  /** Which output carries what: fd 1 is stdout, fd 3 the extra pipe. */
  rgbFd: 1 | null;
  grayFd: 1 | 3 | null;
}

export function chooseStream(streams: CameraStreams, forceMain = false): { url: string; sub: boolean } {
  if (!forceMain && streams.sub) return { url: streams.sub, sub: true };
  return { url: streams.main, sub: false };
}

/**
 * The keyframe-only rule: decoding only keyframes (`-skip_frame nokey`) gives
 * one frame per GOP, so it is allowed when that is at least the sampling rate,
 * i.e. detectFps ≤ 1 / keyframeInterval (with 5 % slack for cameras whose GOP
 * is a frame or two off). Unknown GOP → decode everything: a wrong guess would
 * silently lower the analysed rate.
 */
export function keyframeOnlyAllowed(detectFps: number, keyframeIntervalS: number | null | undefined): boolean {
  if (!keyframeIntervalS || keyframeIntervalS <= 0 || !(detectFps > 0)) return false;
  return detectFps <= (1 / keyframeIntervalS) * 1.05;
}

function checkSize(name: string, size: FrameSize): void {
  for (const k of ['width', 'height'] as const) {
    const v = size[k];
    // Even sizes: odd ones make swscale round and the cutter would be off by a row.
    if (!Number.isInteger(v) || v < 2 || v > 8192 || v % 2 !== 0) {
      throw new RangeError(`${name}.${k} must be an even integer between 2 and 8192, got ${v}`);
    }
  }
}

/** Sampling that only ever drops frames: the first frame of each 1/fps slot. */
export function sampleFilter(fps: number): string {
  // `fps=` would duplicate the last frame to fill gaps after a stall; duplicates
  // look like a frozen picture and waste detector runs, so select instead.
  const f = Number(fps.toPrecision(6));
  return `select='isnan(prev_selected_t)+gte(floor(t*${f})-floor(prev_selected_t*${f}),1)'`;
}

/**
 * Options of every raw frame output. `-threads 1`: the rawvideo encoder is
 * frame-threaded by default and each of its threads holds a picture, so
 * without it every frame left ffmpeg one frame late: measured, keyframe-only
 * decoding of a 1 s GOP handed each picture out when the next keyframe was
 * decoded, a second after it arrived (183 ms to the first frame with it,
 * 1141 ms without). `-fps_mode passthrough`: never let the muxer duplicate
 * frames to keep a constant rate.
 */
const RAW_OUT = ['-threads', '1', '-fps_mode', 'passthrough', '-f', 'rawvideo'] as const;

/** The ingest's ffmpeg log level; `parseFfmpegLine` reads its lines. */
export const INGEST_LOG_LEVEL = 'level+verbose';

export function buildFfmpegArgs(o: IngestArgsOptions): IngestPlan {
  if (!(o.detectFps > 0) || o.detectFps > 60) throw new RangeError(`detectFps must be in (0, 60], got ${o.detectFps}`);
  if (!o.rgb && !o.gray) throw new RangeError('ask for rgb frames, gray frames or both');
  if (o.rgb) checkSize('rgb', o.rgb);
  if (o.gray) checkSize('gray', o.gray);
  const { url, sub } = chooseStream(o.streams, o.forceMain);
  if (!url) throw new RangeError('camera has no stream URL');
  const keyframeOnly = (o.allowKeyframeOnly ?? true) && keyframeOnlyAllowed(o.detectFps, o.keyframeIntervalS);
  const timeoutUs = Math.round((o.timeoutMs ?? 10_000) * 1000);

  // `level+verbose`: each line tagged with its level, so errors are told from the rest, and the
  // decoder's `Reinit context to WxH` line says when the camera's resolution changes (ffmpeg
  // re-initialises the decoder and the scalers by itself; nothing at the error level says so).
  // The ingest keeps the error lines and that one; the few others (start-up listing) are dropped.
  const args = ['-hide_banner', '-nostdin', '-nostats', '-loglevel', INGEST_LOG_LEVEL];
  const isRtsp = /^rtsps?:/i.test(url);
  if (isRtsp) {
    // TCP: UDP loses packets under load and through NAT, and smeared frames look like motion.
    // -timeout is the RTSP socket I/O timeout in µs (ffmpeg ≥ 5; `-stimeout` before).
    args.push('-rtsp_transport', 'tcp', '-timeout', String(timeoutUs));
  }
  // Start within a second instead of probing 5 s of stream. Not `-fflags nobuffer`: it
  // throws away the frames read while probing (the first second of a clip).
  args.push('-analyzeduration', '1000000', '-probesize', '1000000');
  // One decoder thread when decoding keyframes only: frame threading then buys
  // nothing (one frame a second) but costs wake-ups and holds each picture back
  // by a frame per thread, i.e. seconds of latency. Measured on a 640×360 sub-stream:
  // 0.010 → 0.0085 CPU-s per stream-second.
  if (keyframeOnly) args.push('-threads', '1', '-skip_frame', 'nokey');
  if (o.realtime && !isRtsp) args.push('-re');
  args.push('-i', url, '-an', '-sn', '-dn');

  const sample = sampleFilter(o.detectFps);
  const colour = o.colour ?? 'rgb24';
  if (colour !== 'rgb24' && colour !== 'yuv420p') throw new RangeError(`colour must be rgb24 or yuv420p, got ${String(colour)}`);
  const outputs: string[] = [];
  let rgbFd: 1 | null = null;
  let grayFd: 1 | 3 | null = null;
  if (o.rgb && o.gray) {
    const fc =
      `[0:v:0]${sample},split=2[a][b];` +
      `[a]scale=${o.rgb.width}:${o.rgb.height}:flags=bilinear,format=${colour}[rgb];` +
      `[b]scale=${o.gray.width}:${o.gray.height}:flags=area,format=gray[gray]`;
    args.push('-filter_complex', fc);
    outputs.push('-map', '[rgb]', ...RAW_OUT, '-pix_fmt', colour, 'pipe:1');
    outputs.push('-map', '[gray]', ...RAW_OUT, '-pix_fmt', 'gray', 'pipe:3');
    rgbFd = 1;
    grayFd = 3;
  } else {
    const size = (o.rgb ?? o.gray)!;
    const fmt = o.rgb ? colour : 'gray';
    args.push('-map', '0:v:0', '-vf', `${sample},scale=${size.width}:${size.height}:flags=${o.rgb ? 'bilinear' : 'area'},format=${fmt}`);
    outputs.push(...RAW_OUT, '-pix_fmt', fmt, 'pipe:1');
    if (o.rgb) rgbFd = 1;
    else grayFd = 1;
  }
  args.push(...outputs);
  return { args, url, usedSubStream: sub, keyframeOnly, colour, rgbFd, grayFd };
}

export interface KeyframeDecoderArgsOptions {
  /** Colour frame for the detector (fd 1), or null for grey only. */
  rgb?: FrameSize | null;
  colour?: 'rgb24' | 'yuv420p';
  /** Grey frame for motion and health (fd 3 with colour, else fd 1). */
  gray?: FrameSize | null;
}

/**
 * The decoding half: a long-lived ffmpeg reading chosen keyframes from stdin
 * (raw H.264, each followed by an AUD) and writing each picture at once.
 * Every option here is needed for "at once", measured by feeding keyframes one
 * by one: without `-probesize 32 -analyzeduration 0` the first picture waits
 * for more input; without `-threads 1` on the input (frame-threaded decoding)
 * and on each output (frame-threaded rawvideo encoder) each picture comes out
 * one to two keyframes late; the AUD after a keyframe is what tells the parser
 * the picture is complete. `-flags low_delay`: no reordering delay (IP
 * cameras send no B-frames; a stream that has them is still decoded right,
 * only later).
 */
export function buildKeyframeDecoderArgs(o: KeyframeDecoderArgsOptions): string[] {
  if (!o.rgb && !o.gray) throw new RangeError('ask for rgb frames, gray frames or both');
  if (o.rgb) checkSize('rgb', o.rgb);
  if (o.gray) checkSize('gray', o.gray);
  const colour = o.colour ?? 'rgb24';
  // The ingest's level: errors told from the rest, and the decoder's size line (a resolution change).
  const args = ['-hide_banner', '-nostdin', '-nostats', '-loglevel', INGEST_LOG_LEVEL];
  // Global: one filter thread (slice threads on a 640×360 scale are wake-ups, not speed).
  args.push(o.rgb && o.gray ? '-filter_complex_threads' : '-filter_threads', '1');
  args.push('-probesize', '32', '-analyzeduration', '0', '-threads', '1', '-flags', 'low_delay', '-f', 'h264', '-i', 'pipe:0');
  if (o.rgb && o.gray) {
    const fc =
      `[0:v:0]split=2[a][b];` +
      `[a]scale=${o.rgb.width}:${o.rgb.height}:flags=bilinear,format=${colour}[rgb];` +
      `[b]scale=${o.gray.width}:${o.gray.height}:flags=area,format=gray[gray]`;
    args.push('-filter_complex', fc);
    args.push('-map', '[rgb]', ...RAW_OUT, '-pix_fmt', colour, 'pipe:1');
    args.push('-map', '[gray]', ...RAW_OUT, '-pix_fmt', 'gray', 'pipe:3');
  } else {
    const size = (o.rgb ?? o.gray)!;
    const fmt = o.rgb ? colour : 'gray';
    args.push('-map', '0:v:0', '-vf', `scale=${size.width}:${size.height}:flags=${o.rgb ? 'bilinear' : 'area'},format=${fmt}`);
    args.push(...RAW_OUT, '-pix_fmt', fmt, 'pipe:1');
  }
  return args;
}
