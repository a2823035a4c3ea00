export { ClipBuffer, type ClipBufferOptions, type TimedUnit } from './clip-buffer.js';
export { muxClip, frameRate, type MuxClipOptions, type MuxedClip } from './mux-clip.js';
export { clipPath, pruneClips } from './clip-store.js';
