import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ort from 'onnxruntime-node';
import type { Box } from '../events/types.js';
import type { Logger } from '../log/index.js';
import { type Decoder, decoderFor } from './decoders/index.js';
import { ImageError, type RgbImage, clampRegion } from './image.js';
import { ManifestError, type ModelManifest, inputSize, loadManifest } from './manifest.js';
import { nmsByClass } from './nms.js';
import { type Placement, fillInput, itemSize, toSourceBox } from './preprocess.js';
import type { Detection } from './types.js';

export interface DetectorOptions {
  logger: Logger;
  /** Threads one inference uses (onnxruntime intra-op pool). Default 1: scale out with processes, not threads. */
  intraOpNumThreads?: number;
  /**
   * Let idle intra-op threads spin waiting for work (onnxruntime's default).
   * Off by default: spinning lowers latency a little but burns CPU that other
   * camera workers on the same host need. Only matters with more than 1 thread.
   */
  spinning?: boolean;
  /** Largest batch one session.run receives; bigger requests are split. Default 4 (on CPU, 8 measured no better: docs/detect.md). */
  maxBatch?: number;
  /** Check the .onnx file against the manifest's sha256 before loading. Default true. */
  verifySha256?: boolean;
  /** Most detections kept per image after NMS. Default 100. */
  maxDetections?: number;
}

/** One image (or a region of one) to run the detector on. */
export interface DetectRequest {
  image: RgbImage;
  /** Only look inside this box (source pixels), e.g. a motion region; boxes still come back in source pixels. */
  region?: Box;
  /** Score threshold; defaults to the manifest's default_threshold. */
  threshold?: number;
  /** Keep only these labels (allow-list); unknown names are an error. */
  classes?: readonly string[];
}

/** Outcome of one request in a batch: its detections, or the error that concerned only it. */
export type DetectOutcome = { ok: true; detections: Detection[] } | { ok: false; error: Error };

/** The models folder of this repository (models/*.json manifests, models/*.onnx built by the bootstrap). */
export function defaultModelsDir(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '../../models');
}

/** Path of the manifest for a model name, e.g. "centernet" → models/centernet.json. */
export function manifestPath(name: string, modelsDir = defaultModelsDir()): string {
  return join(modelsDir, `${name}.json`);
}

/**
 * Loads a detector by model name ("centernet" → <modelsDir>/centernet.json)
 * or by manifest path (anything ending in .json).
 */
export function loadDetector(model: string, options: DetectorOptions & { modelsDir?: string }): Promise<Detector> {
  return Detector.load(model.endsWith('.json') ? model : manifestPath(model, options.modelsDir), options);
}

export class ModelFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelFileError';
  }
}

/**
 * One ONNX model with its manifest, on one onnxruntime session. Requests are
 * preprocessed straight into one preallocated input buffer and run as one
 * batch when the model's batch dimension is dynamic, one by one when it is
 * fixed at 1. Calls are serialised (the buffer is reused), so share one
 * Detector per model per process and put a BatchDetector in front of it.
 */
export class Detector {
  readonly name: string;
  readonly maxBatch: number;
  private readonly decoder: Decoder;
  private readonly labelIndex: Map<string, number>;
  private readonly input: Float32Array;
  private readonly perItem: number;
  private readonly inputDims: [number, number, number, number];
  private readonly maxDetections: number;
  private batchable: boolean;
  private chain: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly manifest: ModelManifest,
    private readonly session: ort.InferenceSession,
    private readonly logger: Logger,
    options: DetectorOptions,
  ) {
    this.name = manifest.name;
    this.decoder = decoderFor(manifest.output);
    this.labelIndex = new Map(manifest.labels.map((l, i) => [l, i]));
    this.maxDetections = options.maxDetections ?? 100;
    const [batchDim, a, b, c] = manifest.input.shape;
    this.inputDims = [1, a, b, c];
    this.batchable = batchDim === -1 && sessionBatchDynamic(session, manifest.input.name);
    if (!this.batchable) {
      logger.info({ model: this.name }, `model ${this.name}: batch dimension fixed at 1, batches run one item at a time`);
    }
    this.maxBatch = this.batchable ? Math.max(1, options.maxBatch ?? 4) : 1;
    this.perItem = itemSize(manifest.input);
    this.input = new Float32Array(this.perItem * Math.max(1, options.maxBatch ?? 4));
  }

  /** Loads models/<name>.json (or any manifest path) and the .onnx file next to it. */
  static async load(manifestFile: string, options: DetectorOptions): Promise<Detector> {
    const manifest = await loadManifest(manifestFile);
    const onnxFile = resolve(dirname(manifestFile), manifest.file);
    let bytes: Buffer;
    try {
      bytes = await readFile(onnxFile);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new ModelFileError(
        code === 'ENOENT'
          ? `${onnxFile}: model file missing; it is built, not committed: run \`npm run bootstrap\` (or node --import tsx scripts/models/convert.ts)`
          : `${onnxFile}: ${(err as Error).message}`,
      );
    }
    if (options.verifySha256 !== false) {
      const actual = createHash('sha256').update(bytes).digest('hex');
      if (actual !== manifest.sha256) {
        throw new ModelFileError(
          `${onnxFile}: sha256 ${actual} does not match ${manifest.sha256} in ${manifestFile}; rebuild the model (npm run bootstrap) or update the manifest`,
        );
      }
    }
    return Detector.create(manifest, bytes, options, onnxFile);
  }

  /** Builds a detector from a validated manifest and the model bytes (tests, models kept elsewhere). */
  static async create(manifest: ModelManifest, model: Uint8Array, options: DetectorOptions, label = manifest.file): Promise<Detector> {
    const threads = options.intraOpNumThreads ?? 1;
    if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`intraOpNumThreads must be a positive integer, got ${threads}`);
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(model, {
        intraOpNumThreads: threads,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        graphOptimizationLevel: 'all',
        extra: { session: { intra_op: { allow_spinning: options.spinning ? '1' : '0' } } },
      });
    } catch (err) {
      throw new ModelFileError(`${label}: onnxruntime cannot load the model: ${(err as Error).message}`);
    }
    if (!session.inputNames.includes(manifest.input.name)) {
      throw new ManifestError(label, [`input.name: model has no input "${manifest.input.name}" (its inputs: ${session.inputNames.join(', ')})`]);
    }
    const missing = manifest.output.names.filter((n) => !session.outputNames.includes(n));
    if (missing.length > 0) {
      throw new ManifestError(label, [`output.names: model has no output ${missing.map((m) => `"${m}"`).join(', ')} (its outputs: ${session.outputNames.join(', ')})`]);
    }
    const detector = new Detector(manifest, session, options.logger.child({ model: manifest.name }), options);
    options.logger.debug({ model: manifest.name, threads, batchable: detector.batchable }, 'detector loaded');
    return detector;
  }

  /** True when one session.run takes several items. */
  get batched(): boolean {
    return this.batchable;
  }

  get labels(): readonly string[] {
    return this.manifest.labels;
  }

  get inputSize(): { width: number; height: number } {
    return inputSize(this.manifest.input);
  }

  async detect(request: DetectRequest): Promise<Detection[]> {
    const [outcome] = await this.detectBatch([request]);
    if (!outcome!.ok) throw outcome!.error;
    return outcome!.detections;
  }

  /**
   * Runs all requests, maxBatch at a time per session.run. A request with a
   * bad image, region or class list fails alone; the others still run.
   */
  detectBatch(requests: readonly DetectRequest[]): Promise<DetectOutcome[]> {
    const run = this.chain.then(() => this.runAll(requests));
    this.chain = run.catch(() => undefined);
    return run;
  }

  async release(): Promise<void> {
    await this.chain;
    await this.session.release();
  }

  private async runAll(requests: readonly DetectRequest[]): Promise<DetectOutcome[]> {
    const outcomes: DetectOutcome[] = new Array(requests.length);
    for (let start = 0; start < requests.length; start += this.maxBatch) {
      const chunk = requests.slice(start, start + this.maxBatch);
      const results = await this.runChunk(chunk);
      results.forEach((r, i) => (outcomes[start + i] = r));
    }
    return outcomes;
  }

  private async runChunk(requests: readonly DetectRequest[]): Promise<DetectOutcome[]> {
    const outcomes: (DetectOutcome | undefined)[] = new Array(requests.length);
    // Validate and preprocess; failures are per request.
    const slots: { index: number; placement: Placement; threshold: number; allow: Set<number> | null }[] = [];
    requests.forEach((req, index) => {
      try {
        const prepared = this.prepare(req, slots.length);
        if (prepared === null) outcomes[index] = { ok: true, detections: [] };
        else slots.push({ index, ...prepared });
      } catch (err) {
        outcomes[index] = { ok: false, error: err as Error };
      }
    });
    if (slots.length > 0) {
      let perSlot: Detection[][];
      try {
        perSlot = await this.infer(slots);
      } catch (err) {
        for (const s of slots) outcomes[s.index] = { ok: false, error: err as Error };
        return outcomes as DetectOutcome[];
      }
      slots.forEach((s, i) => (outcomes[s.index] = { ok: true, detections: perSlot[i]! }));
    }
    return outcomes as DetectOutcome[];
  }

  private prepare(req: DetectRequest, slot: number): { placement: Placement; threshold: number; allow: Set<number> | null } | null {
    const { image } = req;
    if (!image || image.data.length !== image.width * image.height * 3 || image.width < 1 || image.height < 1) {
      throw new ImageError('request', `image must be RGB24 (width * height * 3 bytes), got ${image?.width}x${image?.height} with ${image?.data.length} bytes`);
    }
    const threshold = req.threshold ?? this.manifest.default_threshold;
    if (!(threshold >= 0 && threshold <= 1)) throw new RangeError(`threshold must be between 0 and 1, got ${req.threshold}`);
    let allow: Set<number> | null = null;
    if (req.classes) {
      allow = new Set();
      for (const name of req.classes) {
        const i = this.labelIndex.get(name);
        if (i === undefined) throw new RangeError(`class "${name}" is not a label of model ${this.name}`);
        allow.add(i);
      }
    }
    const region = clampRegion(image, req.region ?? [0, 0, image.width, image.height]);
    if (region === null) return null; // region entirely outside the image: nothing to see
    const placement = fillInput(image, region, this.manifest.input, this.input, slot);
    return { placement, threshold, allow };
  }

  private async infer(slots: { placement: Placement; threshold: number; allow: Set<number> | null }[]): Promise<Detection[][]> {
    if (this.batchable && slots.length > 1) {
      try {
        const outputs = await this.run(0, slots.length);
        return slots.map((s, item) => this.postprocess(outputs, item, s));
      } catch (err) {
        // Some converted graphs declare a dynamic batch but reshape to 1 inside.
        this.batchable = false;
        this.logger.warn(
          { model: this.name, err: (err as Error).message },
          `model ${this.name}: batched run failed, falling back to one item per run from now on`,
        );
      }
    }
    const results: Detection[][] = [];
    for (let i = 0; i < slots.length; i++) {
      const outputs = await this.run(i, 1);
      results.push(this.postprocess(outputs, 0, slots[i]!));
    }
    return results;
  }

  private async run(first: number, count: number): Promise<ort.InferenceSession.ReturnType> {
    const data = this.input.subarray(first * this.perItem, (first + count) * this.perItem);
    const dims = [count, ...this.inputDims.slice(1)];
    const tensor =
      this.manifest.input.dtype === 'uint8'
        ? new ort.Tensor('uint8', new Uint8Array(Uint8ClampedArray.from(data).buffer), dims)
        : new ort.Tensor('float32', data, dims);
    return this.session.run({ [this.manifest.input.name]: tensor });
  }

  private postprocess(outputs: ort.InferenceSession.ReturnType, item: number, slot: { placement: Placement; threshold: number; allow: Set<number> | null }): Detection[] {
    const { width, height } = this.inputSize;
    let raw = this.decoder(outputs as unknown as Parameters<Decoder>[0], {
      item,
      inputWidth: width,
      inputHeight: height,
      numClasses: this.manifest.labels.length,
      threshold: slot.threshold,
    });
    if (slot.allow) raw = raw.filter((d) => slot.allow!.has(d.classIndex));
    const iou = this.manifest.output.nms_iou;
    raw = iou === null ? raw.sort((a, b) => b.score - a.score).slice(0, this.maxDetections) : nmsByClass(raw, iou, this.maxDetections);
    return raw.map((d) => ({ class: this.manifest.labels[d.classIndex]!, score: d.score, box: toSourceBox(d.box, slot.placement) }));
  }
}

function sessionBatchDynamic(session: ort.InferenceSession, inputName: string): boolean {
  // inputMetadata arrived in onnxruntime 1.21; without it, trust the manifest.
  const meta = (session as { inputMetadata?: readonly ort.InferenceSession.ValueMetadata[] }).inputMetadata?.find((m) => m.name === inputName);
  if (!meta || !meta.isTensor || meta.shape.length === 0) return true;
  const first = meta.shape[0];
  return typeof first === 'string' || first === -1 || first === 0;
}
