export { ClipBuffer, type ClipBufferOptions, type TimedUnit } from './clip-buffer.js';
export { muxClip, frameRate, type MuxClipOptions, type MuxedClip } from './mux-clip.js';
export { clipPath, pruneClips } from './clip-store.js';
export { ClipRecorder, CLIP_EVENT_KINDS, type ClipRecorderOptions, type ClipRequest } from './clip-recorder.js';
export { ClipWriter, type ClipWriterOptions, type ClipWriterStats } from './clip-writer.js';
export { CameraClips, type CameraClipsOptions, type ClipCamera } from './camera-clips.js';
