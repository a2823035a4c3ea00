import { existsSync, readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { analyzeClip } from '../../pipeline/camera/index.js';
import { ConfigError, loadSiteConfig, type CameraConfig } from '../../pipeline/config/index.js';
import { loadDetector, manifestPath, type Detector } from '../../pipeline/detect/index.js';
import { createLogger } from '../../pipeline/log/index.js';
import { parseVisitLabels, scoreVisits, type ScoredEventRow, type VisitLabels } from '../../pipeline/zones/visit-score.js';
import { CliError } from '../cli-error.js';

interface AnalyzeCliOptions {
  site: string;
  camera: string;
  model?: string;
  modelsDir?: string;
  fps?: number;
  start?: string;
  snapshots?: string;
  threshold?: number;
  duration?: number;
  stats?: boolean;
  labels?: string;
}

const round = (v: number, digits = 3) => Number(v.toFixed(digits));

function positive(flag: string, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0 || n > max) throw new CliError(`${flag} must be a number in (0, ${max}], got "${value}"`, 2);
    return n;
  };
}

/**
 * `portwatch analyze VIDEO --site FILE --camera ID`: one clip through the camera
 * pipeline (motion → detect → track → zones), no Redis, no database. One JSON
 * line per event on stdout; operators tune zones with it, tests use it.
 */
export function registerAnalyzeCommand(program: Command): void {
  program
    .command('analyze')
    .description("Run a video clip through a camera's motion → detect → track → zones path; prints one JSON line per event (t = seconds from the clip start)")
    .argument('<video>', 'a video file (or any URL ffmpeg reads)')
    .requiredOption('--site <file>', 'the site file whose camera zones, tripwires, masks and detect settings apply')
    .requiredOption('--camera <id>', 'the camera of the site file the clip comes from')
    .option('-m, --model <name>', "model name (default: the camera's detect.model)")
    .option('--models-dir <dir>', 'folder holding the model manifests and .onnx files')
    .option('--fps <n>', "analysed frames per second (default: the camera's detect.fps)", positive('--fps', 30))
    .option('--threshold <x>', 'detector score threshold (default 0.3)', positive('--threshold', 1))
    .option('--duration <s>', 'analyse only the first S seconds of the clip', positive('--duration', 1e7))
    .option('--start <iso>', 'wall time of the first frame, for zone schedules (default: now)')
    .option('--snapshots <dir>', 'write event snapshots (JPEG with boxes and zones) under this folder')
    .option('--stats', 'print a summary line on stderr at the end')
    .option('--labels <file>', 'visits labelled by eye (JSON, see test/fixtures/video/vtest-zone-visits.json): score the events against them, one JSON line per zone and rule on stderr')
    .action(async (video: string, opts: AnalyzeCliOptions) => {
      if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(video) && !existsSync(video)) throw new CliError(`${video}: no such file`, 2);
      let site;
      try {
        // Stream credentials are irrelevant here: the clip replaces the stream.
        site = loadSiteConfig(opts.site, { env: process.env, allow_missing_env: true });
      } catch (err) {
        if (err instanceof ConfigError) throw new CliError(err.message, 2);
        throw new CliError(`${opts.site}: ${(err as Error).message}`, 2);
      }
      const camera = site.cameras.find((c: CameraConfig) => c.id === opts.camera);
      if (!camera) {
        const ids = site.cameras.map((c: CameraConfig) => c.id);
        throw new CliError(
          `--camera ${opts.camera}: no such camera in ${opts.site} (${ids.length} cameras: ${ids.slice(0, 10).join(', ')}${ids.length > 10 ? ', …' : ''})`,
          2,
        );
      }
      let start: Date | undefined;
      if (opts.start !== undefined) {
        start = new Date(opts.start);
        if (Number.isNaN(start.getTime())) throw new CliError(`--start must be an ISO date-time such as 2026-11-27T08:00:00+08:00, got "${opts.start}"`, 2);
      }
      let labels: VisitLabels | null = null;
      if (opts.labels) {
        try {
          labels = parseVisitLabels(readFileSync(opts.labels, 'utf8'), opts.labels, camera.zones.map((z) => z.id));
        } catch (err) {
          throw new CliError((err as Error).message, 2);
        }
      }
      const model = opts.model ?? camera.detect.model;
      const logger = createLogger({ level: 'warn', name: 'portwatch-analyze' });
      let detector: Detector;
      try {
        detector = await loadDetector(manifestPath(model, opts.modelsDir), { logger, maxBatch: 1 });
      } catch (err) {
        if (!existsSync(manifestPath(model, opts.modelsDir))) throw new CliError(`no model "${model}": ${manifestPath(model, opts.modelsDir)} does not exist`, 2);
        throw new CliError((err as Error).message, 1);
      }
      const spec = { ...camera, detect: { ...camera.detect, ...(opts.fps ? { fps: opts.fps } : {}) } };
      const counts = { frames: 0, detectorRuns: 0, fullFrame: 0, events: 0 };
      const rows: ScoredEventRow[] = [];
      const clipStart = start ?? new Date();
      try {
        for await (const { event: e, t } of analyzeClip(video, {
          camera: spec,
          timeZone: site.site.timezone,
          detector,
          labels: detector.labels,
          logger,
          start: clipStart,
          ...(opts.threshold ? { threshold: opts.threshold } : {}),
          ...(opts.duration ? { durationS: opts.duration } : {}),
          ...(opts.snapshots ? { snapshotRoot: opts.snapshots } : {}),
          onFrame: (f) => {
            counts.frames++;
            if (f.detectorRan) counts.detectorRuns++;
            if (f.detectorRan && f.fullFrame) counts.fullFrame++;
          },
        })) {
          counts.events++;
          const line = {
            t,
            kind: e.kind,
            phase: e.phase,
            camera: e.camera ?? camera.id,
            zone: e.zone ?? null,
            track: e.track ?? null,
            class: e.class ?? null,
            score: e.score == null ? null : round(e.score),
            bbox: e.bbox ? e.bbox.map((v) => Math.round(v)) : null,
            id: e.id,
            ...(e.snapshot ? { snapshot: e.snapshot } : {}),
            details: e.details ?? {},
          };
          process.stdout.write(`${JSON.stringify(line)}\n`);
          if (labels) rows.push({ t, id: e.id, kind: e.kind, phase: e.phase, zone: e.zone ?? null, track: e.track ?? null, details: e.details ?? {} });
        }
      } catch (err) {
        throw new CliError((err as Error).message, 1);
      } finally {
        await detector.release?.();
      }
      if (labels) {
        // Scored up to where the clip was analysed: later visits are not held against it.
        const clipSeconds = Math.min(labels.clip_seconds, counts.frames / spec.detect.fps);
        const visits = labels.visits.filter((v) => v.entry < clipSeconds).map((v) => (v.exit !== null && v.exit > clipSeconds ? { ...v, exit: null } : v));
        const score = scoreVisits(camera.zones, visits, rows, { clipSeconds, clipStartMs: clipStart.getTime() });
        for (const r of [...score.rules, score.totals.unauthorized_access, score.totals.loitering]) {
          const { pairs: _p, missed, unmatched, ...figures } = r;
          process.stderr.write(
            `${JSON.stringify({ score: figures, missed: missed.map((v) => ({ entry: v.entry, exit: v.exit, who: v.who })), unmatched: unmatched.map((e) => ({ id: e.id, track: e.track, entered: round(e.entered), end: round(e.end) })) })}\n`,
          );
        }
      }
      if (opts.stats) {
        process.stderr.write(
          `analyze: ${counts.frames} frames at ${spec.detect.fps} fps, detector on ${counts.detectorRuns} (${counts.fullFrame} whole-frame), ${counts.events} events\n`,
        );
      }
    });
}
