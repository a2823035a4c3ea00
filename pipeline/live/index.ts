export { CameraStills, type CameraStillsOptions } from './camera-still.js';
export { buildLiveArgs, type LiveArgsOptions } from './live-args.js';
export { registerLiveRoutes, type LiveRoutesOptions } from './live-routes.js';
export { LiveViewHub, type LiveViewer, type LiveViewHubOptions, type LiveViewStats } from './live-view-hub.js';
export { Mp4BoxScanner, type Mp4Piece } from './mp4-boxes.js';
export { RtspLiveSource, type RtspLiveSourceOptions, type RtspLiveSourceStats } from './rtsp-live-source.js';
export { annexBToAvccInPlace, fmp4Fragment, fmp4InitSegment, type Fmp4Sample } from './fmp4-writer.js';
export { parseSps, type SpsInfo } from './h264-sps.js';
