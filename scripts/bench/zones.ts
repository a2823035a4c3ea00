/**
 * Zone accuracy benchmark: do the zone events match the visits people really
 * made? OpenCV's vtest footage (test/fixtures/video/vtest-640x480.mp4) runs
 * through `portwatch analyze` (a whole process: ffmpeg, motion gate, the real
 * ONNX detector, tracker, zone engine) with the four zones of
 * test/fixtures/sites/vtest-zones.yaml, and its events are scored against
 * every visit to those zones labelled by eye in
 * test/fixtures/video/vtest-zone-visits.json (pipeline/zones/visit-score.ts).
 *
 *   node --import tsx scripts/bench/zones.ts [--fps 2] [--peer-fps 5] [--model nanodet-int8] [--seconds 79.5] [--verbose]
 *
 * Printed per zone and in total, for restricted access and for loitering:
 * visit recall and precision, start and end error (median and worst, s),
 * alarm latency after the labelled entry, merges (two labelled visits in one
 * event) and splits (one visit in two events). Goals (issue 18): recall and
 * precision ≥ 0.95, start error ≤ 1.5 s, end error ≤ 2 s, 0 merges, alarm
 * latency ≤ threshold + 1 s. The peer, run in the same process tree on the
 * same clip, is the same pipeline with the detector at --peer-fps (more
 * observations per second: what the tracker would do with a camera that
 * analyses more often), so a figure can be read as "limited by the rate" or not.
 * About 40 s at 2 fps and 90 s at 5 fps on a shared 2-core machine.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { loadSiteConfig } from '../../pipeline/config/index.js';
import { parseVisitLabels, scoreVisits, type RuleScore, type ScoredEventRow, type VisitLabels } from '../../pipeline/zones/visit-score.js';
import { reportBench } from './report.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const ZONE_LABELS = 'test/fixtures/video/vtest-zone-visits.json';
const START = '2026-12-07T10:00:00Z';

/** The labels, checked against the site's zones (a label for a zone that no longer exists is an error, not a miss). */
export function loadZoneLabels(path = `${ROOT}/${ZONE_LABELS}`): VisitLabels {
  const labels = parseVisitLabels(readFileSync(path, 'utf8'), path);
  const site = loadSiteConfig(`${ROOT}/${labels.site}`, { env: {}, allow_missing_env: true });
  const camera = site.cameras.find((c) => c.id === labels.camera);
  if (!camera) throw new Error(`${path}: camera: ${labels.camera} is not a camera of ${labels.site}`);
  return parseVisitLabels(readFileSync(path, 'utf8'), path, camera.zones.map((z) => z.id));
}

/** One `portwatch analyze` process over the labelled clip; its event lines. */
export async function analyzeLabelledClip(o: { fps?: number; model?: string; seconds?: number }): Promise<{ rows: ScoredEventRow[]; stats: string; wallS: number }> {
  const labels = loadZoneLabels();
  const args = ['--import', 'tsx', 'cli/main.ts', 'analyze', labels.clip, '--site', labels.site, '--camera', labels.camera, '--start', START, '--stats'];
  if (o.fps) args.push('--fps', String(o.fps));
  if (o.model) args.push('--model', o.model);
  if (o.seconds) args.push('--duration', String(o.seconds));
  const t0 = performance.now();
  const { stdout, stderr } = await run(process.execPath, args, { cwd: ROOT, maxBuffer: 64 << 20 });
  const rows = stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as ScoredEventRow);
  return { rows, stats: stderr.trim(), wallS: (performance.now() - t0) / 1000 };
}

/** Scores analyze's rows against the labels, the clip cut at `seconds`. */
export function scoreLabelledClip(rows: ScoredEventRow[], seconds?: number) {
  const labels = loadZoneLabels();
  const site = loadSiteConfig(`${ROOT}/${labels.site}`, { env: {}, allow_missing_env: true });
  const camera = site.cameras.find((c) => c.id === labels.camera)!;
  const clipSeconds = Math.min(seconds ?? labels.clip_seconds, labels.clip_seconds);
  // Cut the labels where the analysed part ends: a visit still going on is open, a later one absent.
  const visits = labels.visits
    .filter((v) => v.entry < clipSeconds)
    .map((v) => (v.exit !== null && v.exit > clipSeconds ? { ...v, exit: null } : v));
  return scoreVisits(camera.zones, visits, rows, { clipSeconds, clipStartMs: Date.parse(START) });
}

const f = (v: number | null, d = 2) => (v === null ? '–' : v.toFixed(d));

function line(r: RuleScore): string {
  return [
    r.zone.padEnd(9),
    `${r.hits}/${r.expected}`.padStart(6),
    f(r.recall).padStart(6),
    f(r.precision).padStart(6),
    `${f(r.startError.median)} / ${f(r.startError.worst)}`.padStart(13),
    `${f(r.endError.median)} / ${f(r.endError.worst)}`.padStart(13),
    `${f(r.latency.median)} / ${f(r.latency.worst)}`.padStart(13),
    String(r.lateAlarms).padStart(5),
    String(r.merges).padStart(6),
    String(r.splits).padStart(6),
    String(r.falseAlarms).padStart(4),
  ].join(' ');
}

function report(title: string, result: ReturnType<typeof scoreLabelledClip>, verbose: boolean): void {
  for (const rule of ['unauthorized_access', 'loitering'] as const) {
    console.log(`\n${title} — ${rule}`);
    console.log('zone       hits/n recall  prec.   start med/max   end med/max  alarm med/max  late merges splits  FA');
    const rs = result.rules.filter((r) => r.rule === rule);
    for (const r of rs) console.log(line(r));
    console.log(line(result.totals[rule]));
    console.log('(alarm: seconds from the labelled entry; per zone the goal is ≤ threshold + 1 s, the total row shows the excess over each zone\'s threshold, goal ≤ 1)');
    if (verbose) {
      for (const r of rs) {
        for (const v of r.missed) console.log(`  missed ${r.zone} ${v.entry}–${v.exit ?? 'end'} ${v.who ?? ''}`);
        for (const e of r.unmatched) console.log(`  unmatched event ${r.zone} track ${e.track} entered ${e.entered.toFixed(1)} alarm ${e.alarm} end ${e.end.toFixed(1)} (${e.reason})`);
        for (const p of r.pairs) {
          console.log(`  ${r.zone} ${p.visit.entry}–${p.visit.exit ?? 'end'} ⇄ track ${p.event.track} ${p.event.entered.toFixed(1)}–${p.event.end.toFixed(1)} alarm ${p.event.alarm} (${p.event.reason})`);
        }
      }
    }
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      fps: { type: 'string', default: '2' },
      'peer-fps': { type: 'string', default: '5' },
      model: { type: 'string' },
      seconds: { type: 'string' },
      verbose: { type: 'boolean', default: false },
    },
  });
  const seconds = values.seconds ? Number(values.seconds) : undefined;
  const labels = loadZoneLabels();
  console.log(`zones benchmark: ${labels.visits.length} labelled visits on ${labels.clip} (${labels.clip_seconds} s), site ${labels.site}`);
  const totals: Array<ReturnType<typeof scoreLabelledClip>['totals']> = [];
  for (const fps of [Number(values.fps), Number(values['peer-fps'])]) {
    if (!(fps > 0)) continue;
    const r = await analyzeLabelledClip({ fps, ...(values.model ? { model: values.model } : {}), ...(seconds ? { seconds } : {}) });
    console.log(`\n== portwatch analyze at ${fps} fps (${fps === Number(values.fps) ? 'the camera setting' : 'peer'}): ${r.stats} in ${r.wallS.toFixed(1)} s wall`);
    const scored = scoreLabelledClip(r.rows, seconds);
    report(`${fps} fps`, scored, values.verbose!);
    totals.push(scored.totals);
  }
  // The camera setting against the peer's frame rate, on the goals of the restricted-access rule.
  const [ours, peer] = totals;
  if (ours && peer) {
    const a = ours.unauthorized_access;
    const b = peer.unauthorized_access;
    const at = `restricted access on vtest, ${values.fps} fps vs ${values['peer-fps']} fps`;
    reportBench({ name: `${at}: recall`, ours: a.recall ?? 0, peer: b.recall ?? 0, unit: 'share of labelled visits', better: 'higher', goal: '≥ 0.95' });
    reportBench({ name: `${at}: precision`, ours: a.precision ?? 0, peer: b.precision ?? 0, unit: 'share of events', better: 'higher', goal: '≥ 0.95' });
    reportBench({ name: `${at}: worst start error`, ours: a.startError.worst ?? 0, peer: b.startError.worst ?? 0, unit: 's', better: 'lower', goal: '≤ 1.5' });
    reportBench({ name: `${at}: worst end error`, ours: a.endError.worst ?? 0, peer: b.endError.worst ?? 0, unit: 's', better: 'lower', goal: '≤ 2' });
    reportBench({ name: `${at}: worst alarm beyond the zone's dwell`, ours: a.latency.worst ?? 0, peer: b.latency.worst ?? 0, unit: 's', better: 'lower', goal: '≤ 1' });
    reportBench({ name: `${at}: visits merged into one event`, ours: a.merges, peer: b.merges, unit: 'merges', better: 'lower', goal: '≤ 0' });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
