import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkSiteConfigText, formatIssue } from '../pipeline/config/index.js';

// The site file's parts the command center reads: the chart's tile server and
// body-worn recorders linked to inspectors.
const BASE = `site: { name: T, timezone: Asia/Shanghai }
defaults: { detect: { model: nanodet-int8 } }
inspectors:
  - { id: insp-01, name: A, skills: [food], shifts: [{ from: "08:00", to: "20:00" }] }
`;

describe('site file: chart and body-worn cameras', () => {
  it('accepts a tile server and a body-worn camera worn by a known inspector; the demo stays valid without either', () => {
    const ok = checkSiteConfigText(
      `${BASE}cameras:\n  - { id: bw-1, kind: body_worn, inspector: insp-01, streams: { main: rtsp://127.0.0.1:8554/bw } }\nchart: { tile_url: "http://127.0.0.1:8080/{z}/{x}/{y}.png" }\n`,
      { file: 'ok.yaml', env: {} },
    );
    expect(ok.issues.map(formatIssue)).toEqual([]);
    expect(ok.config?.chart.tile_url).toBe('http://127.0.0.1:8080/{z}/{x}/{y}.png');
    expect(ok.config?.cameras[0]).toMatchObject({ kind: 'body_worn', inspector: 'insp-01' });
    const demo = checkSiteConfigText(readFileSync('config/site.demo.yaml', 'utf8'), { file: 'demo.yaml', env: {} });
    expect(demo.issues).toEqual([]);
    expect(demo.config?.chart.tile_url).toBeUndefined();
  });

  it('names each wrong field with its line', () => {
    const text = `${BASE}cameras:
  - { id: bw-1, kind: body_worn, streams: { main: rtsp://127.0.0.1:8554/bw } }
  - { id: bw-2, kind: body_worn, inspector: nobody, streams: { main: rtsp://127.0.0.1:8554/bw } }
  - { id: dock-1, kind: dock, inspector: insp-01, streams: { main: rtsp://127.0.0.1:8554/d } }
chart: { tile_url: "ftp://tiles/{z}/{x}" }
`;
    expect(checkSiteConfigText(text, { file: 'bad.yaml', env: {} }).issues.map(formatIssue)).toEqual([
      'bad.yaml:6:5 cameras.0.inspector: a body_worn camera names the inspector who wears it (inspector: <id>)',
      'bad.yaml:7:45 cameras.1.inspector: inspector "nobody" is not defined in inspectors',
      'bad.yaml:8:42 cameras.2.inspector: only a body_worn camera is linked to an inspector',
      'bad.yaml:9:20 chart.tile_url: tile_url is an http:// or https:// URL template',
      'bad.yaml:9:20 chart.tile_url: tile_url must contain {z}, {x} and {y}',
    ]);
  });
});
