export { renderSnapshot, snapshotPath, writeSnapshot, HIGHLIGHT, type SnapshotBox, type SnapshotOverlay, type WriteSnapshotOptions } from './snapshot.js';
export { drawBox, drawLine, drawPolygon, colourFor, assertFrame, PALETTE, type RgbImage, type Rgb } from './draw.js';
export { JpegEncoder, jpegEnd, qscale, type JpegEncoderOptions, type JpegEncoderStats } from './jpeg-encoder.js';
