import type { CameraConfig } from './schema.js';

/**
 * The URL the detector decodes: the sub-stream when `detect.stream` is `sub`
 * and the camera has one, else the main stream. One place for the rule, so the
 * camera worker, `analyze` and the health checks agree. The URL holds the
 * resolved password: log it only through `redactUrl`.
 */
export function detectStreamUrl(camera: Pick<CameraConfig, 'streams' | 'detect'>): string {
  return camera.detect.stream === 'sub' && camera.streams.sub ? camera.streams.sub : camera.streams.main;
}
