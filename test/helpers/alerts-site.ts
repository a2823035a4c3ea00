import { checkSiteConfigText, type SiteConfig } from '../../pipeline/config/index.js';

/**
 * A small site for the alert tests: two yard cameras, one dock camera on berth
 * B1 (a vessel scheduled there 2026-12-06 08:00–20:00 site time), rules for
 * intrusion, cargo on the berth (suppressed while the vessel is scheduled),
 * camera health and vessels. `extra` is appended under `alerts:` (indented).
 */
export function alertsSiteYaml(extra = ''): string {
  return `site:
  name: alert test port
  timezone: UTC
defaults:
  detect: { model: nanodet-int8 }
cameras:
  - id: yard-1
    kind: yard
    streams: { main: "rtsp://127.0.0.1:8554/yard-1" }
    zones:
      - { id: fence, kind: restricted, polygon: [[0, 0], [0.5, 0], [0.5, 0.5], [0, 0.5]], classes: [person] }
  - id: yard-2
    kind: yard
    streams: { main: "rtsp://127.0.0.1:8554/yard-2" }
    zones:
      - { id: fence, kind: restricted, polygon: [[0, 0], [0.5, 0], [0.5, 0.5], [0, 0.5]], classes: [person] }
  - id: dock-1
    kind: dock
    berth: B1
    streams: { main: "rtsp://127.0.0.1:8554/dock-1" }
    zones:
      - { id: apron, kind: cargo, polygon: [[0, 0], [1, 0], [1, 1], [0, 1]], classes: [truck] }
berths:
  - id: B1
    name: Berth one
    polygon: [[30.0, 120.0], [30.0, 120.001], [30.001, 120.001], [30.001, 120.0]]
    quay_length_m: 300
    schedule:
      - { mmsi: 412345678, from: "2026-12-06T08:00", to: "2026-12-06T20:00" }
alerts:
  routes:
    - { id: board, kind: board }
  rules:
    - id: intrusion
      kinds: [unauthorized_access]
      zones: [fence]
      severity: high
      routes: [board]
      cooldown_seconds: 60
      procedure: [Look at the camera, Call the yard patrol, Record what was found]
    - id: apron-cargo
      kinds: [cargo_movement]
      cameras: [dock-1]
      severity: medium
      routes: [board]
      cooldown_seconds: 0
      suppress: { berth_scheduled: true }
    - id: camera-health
      kinds: [camera_offline, camera_frozen]
      severity: low
      routes: [board]
    - id: vessels
      kinds: [ais_dark, ais_speeding]
      severity: high
      routes: [board]
${extra}`;
}

export function alertsSite(extra = ''): SiteConfig {
  const r = checkSiteConfigText(alertsSiteYaml(extra), { file: 'alerts-site.yaml', base_dir: process.cwd() });
  if (!r.config) throw new Error(r.issues.map((i) => `${i.line}:${i.path}: ${i.message}`).join('\n'));
  return r.config;
}
