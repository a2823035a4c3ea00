import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { buildFfmpegArgs, type FrameSize, type IngestArgsOptions } from './ffmpeg-args.js';
import { FrameCutter } from './frame-cutter.js';
import { classifyFfmpegExit, errorLinesOnly, StderrTail } from './ingest-reason.js';
import type { VideoFrame } from './ingest.js';
import { redactCredentials } from './redact.js';

export interface ReadVideoOptions extends Omit<IngestArgsOptions, 'streams' | 'colour'> {
  camera?: string;
  ffmpegPath?: string;
  /** Stop after this many frames (ffmpeg is killed). */
  maxFrames?: number;
}

export interface FileFrame extends VideoFrame {
  /** Seconds from the start of the clip: the sampling slot the frame fell in (index / detectFps). */
  t: number;
}

/**
 * Every sampled frame of a clip (or any URL) through the same ffmpeg arguments
 * as live ingest, for offline analysis and tests. Unlike live ingest nothing is
 * dropped: ffmpeg's pipes are paused while the consumer works.
 */
export async function* readVideoFrames(source: string, o: ReadVideoOptions): AsyncGenerator<FileFrame> {
  // Files are analysed offline frame by frame: RGB straight from ffmpeg.
  const plan = buildFfmpegArgs({ ...o, colour: 'rgb24', streams: { main: source } });
  const child = spawn(o.ffmpegPath ?? 'ffmpeg', plan.args, {
    stdio: ['ignore', 'pipe', 'pipe', ...(plan.grayFd === 3 ? (['pipe'] as const) : [])],
  });
  const tail = new StderrTail(10, errorLinesOnly);
  child.stderr!.on('data', (d: Buffer) => tail.push(d));
  const outs: Array<{ stream: Readable; cut: FrameCutter; q: Buffer[]; ended: boolean; kind: 'rgb' | 'gray' }> = [];
  const add = (fd: number, size: FrameSize, bpp: number, kind: 'rgb' | 'gray') =>
    outs.push({ stream: child.stdio[fd] as Readable, cut: new FrameCutter(size.width * size.height * bpp), q: [], ended: false, kind });
  if (plan.rgbFd && o.rgb) add(plan.rgbFd, o.rgb, 3, 'rgb');
  if (plan.grayFd && o.gray) add(plan.grayFd, o.gray, 1, 'gray');

  let wake: (() => void) | null = null;
  const poke = () => {
    const w = wake;
    wake = null;
    w?.();
  };
  for (const out of outs) {
    out.stream.on('data', (chunk: Buffer) => {
      for (const f of out.cut.push(chunk)) out.q.push(f);
      if (out.q.length >= 4) out.stream.pause();
      poke();
    });
    out.stream.on('end', () => {
      out.ended = true;
      poke();
    });
  }
  let exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  let spawnError: Error | null = null;
  child.on('error', (e) => {
    spawnError = e;
    poke();
  });
  child.on('close', (code, signal) => {
    exit = { code, signal };
    poke();
  });

  let index = 0;
  const fps = o.detectFps;
  try {
    while (true) {
      if (outs.every((x) => x.q.length > 0)) {
        const rgb = outs.find((x) => x.kind === 'rgb')?.q.shift() ?? null;
        const gray = outs.find((x) => x.kind === 'gray')?.q.shift() ?? null;
        for (const x of outs) if (x.q.length < 2) x.stream.resume();
        const t = index / fps;
        yield {
          camera: o.camera ?? 'file',
          seq: index++,
          time: new Date(),
          monoMs: performance.now(),
          t,
          rgb,
          yuv: null,
          rgbSize: rgb ? o.rgb! : null,
          gray,
          graySize: gray ? o.gray! : null,
          keyframeOnly: plan.keyframeOnly,
        };
        if (o.maxFrames !== undefined && index >= o.maxFrames) return;
        continue;
      }
      if (spawnError) throw new Error(`cannot start ffmpeg (${(spawnError as Error).message}); install it with: apt-get install ffmpeg`);
      if (outs.some((x) => x.ended && x.q.length === 0) && (exit || outs.every((x) => x.ended))) {
        if (!exit) await new Promise<void>((r) => child.once('close', () => r()));
        const e = exit as { code: number | null; signal: NodeJS.Signals | null } | null;
        if (e && e.code !== 0 && !e.signal) {
          const reason = classifyFfmpegExit(tail.get(), e.code);
          throw new Error(`ffmpeg could not read ${redactCredentials(source)} (${reason}): ${tail.get().at(-1) ?? `exit code ${e.code}`}`);
        }
        return;
      }
      await new Promise<void>((r) => (wake = r));
    }
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}
