/**
 * Camera pipeline benchmark, on simulated IP cameras (scripts/sim/rtsp-server.py)
 * that send what real port cameras send: an HD main stream (1280×720, 25 fps,
 * GOP 1 s, ~2 Mbit/s) and a sub-stream (640×360, 10 fps, GOP 1 s, ~0.5 Mbit/s),
 * both made from OpenCV's vtest footage by scripts/sim/prepare-footage.sh
 * --camera-streams into data/footage/ (made here at start when missing, ~35 s).
 *
 *   node --import tsx scripts/bench/cameras.ts [--model nanodet-int8] [--naive-model MODEL (default: --model)] [--cameras 5] [--seconds 20]
 *          [--ramp 10,20,40,60,80,100] [--ramp-seconds 20] [--busy-share 0.2] [--sessions 2]
 *          [--skip-cost] [--skip-ramp] [--ramp-decode on-demand|every-keyframe] [--footage data/footage]
 *          [--worker-cameras 60] [--activities busy,typical,idle] [--pipelines naive,keyframes,on-demand]
 * About 8 minutes with the defaults; the ramp stops at the first failing step.
 * Quick look at the cost only: --skip-ramp --cameras 4 --seconds 12 (~2 minutes).
 *
 * Part 1, cost: CPU-seconds per camera-second at 1 analysed frame/s, measured as
 * this process's CPU time (process.cpuUsage: JS, onnxruntime's threads) plus its
 * ffmpeg children's (utime + stime from /proc/<pid>/stat), over a window after
 * start-up. The RTSP server (the "cameras") is not counted. The process's own
 * baseline (detectors loaded, no camera) is measured first, once start-up has
 * settled: the lowest of four 4 s windows (~0.001 CPU-s per second; a single
 * window just after loading can catch V8's one-off clean-up and read 0.02).
 * A worker pays it once, so the figure compared is what a camera adds plus its
 * share of the baseline in a worker of --worker-cameras (60, the capacity
 * goal). The totals of the few cameras measured at once, which carry the whole
 * baseline, are printed too.
 *   (a) naive: what a straightforward implementation does: the HD main stream,
 *       every frame decoded, one frame per second sampled, the detector on every
 *       sampled frame, whole frame, one request at a time, with the model as
 *       converted (--naive-model, by default the same model as ours, so the
 *       pipelines are compared and not the models). (It still lets ffmpeg
 *       scale the frame to the 640×360 detect size before the RGB conversion, so
 *       its node side costs the same as ours per detector run: the comparison is
 *       conservative.)
 *   (b) ours, every keyframe: the sub-stream, keyframe-only decoding (the GOP allows it at 1 fps),
 *       motion gate on a grey grid, RGB only for frames the detector runs on,
 *       crops of the motion regions (at their own size when the model takes any
 *       size, as NanoDet does; the watch area instead of the whole frame),
 *       batched detection with the int8 model (--model, nanodet-int8: the
 *       example site's; docs/models.md), one ffmpeg per camera (`--decode every-keyframe`).
 *   (c) ours, on demand (the worker's default): the same, but the stream is
 *       received in this process (RTSP client, RTP depacketizer) and a camera
 *       whose compressed stream and pictures are still has a keyframe decoded
 *       every 4 s instead of every second, by an ffmpeg fed only those keyframes.
 * Each on "busy" cameras (people walking all the time: the worst case), on the
 * "typical" mix (--busy-share of the cameras busy, 20 % by default, the rest
 * showing an empty scene: the still clip) and on "idle" cameras only.
 *
 * Part 2, capacity: N cameras of the typical mix in this one process, like one
 * worker, ramped up; a step passes when, over its window, at most 1 % of the
 * frames were dropped (ingest or detector queue), at least 95 % of the expected
 * frames were analysed, and the 95th-percentile latency (frame cut → analysis
 * done) stayed under 2 s. The last passing N is what this machine sustains
 * right now; the CPU cost per camera-second gives what 2 free cores would.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../sim/rtsp-sim.js';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { CameraRunner, DetectorPool, ThreadedDetector, type CameraDetector, type CameraSpec } from '../../pipeline/camera/index.js';
import { BatchDetector, loadDetector, type Detector } from '../../pipeline/detect/index.js';
import { StartLimiter } from '../../pipeline/video/index.js';
import { silentLogger } from '../../pipeline/log/index.js';
import { processCpuSeconds } from '../../pipeline/runtime/index.js';
import type { ZoneSpec } from '../../pipeline/zones/index.js';
import { reportBench } from './report.js';

const PIPELINES_ALL = ['naive', 'keyframes', 'on-demand'] as const;
const { values: args } = parseArgs({
  options: {
    model: { type: 'string', default: 'nanodet-int8' },
    // The same model as ours by default: the pipelines are compared, not the models.
    'naive-model': { type: 'string' },
    cameras: { type: 'string', default: '5' },
    seconds: { type: 'string', default: '20' },
    ramp: { type: 'string', default: '10,20,40,60,80,100' },
    'ramp-seconds': { type: 'string', default: '20' },
    'busy-share': { type: 'string', default: '0.2' },
    'skip-cost': { type: 'boolean', default: false },
    sessions: { type: 'string', default: '2' },
    'skip-ramp': { type: 'boolean', default: false },
    footage: { type: 'string', default: 'data/footage' },
    'ramp-decode': { type: 'string', default: 'on-demand' },
    activities: { type: 'string', default: 'busy,typical,idle' },
    'worker-cameras': { type: 'string', default: '60' },
    pipelines: { type: 'string', default: PIPELINES_ALL.join(',') },
  },
});
const NAIVE_MODEL = args['naive-model'] ?? args.model;
const K = Number(args.cameras);
const SECONDS = Number(args.seconds);
const RAMP = args.ramp.split(',').map(Number).filter((n) => n > 0);
const RAMP_SECONDS = Number(args['ramp-seconds']);
const BUSY = Number(args['busy-share']);
const WARMUP_MS = 6000;
/**
 * The cost window opens after the start-up and, on demand, after the quiet
 * level is learnt (StreamActivity decodes every keyframe of a connection's
 * first 8 GOPs): a camera watched around the clock pays the steady state.
 */
const COST_WARMUP_MS = 12_000;
const WORKER_CAMERAS = Number(args['worker-cameras']);
const BASELINE_WINDOWS = 4;
const BASELINE_WINDOW_MS = 4000;
const RAMP_PIPELINE: Pipeline = args['ramp-decode'] === 'every-keyframe' ? 'keyframes' : 'on-demand';
/** On demand, a quiet camera decodes a keyframe every 4 s (OnDemandOptions.quietEveryS). */
const QUIET_EVERY_S = 4;
const out = (line: string) => process.stdout.write(`${line}\n`);
const logger = silentLogger();

// A restricted zone over part of the footpath, so the detector has something to look for.
const ZONE: ZoneSpec = { id: 'west-path', kind: 'restricted', polygon: [[0, 0.33], [0.28, 0.33], [0.28, 0.5], [0, 0.5]], classes: ['person'], min_dwell_seconds: 1 };

const CLIPS = {
  main: 'vtest-main-1280x720.mp4',
  sub: 'vtest-sub-640x360.mp4',
  'main-still': 'still-main-1280x720.mp4',
  'sub-still': 'still-sub-640x360.mp4',
} as const;

/** The HD main stream and sub-stream clips; made with prepare-footage.sh when missing. */
function ensureFootage(dir: string): void {
  if (Object.values(CLIPS).every((f) => existsSync(join(dir, f)))) return;
  out(`# making the camera streams in ${dir} (scripts/sim/prepare-footage.sh --camera-streams, ~35 s)`);
  execFileSync('sh', ['scripts/sim/prepare-footage.sh', '--camera-streams', dir], { stdio: ['ignore', 'ignore', 'inherit'] });
}

/** Busy camera i gets /main/NNN and /sub/NNN of its own; idle cameras share /main/idle and /sub/idle. */
async function startServer(busyCams: number, footage: string): Promise<{ port: number; child: ChildProcess }> {
  const port = await freePort();
  const argv = ['scripts/sim/rtsp-server.py', '--host', '127.0.0.1', '--port', String(port)];
  for (const [name, file] of Object.entries(CLIPS)) argv.push('--clip', `${name}=${join(footage, file)}`);
  argv.push('--mount', '/main/idle=main-still', '--mount', '/sub/idle=sub-still');
  for (let i = 1; i <= busyCams; i++) {
    const n = String(i).padStart(3, '0');
    argv.push('--mount', `/main/${n}=main`, '--mount', `/sub/${n}=sub`);
  }
  const child = spawn('/usr/bin/python3', argv, { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    let buf = '';
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      if (buf.includes('READY')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`rtsp-server exited with ${code}`)));
  });
  return { port, child };
}

/** CPU seconds of our ffmpeg children (live ones), by pid. */
function ffmpegCpu(): Map<number, number> {
  const m = new Map<number, number>();
  let pids: number[] = [];
  try {
    pids = execFileSync('pgrep', ['-P', String(process.pid), 'ffmpeg']).toString().trim().split('\n').filter(Boolean).map(Number);
  } catch {
    return m; // none
  }
  for (const pid of pids) {
    const cpu = processCpuSeconds(pid); // null: exited meanwhile
    if (cpu !== null) m.set(pid, cpu);
  }
  return m;
}

interface Window {
  wallS: number;
  selfCpuS: number;
  ffmpegCpuS: number;
}

async function measure(ms: number): Promise<Window> {
  const c0 = process.cpuUsage();
  const f0 = ffmpegCpu();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, ms));
  const c1 = process.cpuUsage(c0);
  const f1 = ffmpegCpu();
  let ff = 0;
  for (const [pid, v] of f1) ff += v - (f0.get(pid) ?? 0);
  return { wallS: (performance.now() - t0) / 1000, selfCpuS: (c1.user + c1.system) / 1e6, ffmpegCpuS: ff };
}

interface Run {
  runners: CameraRunner[];
  latencies: number[];
  stop(): Promise<void>;
}

function camerasFor(n: number, port: number, busyShare: number, naive: boolean): CameraSpec[] {
  const busyEvery = busyShare > 0 ? Math.round(1 / busyShare) : Infinity;
  let busyIndex = 0;
  return Array.from({ length: n }, (_, i) => {
    const busy = busyShare >= 1 || (busyShare > 0 && i % busyEvery === 0);
    const name = busy ? String(++busyIndex).padStart(3, '0') : 'idle';
    return {
      id: `bench-${String(i + 1).padStart(3, '0')}${busy ? '-busy' : '-idle'}`,
      streams: { main: `rtsp://127.0.0.1:${port}/main/${name}`, sub: `rtsp://127.0.0.1:${port}/sub/${name}` },
      // The naive pipeline reads the main stream, ours the sub-stream; both detect at 640×360.
      detect: { fps: 1, width: 640, height: 360, stream: naive ? 'main' : 'sub' },
      zones: [ZONE],
      tripwires: [],
      masks: [],
    };
  });
}

/** (a) naive; (b) ours decoding every keyframe (`--decode every-keyframe`); (c) ours decoding keyframes on demand (the worker's default). */
type Pipeline = 'naive' | 'keyframes' | 'on-demand';
const PIPELINES: Pipeline[] = PIPELINES_ALL.filter((p) => args.pipelines.split(',').includes(p));
const LABEL: Record<Pipeline, string> = { naive: '(a) naive', keyframes: '(b) ours, every keyframe', 'on-demand': '(c) ours, on demand (default)' };

function startRun(cameras: CameraSpec[], pipeline: Pipeline, detector: CameraDetector, labels: readonly string[]): Run {
  const naive = pipeline === 'naive';
  const latencies: number[] = [];
  const startLimiter = new StartLimiter(); // one per worker, as the camera service has
  const runners = cameras.map(
    (camera) =>
      new CameraRunner({
        camera,
        timeZone: 'UTC',
        detector,
        labels,
        sinks: {},
        logger,
        ungated: naive,
        allowKeyframeOnly: !naive,
        onDemand: pipeline === 'on-demand',
        startLimiter,
        keyframeIntervalS: 1,
        onFrame: (f) => latencies.push(f.latencyMs),
      }),
  );
  for (const r of runners) r.start();
  return { runners, latencies, stop: async () => void (await Promise.all(runners.map((r) => r.stop()))) };
}

const pct = (xs: number[], p: number) => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};
const f3 = (v: number) => v.toFixed(4);

async function main() {
  const maxCams = Math.max(K, ...(args['skip-ramp'] ? [] : RAMP));
  ensureFootage(args.footage);
  const server = await startServer(Math.max(K, Math.ceil(maxCams * Math.max(BUSY, 0.01)) + 1), args.footage);
  // Interrupted: take the simulator and the ffmpegs down with us (they are our children).
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      server.child.kill('SIGTERM');
      for (const pid of ffmpegCpu().keys()) process.kill(pid, 'SIGKILL');
      process.exit(130);
    });
  }
  const detector: Detector = await loadDetector(NAIVE_MODEL, { logger, maxBatch: 1 });
  // Ours runs each session in a worker thread (onnxruntime-node blocks the calling thread
  // for a whole inference); --sessions of them for the capacity ramp, one for the cost.
  const threads: ThreadedDetector[] = [];
  for (let i = 0; i < Math.max(1, Number(args.sessions)); i++) threads.push(await ThreadedDetector.start(args.model, { maxBatch: 4 }));
  // The naive pipeline: one session on the main thread, one request at a time.
  const single = detector;
  out(`# camera pipeline benchmark — ours with model ${args.model}, naive with ${NAIVE_MODEL}; 1 analysed frame/s at 640×360; main stream 1280×720 25 fps, sub-stream 640×360 10 fps, H.264 GOP 1 s`);
  out(`# machine: ${execFileSync('nproc').toString().trim()} cores, load average at start ${loadavg().map((l) => l.toFixed(1)).join(' ')} (shared with other work: figures are pessimistic)`);
  try {
    if (!args['skip-cost']) {
      // What this process costs with its detectors loaded and no camera (V8, the detector
      // threads' runtimes, timers): a worker pays it once, whatever its number of cameras.
      // The lowest of a few windows: a one-off clean-up after loading must not pass for a steady cost.
      const windows: number[] = [];
      for (let i = 0; i < BASELINE_WINDOWS; i++) {
        const w = await measure(BASELINE_WINDOW_MS);
        windows.push(w.selfCpuS / w.wallS);
      }
      const baseline = Math.min(...windows);
      out(`\n## cost: CPU-s per camera-second (${K} cameras at once, ${SECONDS} s window after ${COST_WARMUP_MS / 1000} s of start-up and learning)`);
      out(`process baseline, detectors loaded and no camera: ${f3(baseline)} CPU-s per second (lowest of ${windows.map(f3).join(', ')}); "in a worker" = what a camera adds (measured total less this baseline, per camera) + the baseline shared by ${WORKER_CAMERAS} cameras (--worker-cameras)`);
      out(`| pipeline | stream, decoding, model | activity | ffmpeg | node (motion, detect, track) | total, ${K} cameras | **in a worker of ${WORKER_CAMERAS}** | frames analysed | detector runs | crops |`);
      out('|---|---|---|---|---|---|---|---|---|---|');
      const measured: Record<string, number> = {};
      const results: Record<string, number> = {};
      const lagging: string[] = [];
      // The share of busy cameras actually in the typical mix (rounded to whole cameras).
      const share = camerasFor(K, 0, BUSY, false).filter((c) => c.id.endsWith('-busy')).length / K;
      out(`typical = ${Math.round(share * 100)} % of the ${K} cameras busy (--busy-share ${BUSY})`);
      const activities = (['busy', 'typical', 'idle'] as const).filter((a) => args.activities.split(',').includes(a));
      for (const activity of activities) {
        for (const pipeline of PIPELINES) {
          const naive = pipeline === 'naive';
          const batcher = naive ? null : new BatchDetector(threads[0]!, { logger, maxBatch: 4, maxQueue: 256 });
          const run = startRun(camerasFor(K, server.port, activity === 'busy' ? 1 : activity === 'idle' ? 0 : BUSY, naive), pipeline, batcher ?? single, detector.labels);
          await new Promise((r) => setTimeout(r, COST_WARMUP_MS));
          const before = run.runners.map((r) => r.stats());
          const w = await measure(SECONDS * 1000);
          const after = run.runners.map((r) => r.stats());
          await run.stop();
          await batcher?.close();
          const camS = K * w.wallS;
          const sum = (k: 'frames' | 'detectorRuns' | 'cropRuns') => after.reduce((n, s, i) => n + s[k] - before[i]![k], 0);
          const total = (w.selfCpuS + w.ffmpegCpuS) / camS;
          const inWorker = (w.selfCpuS + w.ffmpegCpuS - baseline * w.wallS) / camS + baseline / WORKER_CAMERAS;
          measured[`${pipeline}-${activity}`] = total;
          results[`${pipeline}-${activity}`] = inWorker;
          if (naive && sum('detectorRuns') < 0.95 * sum('frames')) {
            lagging.push(`${activity}: detector on ${sum('detectorRuns')} of ${sum('frames')} frames`);
          }
          const how = `${after[0]!.usedSubStream ? 'sub 640×360' : 'main 1280×720'}, ${after[0]!.onDemand ? 'keyframes on demand' : after[0]!.keyframeOnly ? 'every keyframe' : 'every frame'}, ${naive ? NAIVE_MODEL : args.model}`;
          out(`| ${LABEL[pipeline]} | ${how} | ${activity} | ${f3(w.ffmpegCpuS / camS)} | ${f3(w.selfCpuS / camS)} | ${f3(total)} | **${f3(inWorker)}** | ${sum('frames')} | ${sum('detectorRuns')} | ${sum('cropRuns')} |`);
        }
      }
      for (const a of PIPELINES.length === 3 ? activities : []) {
        const r = (p: Pipeline, t = results) => (t[`naive-${a}`]! / t[`${p}-${a}`]!).toFixed(1);
        out(`ratio naive/ours, ${a}, in a worker of ${WORKER_CAMERAS}: ${r('on-demand')}× on demand, ${r('keyframes')}× every keyframe (goal ≥ 10×); with ${K} cameras' totals: ${r('on-demand', measured)}×, ${r('keyframes', measured)}×`);
        const models = NAIVE_MODEL === args.model ? `both ${args.model}` : `ours ${args.model}, naive ${NAIVE_MODEL}: different models`;
        for (const p of ['on-demand', 'keyframes'] as const) {
          reportBench({
            name: `cameras, ${a}: ours ${p === 'on-demand' ? 'on demand' : 'every keyframe'} vs naive (main stream, every frame), ${models}`,
            ours: results[`${p}-${a}`]!,
            peer: results[`naive-${a}`]!,
            unit: `CPU-s per camera-second, in a worker of ${WORKER_CAMERAS}`,
            better: 'lower',
            ...(NAIVE_MODEL === args.model && a === 'typical' ? { goal: 10 } : {}),
          });
        }
      }
      if (lagging.length > 0) {
        out(`note: (a)'s one main-thread session fell behind (${lagging.join('; ')}): the frames it skipped cost it nothing, so (a) is understated and the ratios are conservative`);
      }
      // Busy cameras run the detector on every analysed frame in both pipelines: even an idle
      // camera costing nothing would leave ours at busyShare × busy cost.
      if (activities.length === 3 && PIPELINES.length === 3) {
      out(`ceiling for the typical ratio if idle cameras cost nothing: ${(results['naive-typical']! / (share * results['on-demand-busy']!)).toFixed(1)}× (${Math.round(share * 100)} % busy)`);
      out(`cameras per 2 free cores at typical activity, from the cost: ${(2 / results['on-demand-typical']!).toFixed(0)} on demand, ${(2 / results['keyframes-typical']!).toFixed(0)} every keyframe (goal ≥ 60); all busy: ${(2 / results['on-demand-busy']!).toFixed(0)}`);
      }
    }

    if (!args['skip-ramp']) {
      out(`\n## capacity: N cameras (${Math.round(BUSY * 100)} % busy) in one process, ${LABEL[RAMP_PIPELINE]}, ${threads.length} detector threads, ${RAMP_SECONDS} s per step`);
      out('| N | all up after | frames analysed / expected | dropped (ingest + detector) | p95 latency ms | max latency ms | CPU cores used | load avg | verdict |');
      out('|---|---|---|---|---|---|---|---|---|');
      let sustained = 0;
      for (const n of RAMP) {
        const batchers = threads.map((d) => new BatchDetector(d, { logger, maxBatch: 4, maxQueue: 256 }));
        const cameras = camerasFor(n, server.port, BUSY, false);
        const run = startRun(cameras, RAMP_PIPELINE, batchers.length === 1 ? batchers[0]! : new DetectorPool(batchers), detector.labels);
        // Capacity is the steady state: the window opens once every camera has shown a picture
        // (N processes starting at once on 2 cores take a while: printed as "all up after") and
        // the start-up has settled, or after 90 s whatever the state.
        const started = performance.now();
        while (performance.now() - started < 90_000 && run.runners.some((r) => r.stats().frames === 0)) await new Promise((r) => setTimeout(r, 250));
        const upAfterS = (performance.now() - started) / 1000;
        await new Promise((r) => setTimeout(r, Math.max(WARMUP_MS, upAfterS * 500)));
        const before = run.runners.map((r) => r.stats());
        run.latencies.length = 0;
        const w = await measure(RAMP_SECONDS * 1000);
        const after = run.runners.map((r) => r.stats());
        const lat = [...run.latencies];
        await run.stop();
        await Promise.all(batchers.map((b) => b.close()));
        const frames = after.reduce((k, s, i) => k + s.frames - before[i]!.frames, 0);
        const dropped = after.reduce((k, s, i) => k + s.dropped - before[i]!.dropped + s.detectorDropped - before[i]!.detectorDropped, 0);
        // Every keyframe: one frame a second from each camera. On demand: that from busy cameras, one per QUIET_EVERY_S from still ones.
        const busyCams = cameras.filter((c) => c.id.endsWith('-busy')).length;
        const expected = RAMP_PIPELINE === 'on-demand' ? (busyCams + (n - busyCams) / QUIET_EVERY_S) * w.wallS : n * w.wallS;
        const p95 = pct(lat, 95);
        const ok = dropped <= 0.01 * expected && frames >= 0.95 * expected && p95 < 2000;
        out(
          `| ${n} | ${upAfterS.toFixed(1)} s | ${frames} / ${Math.round(expected)} | ${dropped} | ${Math.round(p95)} | ${Math.round(Math.max(0, ...lat))} | ${((w.selfCpuS + w.ffmpegCpuS) / w.wallS).toFixed(2)} | ${loadavg()[0]!.toFixed(1)} | ${ok ? 'ok' : 'FAIL'} |`,
        );
        if (!ok) break;
        sustained = n;
      }
      out(`sustained here, now: ${sustained} cameras${sustained === RAMP.at(-1) ? ' (the largest step tried)' : ''}`);
      reportBench({ name: `cameras sustained in one worker process (${Math.round(BUSY * 100)} % busy, ${LABEL[RAMP_PIPELINE]})`, ours: sustained, unit: 'cameras', goal: '≥ 60', note: sustained === RAMP.at(-1) ? 'the largest step tried' : '' });
    }
  } finally {
    await detector.release();
    for (const t of threads) await t.close();
    server.child.kill('SIGTERM');
  }
}

await main();
