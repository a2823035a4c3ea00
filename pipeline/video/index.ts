export { redactCredentials, describeStream } from './redact.js';
export {
  buildFfmpegArgs,
  chooseStream,
  keyframeOnlyAllowed,
  sampleFilter,
  type CameraStreams,
  type FrameSize,
  type IngestArgsOptions,
  type IngestPlan,
} from './ffmpeg-args.js';
export { FrameCutter } from './frame-cutter.js';
export { yuv420pBytes, yuv420pToRgb } from './yuv.js';
export { LatestSlot } from './frame-slot.js';
export { Backoff, type BackoffOptions } from './backoff.js';
export { classifyFfmpegExit, StderrTail, type ExitContext, type IngestReason } from './ingest-reason.js';
export {
  CameraIngest,
  type CameraIngestOptions,
  type IngestStats,
  type IngestStatus,
  type VideoFrame,
} from './ingest.js';
export { readVideoFrames, type FileFrame, type ReadVideoOptions } from './file-reader.js';
