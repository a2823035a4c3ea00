import { WEST_PATH } from './vtest-zone.js';

export interface VtestSiteOptions {
  /** The site's name (tells the tests' logs apart). */
  name: string;
  /** The vtest camera's stream (the RTSP simulator's `/vtest`). */
  cameraUrl: string;
  /** The AIS replay's TCP port; without it the site has no berth and no feed. */
  aisPort?: number;
}

/**
 * The site file of the tests that run real processes: one camera on the vtest
 * footage with the restricted zone over its west footpath (three people walk
 * in), and, with an AIS port, berth D1 and a TCP feed from the replay. Each
 * test appends its own sections (workers, inspectors, alerts).
 */
export function vtestSiteText(o: VtestSiteOptions): string {
  const head = `site: { name: ${o.name}, timezone: UTC }
defaults:
  detect: { fps: 2, width: 640, height: 480, model: nanodet-int8, stream: main }
cameras:
  - id: vtest-cam
    kind: yard
    streams: { main: ${o.cameraUrl} }
    zones:
      - { id: ${WEST_PATH.id}, kind: ${WEST_PATH.kind}, polygon: ${JSON.stringify(WEST_PATH.polygon)}, classes: [person], min_dwell_seconds: ${WEST_PATH.min_dwell_seconds} }
`;
  if (o.aisPort === undefined) return head;
  return `${head}berths:
  - id: D1
    name: Demo berth 1
    polygon: [[24.4515, 118.0300], [24.4515, 118.0340], [24.4510, 118.0340], [24.4510, 118.0300]]
    quay_length_m: 400
feeds:
  - { id: replay, protocol: tcp, host: 127.0.0.1, port: ${o.aisPort}, station_id: sim }
`;
}
