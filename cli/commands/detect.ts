import { existsSync, readdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Command } from 'commander';
import { createLogger } from '../../pipeline/log/index.js';
import { type Detector, type DetectRequest, loadDetector, manifestPath, readJpegFile } from '../../pipeline/detect/index.js';
import { CliError } from '../cli-error.js';

interface DetectCliOptions {
  model: string;
  threshold?: number;
  modelsDir?: string;
  threads: number;
  batch: number;
  classes?: string[];
}

function parseThreshold(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n > 1) throw new CliError(`--threshold must be a number between 0 and 1, got "${value}"`, 2);
  return n;
}

function parsePositiveInt(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new CliError(`${flag} must be a positive integer, got "${value}"`, 2);
    return n;
  };
}

const round = (v: number, digits: number) => Number(v.toFixed(digits));

export function registerDetectCommand(program: Command): void {
  program
    .command('detect')
    .description('Run an object detector on JPEG images; prints one JSON line per image with boxes in source pixels')
    .argument('<image...>', 'JPEG files')
    .option('-m, --model <name>', 'model name: a manifest models/<name>.json (centernet, nanodet, nanodet-int8, or your own)', 'centernet')
    .option('-t, --threshold <x>', 'score threshold 0..1 (default: the model manifest default_threshold)', parseThreshold)
    .option('--models-dir <dir>', 'folder holding the model manifests and .onnx files (default: the repository models/)')
    .option('--threads <n>', 'onnxruntime intra-op threads', parsePositiveInt('--threads'), 1)
    .option('--batch <n>', 'images per inference call', parsePositiveInt('--batch'), 4)
    .option('--classes <list>', 'comma-separated labels to keep, e.g. person,truck', (v: string) => v.split(',').map((s) => s.trim()).filter(Boolean))
    .action(async (images: string[], opts: DetectCliOptions) => {
      const logger = createLogger({ level: 'warn', name: 'portwatch-detect' });
      const file = manifestPath(opts.model, opts.modelsDir);
      let detector: Detector;
      try {
        detector = await loadDetector(file, { logger, intraOpNumThreads: opts.threads, maxBatch: opts.batch });
      } catch (err) {
        if (!existsSync(file)) {
          const dir = dirname(file);
          const known = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.json') && !f.endsWith('.calibration.json')).map((f) => f.slice(0, -5)).sort() : [];
          throw new CliError(`no model "${opts.model}": ${file} does not exist (models in ${dir}: ${known.join(', ') || 'none'})`, 2);
        }
        throw new CliError((err as Error).message, 1);
      }
      if (opts.classes) {
        const unknown = opts.classes.filter((c) => !detector.labels.includes(c));
        if (unknown.length > 0) throw new CliError(`--classes: ${unknown.join(', ')} not among the labels of model ${opts.model}`, 2);
      }
      let failed = 0;
      try {
        // Decode a batch at a time so a long image list does not hold every bitmap in memory.
        for (let start = 0; start < images.length; start += opts.batch) {
          const chunk = images.slice(start, start + opts.batch);
          const decoded = await Promise.all(chunk.map((path) => readJpegFile(path).then((image) => ({ path, image }), (error: Error) => ({ path, error }))));
          const ok = decoded.flatMap((d, i) => ('image' in d ? [{ i, image: d.image }] : []));
          const outcomes = await detector.detectBatch(ok.map(({ image }): DetectRequest => ({ image, threshold: opts.threshold, classes: opts.classes })));
          const byIndex = new Map(ok.map(({ i }, k) => [i, outcomes[k]!]));
          for (const [i, d] of decoded.entries()) {
            const outcome = 'error' in d ? { ok: false as const, error: d.error } : byIndex.get(i)!;
            if (!outcome.ok) {
              failed++;
              process.stderr.write(`portwatch detect: ${outcome.error.message}\n`);
              continue;
            }
            const detections = outcome.detections.map((x) => ({ class: x.class, score: round(x.score, 3), box: x.box.map((v) => round(v, 1)) }));
            process.stdout.write(`${JSON.stringify({ image: d.path, detections })}\n`);
          }
        }
      } finally {
        await detector.release();
      }
      if (failed > 0) throw new CliError(`${failed} of ${images.length} images could not be read`, 1);
    });
}
