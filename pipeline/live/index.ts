export { CameraStills, type CameraStillsOptions } from './camera-still.js';
export { buildLiveArgs, type LiveArgsOptions } from './live-args.js';
export { registerLiveRoutes, type LiveRoutesOptions } from './live-routes.js';
export { LiveViewHub, type LiveViewer, type LiveViewHubOptions, type LiveViewStats } from './live-view-hub.js';
export { Mp4BoxScanner, type Mp4Piece } from './mp4-boxes.js';
