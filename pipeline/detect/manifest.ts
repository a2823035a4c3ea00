import { readFile } from 'node:fs/promises';
import { z } from 'zod';

/**
 * A model manifest (`models/<name>.json`) describes everything the detector
 * needs to run an ONNX file without code: how to feed it, how to read its
 * outputs, and where it came from. Field names are snake_case because the
 * file is written by hand or by the converter, not by TypeScript.
 */

const threeNumbers = z.tuple([z.number(), z.number(), z.number()]);
/** -1 (or a symbolic dimension written as -1) means "any size"; only the batch dimension may be dynamic. */
const dim = z.number().int().refine((n) => n === -1 || n > 0, 'a dimension is -1 (dynamic) or a positive integer');

export const manifestInputSchema = z
  .object({
    name: z.string().min(1),
    shape: z.tuple([dim, dim, dim, dim]),
    layout: z.enum(['NHWC', 'NCHW']),
    colour: z.enum(['RGB', 'BGR']),
    resize: z.enum(['stretch', 'letterbox']),
    /** Per channel, in the model's channel order (after any RGB→BGR swap). value = (pixel * scale - mean) / std */
    mean: threeNumbers.default([0, 0, 0]),
    std: threeNumbers
      .refine((s) => s.every((v) => v !== 0), 'std values must not be 0')
      .default([1, 1, 1]),
    scale: z.number().positive().default(1),
    /** uint8 for models that take raw 0..255 pixels (TF Object Detection API exports); values are rounded and clamped. */
    dtype: z.enum(['float32', 'uint8']).default('float32'),
    /** Letterbox border value, in pixel units before normalisation (Ultralytics uses 114). */
    pad_value: z.number().min(0).max(255).default(114),
    /**
     * The model also takes any height and width that are multiples of this
     * (fully convolutional, e.g. an Ultralytics export with dynamic axes).
     * `shape` then gives the reference size: a region runs at its own size,
     * never enlarged, shrunk only to the reference's pixel count, aspect kept.
     */
    size_multiple: z.number().int().min(1).max(256).optional(),
  })
  .superRefine((input, ctx) => {
    const [, a, b, c] = input.shape;
    const channels = input.layout === 'NHWC' ? c : a;
    const spatial = input.layout === 'NHWC' ? [a, b] : [b, c];
    if (channels !== 3) {
      ctx.addIssue({ code: 'custom', path: ['shape'], message: `${input.layout} shape must have 3 channels, got ${channels}` });
    }
    if (spatial.some((d) => d === -1)) {
      ctx.addIssue({ code: 'custom', path: ['shape'], message: 'height and width must be fixed (only the batch dimension may be -1); a model that takes any size gives its reference size here and size_multiple' });
    }
  });

const names = z.array(z.string().min(1)).min(1);
const classIndexBase = z.union([z.literal(0), z.literal(1)]).default(0);
/** IoU above which a lower-scored box of the same class is suppressed; null turns class-wise NMS off. */
const nmsIou = z.number().gt(0).lte(1).nullable().default(0.45);

const centernetOutput = z.object({
  decoder: z.literal('centernet'),
  /** One output [N, K, 6]: x1, y1, x2, y2 (input pixels), score, class. */
  names: names.max(1),
  class_index_base: classIndexBase,
  nms_iou: nmsIou,
});

const nanodetOutput = z.object({
  decoder: z.literal('nanodet'),
  /**
   * Class-score maps [N, cells, classes] (already sigmoid) and distance maps
   * [N, cells, 4 * (reg_max + 1)], in any order: each is matched to its
   * stride by cell count and to its role by last dimension.
   */
  names: names,
  strides: z.array(z.number().int().positive()).min(1).default([8, 16, 32]),
  reg_max: z.number().int().positive().default(10),
  /** Cell centre = (index + center_offset) * stride; legacy NanoDet (GFL head) uses 0.5, NanoDet-Plus 0. */
  center_offset: z.number().min(0).max(1).default(0.5),
  nms_iou: nmsIou,
});

const boxFormat = z.enum(['xyxy', 'yxyx', 'cxcywh', 'xywh']);

const yoloOutput = z.object({
  decoder: z.enum(['yolov5', 'yolov8']),
  /** yolov5: [N, boxes, 5 + C] with objectness; yolov8/11: [N, 4 + C, boxes] without. */
  names: names.max(1),
  box_format: boxFormat.default('cxcywh'),
  /** true when boxes are in 0..1 of the input size rather than input pixels. */
  normalized: z.boolean().default(false),
  nms_iou: nmsIou,
});

const ssdOutput = z.object({
  decoder: z.literal('ssd'),
  /** boxes [N, K, 4], scores [N, K], classes [N, K], optionally num_detections [N], in this order. */
  names: z.array(z.string().min(1)).min(3).max(4),
  box_format: boxFormat.default('yxyx'),
  normalized: z.boolean().default(true),
  class_index_base: classIndexBase,
  nms_iou: nmsIou,
});

const outputSchema = z.discriminatedUnion('decoder', [centernetOutput, nanodetOutput, yoloOutput, ssdOutput]);

export const modelManifestSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, 'lower-case letters, digits, ".", "_" or "-"'),
    file: z.string().regex(/\.onnx$/, 'must name an .onnx file'),
    sha256: z.string().regex(/^[0-9a-f]{64}$/, '64 lower-case hex digits'),
    source: z.object({
      package: z.string().min(1),
      version: z.string().min(1),
      path: z.string().min(1),
      licence: z.string().min(1),
    }),
    input: manifestInputSchema,
    output: outputSchema,
    labels: z.array(z.string()).min(1),
    default_threshold: z.number().gt(0).lt(1),
    /** Present on a quantized model: how, and from which calibration table (scripts/models/quantize.ts). */
    quantization: z
      .object({
        weights: z.string().min(1),
        activations: z.string().min(1),
        calibration: z.string().min(1),
        frames: z.string().min(1),
      })
      .optional(),
  })
  .superRefine((m, ctx) => {
    const unique = new Set(m.labels);
    if (unique.size !== m.labels.length) {
      ctx.addIssue({ code: 'custom', path: ['labels'], message: 'labels must be unique' });
    }
  });

export type ModelManifest = z.infer<typeof modelManifestSchema>;
export type ManifestInput = ModelManifest['input'];
export type ManifestOutput = ModelManifest['output'];
export type DecoderKind = ManifestOutput['decoder'];

export class ManifestError extends Error {
  constructor(
    readonly file: string,
    readonly issues: string[],
  ) {
    super(`${file}: invalid model manifest: ${issues.join('; ')}`);
    this.name = 'ManifestError';
  }
}

/** Validates a parsed manifest; `file` only labels the errors. */
export function parseManifest(value: unknown, file = '<manifest>'): ModelManifest {
  const result = modelManifestSchema.safeParse(value);
  if (!result.success) {
    const issues = result.error.issues.map((issue) => {
      const where = issue.path.length > 0 ? issue.path.map(String).join('.') : '(root)';
      return `${where}: ${issue.message}`;
    });
    throw new ManifestError(file, issues);
  }
  return result.data;
}

export async function loadManifest(file: string): Promise<ModelManifest> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ManifestError(file, [code === 'ENOENT' ? 'file not found (is the model name right? see models/*.json)' : String(err)]);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ManifestError(file, [`not JSON: ${(err as Error).message}`]);
  }
  return parseManifest(json, file);
}

/** Input height and width from the manifest shape, whatever the layout. */
export function inputSize(input: ManifestInput): { width: number; height: number } {
  const [, a, b, c] = input.shape;
  return input.layout === 'NHWC' ? { height: a, width: b } : { height: b, width: c };
}
