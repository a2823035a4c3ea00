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
import { type Cell, type Placement, fillAtSize, fillCell, fillInput, fillPad, itemSize, quarterCells, sizeForRegion, toSourceBox } from './preprocess.js';
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
  /**
   * Pack small regions into one input: when two or more requests of a batch
   * ask for regions that fit a quarter of the model input without being
   * shrunk, up to four of them share one inference, each in its own quarter.
   * A fixed-input model otherwise spends a whole run on each small crop.
   * Default true; a lone region still gets the whole input.
   */
  tiling?: boolean;
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
  /**
   * The image is itself a crop of a camera frame (a motion region cut out by
   * the caller): a model that takes any size runs it at its own size, as it
   * would the same region of the whole frame, not at the size it was built for.
   */
  crop?: boolean;
  /**
   * The frame may start an alarm (an object in a zone, its dwell running): a
   * batcher serves it ahead of frames that have waited less than its lead
   * (BatchDetector's `urgentLeadMs`). The detector itself ignores it.
   */
  urgent?: boolean;
  /**
   * Whose frame this is (a camera id). A batcher lets a newer frame of the
   * same source take the place in line of one it superseded (`signal`).
   */
  source?: string;
  /**
   * Aborted when a newer frame of the same source arrived while this one
   * waits: a batcher drops it (DetectionDroppedError 'superseded') and keeps
   * its place in line for the source's next request. Ignored once running.
   */
  signal?: AbortSignal;
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
  private input: Float32Array;
  private readonly perItem: number;
  private readonly inputDims: [number, number, number, number];
  private readonly maxDetections: number;
  private readonly cells: Cell[] | null;
  private batchable: boolean;
  /** session.run calls, batch items (input slots) they took, and requests that shared a slot with others (tiling). */
  readonly stats = { runs: 0, slots: 0, tiledRequests: 0 };
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
    // Tiling is for fixed-size inputs; a model that takes any size runs a small region at its own small size.
    this.cells = options.tiling === false || manifest.input.size_multiple !== undefined ? null : quarterCells(manifest.input);
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

  /** The model takes any input height and width (manifest size_multiple): a crop costs its area. */
  get takesAnySize(): boolean {
    return this.manifest.input.size_multiple !== undefined;
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
    // Validate; failures are per request.
    const valid: Checked[] = [];
    requests.forEach((req, index) => {
      try {
        const checked = this.check(req, index);
        if (checked === null) outcomes[index] = { ok: true, detections: [] };
        else valid.push(checked);
      } catch (err) {
        outcomes[index] = { ok: false, error: err as Error };
      }
    });
    // A model that takes any size runs regions at their own size; whole images
    // (and every request to a fixed-size model) at the size the model was built for.
    const ownSize = this.takesAnySize ? valid.filter((c) => c.crop || !coversImage(c)) : [];
    if (ownSize.length > 0) {
      try {
        for (const [index, detections] of await this.inferAtOwnSize(ownSize)) outcomes[index] = { ok: true, detections };
      } catch (err) {
        for (const c of ownSize) outcomes[c.index] = { ok: false, error: err as Error };
      }
    }
    const fixed = ownSize.length > 0 ? valid.filter((c) => !ownSize.includes(c)) : valid;
    if (fixed.length > 0) {
      const slots = this.pack(fixed);
      let perSlot: Detection[][][];
      try {
        perSlot = await this.infer(slots);
      } catch (err) {
        for (const c of fixed) outcomes[c.index] = { ok: false, error: err as Error };
        return outcomes as DetectOutcome[];
      }
      slots.forEach((slot, i) => slot.forEach((part, k) => (outcomes[part.index] = { ok: true, detections: perSlot[i]![k]! })));
    }
    return outcomes as DetectOutcome[];
  }

  private check(req: DetectRequest, index: number): Checked | null {
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
    return { index, image, region, threshold, allow, crop: req.crop === true };
  }

  /**
   * Fills the input buffer, one slot per batch item: regions that fit a
   * quarter of the input unshrunk go four to a slot when there are at least
   * two of them; everything else gets a slot of its own.
   */
  private pack(valid: Checked[]): Part[][] {
    const cells = this.cells;
    const fits = (c: Checked) => cells !== null && c.region[2] - c.region[0] <= cells[0]!.width && c.region[3] - c.region[1] <= cells[0]!.height;
    const small = valid.filter(fits);
    const groups: Checked[][] = small.length >= 2 ? chunks(small, 4) : [];
    const tiled = new Set(groups.flat());
    for (const c of valid) if (!tiled.has(c)) groups.push([c]);
    return groups.map((group, slot) => {
      if (group.length === 1) {
        const c = group[0]!;
        return [{ ...c, placement: fillInput(c.image, c.region, this.manifest.input, this.input, slot), content: null }];
      }
      fillPad(this.manifest.input, this.input, slot);
      this.stats.tiledRequests += group.length;
      return group.map((c, k) => ({ ...c, ...fillCell(c.image, c.region, this.manifest.input, this.input, slot, cells![k]!) }));
    });
  }

  /**
   * Models that take any size: each region runs at its own size (sizeForRegion);
   * requests of the same size share a batch. No tiling: a small region is cheap already.
   */
  private async inferAtOwnSize(valid: Checked[]): Promise<Map<number, Detection[]>> {
    const input = this.manifest.input as ModelManifest['input'] & { size_multiple: number };
    const bySize = new Map<string, { size: { width: number; height: number; scale: number }; items: Checked[] }>();
    for (const c of valid) {
      const size = sizeForRegion(c.region, input);
      const key = `${size.width}x${size.height}`;
      const group = bySize.get(key) ?? { size, items: [] };
      group.items.push(c);
      bySize.set(key, group);
    }
    const results = new Map<number, Detection[]>();
    for (const { size, items } of bySize.values()) {
      const per = size.width * size.height * 3;
      const batch = this.batchable ? this.maxBatch : 1;
      for (let start = 0; start < items.length; start += batch) {
        const chunk = items.slice(start, start + batch);
        if (this.input.length < per * chunk.length) this.input = new Float32Array(per * chunk.length);
        const parts: Part[] = chunk.map((c, slot) => ({ ...c, placement: fillAtSize(c.image, c.region, input, this.input, slot, size, size.scale), content: null }));
        const outputs = await this.run(0, chunk.length, size);
        parts.forEach((part, item) => results.set(part.index, this.postprocess(outputs, item, [part], size)[0]!));
      }
    }
    return results;
  }

  private async infer(slots: Part[][]): Promise<Detection[][][]> {
    if (this.batchable && slots.length > 1) {
      try {
        const outputs = await this.run(0, slots.length);
        return slots.map((parts, item) => this.postprocess(outputs, item, parts));
      } catch (err) {
        // Some converted graphs declare a dynamic batch but reshape to 1 inside.
        this.batchable = false;
        this.logger.warn(
          { model: this.name, err: (err as Error).message },
          `model ${this.name}: batched run failed, falling back to one item per run from now on`,
        );
      }
    }
    const results: Detection[][][] = [];
    for (let i = 0; i < slots.length; i++) {
      const outputs = await this.run(i, 1);
      results.push(this.postprocess(outputs, 0, slots[i]!));
    }
    return results;
  }

  private async run(first: number, count: number, size?: { width: number; height: number }): Promise<ort.InferenceSession.ReturnType> {
    const perItem = size ? size.width * size.height * 3 : this.perItem;
    const data = this.input.subarray(first * perItem, (first + count) * perItem);
    const nchw = this.manifest.input.layout === 'NCHW';
    const dims = size ? (nchw ? [count, 3, size.height, size.width] : [count, size.height, size.width, 3]) : [count, ...this.inputDims.slice(1)];
    this.stats.runs++;
    this.stats.slots += count;
    const tensor =
      this.manifest.input.dtype === 'uint8'
        ? new ort.Tensor('uint8', new Uint8Array(Uint8ClampedArray.from(data).buffer), dims)
        : new ort.Tensor('float32', data, dims);
    return this.session.run({ [this.manifest.input.name]: tensor });
  }

  /** Decodes one batch item; a tiled item yields one list per part, by where each box's centre lies. */
  private postprocess(outputs: ort.InferenceSession.ReturnType, item: number, parts: Part[], size = this.inputSize): Detection[][] {
    const { width, height } = size;
    const raw = this.decoder(outputs as unknown as Parameters<Decoder>[0], {
      item,
      inputWidth: width,
      inputHeight: height,
      numClasses: this.manifest.labels.length,
      threshold: Math.min(...parts.map((p) => p.threshold)),
    });
    const iou = this.manifest.output.nms_iou;
    return parts.map((part) => {
      let mine = raw;
      if (part.content) {
        const [x1, y1, x2, y2] = part.content;
        mine = [];
        for (const d of raw) {
          const cx = (d.box[0] + d.box[2]) / 2;
          const cy = (d.box[1] + d.box[3]) / 2;
          if (cx < x1 || cx >= x2 || cy < y1 || cy >= y2 || d.score < part.threshold) continue;
          // A box reaching into a neighbour's quarter is cut at this part's edge.
          mine.push({ ...d, box: [Math.max(x1, d.box[0]), Math.max(y1, d.box[1]), Math.min(x2, d.box[2]), Math.min(y2, d.box[3])] });
        }
      }
      if (part.allow) mine = mine.filter((d) => part.allow!.has(d.classIndex));
      mine = iou === null ? [...mine].sort((a, b) => b.score - a.score).slice(0, this.maxDetections) : nmsByClass(mine, iou, this.maxDetections);
      return mine.map((d) => ({ class: this.manifest.labels[d.classIndex]!, score: d.score, box: toSourceBox(d.box, part.placement) }));
    });
  }
}

/** A request that passed validation. */
interface Checked {
  index: number;
  image: RgbImage;
  region: Box;
  threshold: number;
  allow: Set<number> | null;
  crop: boolean;
}

/** A request placed in a batch slot: the whole input (content null) or one quarter of it. */
interface Part extends Checked {
  placement: Placement;
  content: Box | null;
}

function coversImage(c: Checked): boolean {
  return c.region[0] <= 0 && c.region[1] <= 0 && c.region[2] >= c.image.width && c.region[3] >= c.image.height;
}

function chunks<T>(xs: T[], n: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out; // a lone leftover goes into a slot of its own, whole input (see pack)
}

function sessionBatchDynamic(session: ort.InferenceSession, inputName: string): boolean {
  // inputMetadata arrived in onnxruntime 1.21; without it, trust the manifest.
  const meta = (session as { inputMetadata?: readonly ort.InferenceSession.ValueMetadata[] }).inputMetadata?.find((m) => m.name === inputName);
  if (!meta || !meta.isTensor || meta.shape.length === 0) return true;
  const first = meta.shape[0];
  return typeof first === 'string' || first === -1 || first === 0;
}
