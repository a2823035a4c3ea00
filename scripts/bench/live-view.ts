/**
 * Live view benchmark: server CPU per viewed stream-second, our live view (the
 * camera's H.264 copied into fragmented MP4 by pipeline/live, fanned out in
 * Node) against what node-rtsp-stream does (ffmpeg re-encoding to MPEG-1 in
 * MPEG-TS for JSMpeg), same RTSP source, same run, one after the other.
 *
 *   npm run bench:live-view                         # 3 rounds of 15 s each, taking turns: medians
 *   npm run bench:live-view -- --seconds 20 --rounds 5
 *
 * Two sources: the simulator's vtest as served (640×480, 10 fps, ~210 kbit/s:
 * a sub-stream) and the same footage scaled to 1920×1080 at 25 fps (a main
 * stream, what a live view shows by default), made once with libx264 into the
 * temp folder.
 *
 * CPU is whole processes: the ffmpeg's user+system time (from /proc at the
 * end of its run) plus this Node process's own CPU while it relays the bytes
 * (the box scanner and fan-out for ours, a plain read for the peer). "Net"
 * subtracts this process's idle CPU (its least over 2-s windows) from both.
 * The RTSP simulator's CPU is charged to neither. With --rounds the two take
 * turns and the medians are compared: the machine's load changes between
 * rounds, and a round's two halves see about the same. Goal: ours ≤ 1/20 of
 * re-encoding.
 */
import { spawn } from 'node:child_process';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { silentLogger } from '../../pipeline/log/index.js';
import { processCpuSeconds } from '../../pipeline/runtime/index.js';
import { LiveViewHub } from '../../pipeline/live/index.js';
import { terminate } from '../../pipeline/video/terminate.js';
import { startRtspServer } from '../sim/rtsp-sim.js';
import { reportBench } from './report.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}

/** user+system CPU seconds of a live process (/proc); a process gone mid-measurement is an error, not a zero. */
function procCpuSeconds(pid: number): number {
  const s = processCpuSeconds(pid);
  if (s === null) throw new Error(`process ${pid} ended while measured`);
  return s;
}
const selfCpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Figure {
  name: string;
  wallS: number;
  ffmpegCpuS: number;
  nodeCpuS: number;
  bytes: number;
}

/** Waits for the first byte, then measures `seconds` of streaming. */
async function measure(name: string, seconds: number, start: (onBytes: (n: number) => void) => { pid: () => number; stop: () => Promise<void> }): Promise<Figure> {
  let bytes = 0;
  let first: () => void = () => undefined;
  const firstByte = new Promise<void>((r) => (first = r));
  const run = start((n) => {
    bytes += n;
    first();
  });
  await Promise.race([firstByte, sleep(20_000).then(() => Promise.reject(new Error(`${name}: no bytes in 20 s`)))]);
  // Start counting after the first bytes: probing and start-up are the same for both.
  const pid = run.pid();
  const ff0 = procCpuSeconds(pid);
  const node0 = selfCpu();
  const t0 = performance.now();
  const b0 = bytes;
  await sleep(seconds * 1000);
  const ffmpegCpuS = procCpuSeconds(pid) - ff0;
  const nodeCpuS = selfCpu() - node0;
  const wallS = (performance.now() - t0) / 1000;
  const got = bytes - b0;
  await run.stop();
  return { name, wallS, ffmpegCpuS, nodeCpuS, bytes: got };
}

/**
 * This process's CPU while idle, charged to neither: the least of several
 * 2-s windows, so that a burst of background work (GC, compilation) while the
 * baseline is taken is never subtracted from ours, which runs wholly in this
 * process.
 */
async function idleNodeCpu(seconds: number): Promise<number> {
  let least = Infinity;
  for (let i = 0; i < Math.max(1, Math.round(seconds / 2)); i++) {
    const c0 = selfCpu();
    const t0 = performance.now();
    await sleep(2000);
    least = Math.min(least, (selfCpu() - c0) / ((performance.now() - t0) / 1000));
  }
  return least;
}

function mainStreamClip(): string {
  const out = join(tmpdir(), 'portwatch-bench-vtest-1920x1080.mp4');
  if (existsSync(out)) return out;
  const src = fileURLToPath(new URL('../../test/fixtures/video/vtest-640x480.mp4', import.meta.url));
  console.log('making the 1920×1080 clip once (libx264)…');
  const r = spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-i', src, '-t', '30', '-vf', 'scale=1920:1080,fps=25', '-c:v', 'libx264', '-preset', 'veryfast', '-b:v', '4M', '-g', '50', '-bf', '0', '-pix_fmt', 'yuv420p', '-an', out], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error('ffmpeg could not make the 1920×1080 clip');
  return out;
}

async function compare(label: string, url: string, seconds: number, rounds: number, hub: LiveViewHub, idle: number): Promise<void> {
  const ours = () =>
    measure('fMP4 copy (pipeline/live)', seconds, (onBytes) => {
      const stop = hub.watch(label, { streams: { main: url } }, { write: (c) => onBytes(c.length), backlog: () => 0, end: () => undefined });
      return {
        pid: () => {
          const pid = hub.pids()[0];
          if (!pid) throw new Error('the live view has no ffmpeg running: nothing to measure');
          return pid;
        },
        stop: async () => {
          stop();
          while (hub.stats().streams > 0) await sleep(50);
        },
      };
    });
  const ffmpegRun = (name: string, args: string[]) => () =>
    measure(name, seconds, (onBytes) => {
      const child = spawn('ffmpeg', args, { stdio: ['ignore', 'pipe', 'ignore'] });
      child.stdout.on('data', (c: Buffer) => onBytes(c.length));
      return {
        pid: () => child.pid!,
        stop: () =>
          new Promise<void>((r) => {
            child.once('close', () => r());
            terminate(child);
          }),
      };
    });
  // node-rtsp-stream's ffmpeg command (lib/mpeg1muxer.js): MPEG-1 video in MPEG-TS at 30 fps on stdout.
  const peer = ffmpegRun('MPEG-1 re-encode (node-rtsp-stream)', ['-rtsp_transport', 'tcp', '-i', url, '-f', 'mpegts', '-codec:v', 'mpeg1video', '-r', '30', '-']);
  const gross = (f: Figure) => (f.ffmpegCpuS + f.nodeCpuS) / f.wallS;
  const net = (f: Figure) => f.ffmpegCpuS / f.wallS + Math.max(0, f.nodeCpuS / f.wallS - idle);
  const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
  console.log(`${label}, ${seconds} s each, ${rounds} round(s) taking turns:`);
  const runs: Figure[][] = [[], []];
  for (let r = 0; r < rounds; r++) {
    // Taking turns within each round: a change in the machine's load falls on both alike.
    for (const [i, run] of [ours, peer].entries()) {
      const f = await run();
      runs[i]!.push(f);
      console.log(
        `  ${f.name.padEnd(37)} ${net(f).toFixed(4)} CPU-s/s net of idle Node, ${gross(f).toFixed(4)} gross  (ffmpeg ${(f.ffmpegCpuS / f.wallS).toFixed(4)}, node ${(f.nodeCpuS / f.wallS).toFixed(4)}; ${((f.bytes * 8) / f.wallS / 1000).toFixed(0)} kbit/s to the viewer)`,
      );
    }
  }
  const [o, p] = runs.map((fs) => ({ net: median(fs.map(net)), gross: median(fs.map(gross)) }));
  console.log(`  medians: ours ${o!.net.toFixed(4)} net / ${o!.gross.toFixed(4)} gross, re-encode ${p!.net.toFixed(4)} / ${p!.gross.toFixed(4)}`);
  const ratio = o!.net / p!.net;
  console.log(`  ratio ours/re-encode: net 1/${(1 / ratio).toFixed(1)}, gross 1/${(p!.gross / o!.gross).toFixed(1)}; goal ≤ 1/20 (net): ${ratio <= 1 / 20 ? 'met' : 'NOT met'}`);
  reportBench({
    name: `live view, ${label}: H.264 copied into fMP4 vs MPEG-1 re-encoding (node-rtsp-stream), median of ${rounds}, net of idle Node`,
    ours: Number(o!.net.toFixed(4)),
    peer: Number(p!.net.toFixed(4)),
    unit: 'CPU-s per stream-second',
    better: 'lower',
    // The goal is for what a live view shows by default: the main stream.
    ...(label.startsWith('main') ? { goal: 20 } : {}),
  });
}

async function main(): Promise<void> {
  const seconds = Number(arg('seconds', '15'));
  // Several rounds: ffmpeg's CPU is read in 10-ms ticks (a few dozen for ours in a round), and the first
  // measurement after start-up still shares the process with background compilation.
  const rounds = Math.max(1, Number(arg('rounds', '3')));
  const hd = mainStreamClip();
  const server = await startRtspServer({ clips: { hd }, mounts: { '/sub': 'vtest', '/main': 'hd' } });
  const hub = new LiveViewHub({ logger: silentLogger() });
  try {
    // Warm up (module loading, JIT, the simulator's first client) before anything is measured.
    const warm = hub.watch('warm-up', { streams: { main: server.url('/sub') } }, { write: () => undefined, backlog: () => 0, end: () => undefined });
    await sleep(10_000);
    warm();
    const idle = await idleNodeCpu(Math.min(seconds, 10));
    console.log(`live view: CPU per viewed stream-second over RTSP, same run (idle Node baseline ${idle.toFixed(4)} CPU-s/s)`);
    await compare('sub-stream 640×480 10 fps (vtest)', server.url('/sub'), seconds, rounds, hub, idle);
    await compare('main stream 1920×1080 25 fps 4 Mbit/s (vtest scaled)', server.url('/main'), seconds, rounds, hub, idle);
  } finally {
    await hub.close();
    await server.stop();
  }
}

await main();
