export { redactCredentials, describeStream } from './redact.js';
export {
  buildFfmpegArgs,
  buildKeyframeDecoderArgs,
  chooseStream,
  keyframeOnlyAllowed,
  sampleFilter,
  type CameraStreams,
  type FrameSize,
  type IngestArgsOptions,
  type IngestPlan,
} from './ffmpeg-args.js';
export { FrameCutter } from './frame-cutter.js';
export { yuv420pBytes, yuv420pToRgb, type PixelRect } from './yuv.js';
export { LatestSlot } from './frame-slot.js';
export { Backoff, type BackoffOptions } from './backoff.js';
export { classifyFfmpegExit, errorLinesOnly, parseFfmpegLine, StderrTail, ERROR_LEVELS, type ExitContext, type FfmpegLogLine, type IngestReason } from './ingest-reason.js';
export {
  CameraIngest,
  type CameraIngestOptions,
  type IngestStats,
  type IngestStatus,
  type OnDemandOptions,
  type VideoFrame,
} from './ingest.js';
export { RtspClient, RtspError, type RtspClientOptions, type RtspClientStats, type RtspVideoTrack } from './rtsp-client.js';
export { H264Depacketizer, type H264DepacketizerOptions, type H264DepacketizerStats } from './rtp-h264.js';
export { AccessUnitSplitter, ACCESS_UNIT_DELIMITER, nalUnits, type AccessUnit } from './annexb.js';
export { StreamActivity, type GopSummary, type StreamActivityOptions } from './stream-activity.js';
export { StartLimiter } from './start-limiter.js';
export { KeyframeDecoder, type DecodedPicture, type KeyframeDecoderOptions, type KeyframeDecoderStats } from './keyframe-decoder.js';
export { readVideoFrames, type FileFrame, type ReadVideoOptions } from './file-reader.js';
export { runCommand, SpawnHelper, type CommandResult, type RunCommand, type SpawnHelperStats } from './spawn-helper.js';
