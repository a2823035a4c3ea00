export type { Detection } from './types.js';
export {
  Detector,
  loadDetector,
  ModelFileError,
  defaultModelsDir,
  manifestPath,
  type DetectorOptions,
  type DetectRequest,
  type DetectOutcome,
} from './detector.js';
export {
  BatchDetector,
  DetectionDroppedError,
  type BatchDetectorOptions,
  type BatchDetectorStats,
  type BatchRunner,
} from './batch-detector.js';
export { ImageError, decodeJpeg, readJpegFile, rgbFrame, clampRegion, type RgbImage } from './image.js';
export {
  ManifestError,
  loadManifest,
  parseManifest,
  modelManifestSchema,
  inputSize,
  type ModelManifest,
  type ManifestInput,
  type ManifestOutput,
  type DecoderKind,
} from './manifest.js';
export { fillInput, placeRegion, toSourceBox, itemSize, type Placement } from './preprocess.js';
export { nmsByClass, type RawDetection } from './nms.js';
export { iou } from '../geometry/index.js';
export {
  decoderFor,
  centernetDecoder,
  nanodetDecoder,
  yoloDecoder,
  ssdDecoder,
  DecodeError,
  type Decoder,
  type DecodeContext,
  type OutputTensor,
  type OutputTensors,
  type BoxFormat,
} from './decoders/index.js';
export { cpuHasInt8Dot, int8Caveat } from './int8-cpu.js';
