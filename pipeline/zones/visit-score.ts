import { z } from 'zod';
import { assign } from '../track/assignment.js';

/**
 * Scores zone events against visits labelled by eye: how well the events a
 * camera raised tell who was in which zone and when. Used by the zone
 * accuracy benchmark and its test; a site can score its own labelled clip the
 * same way.
 */

/** One person's presence in one zone, as labelled (seconds from the clip start). */
export interface LabelledVisit {
  zone: string;
  /** First frame with the feet inside. */
  entry: number;
  /** First frame with the feet outside (or out of the picture); null: still inside when the clip ends. */
  exit: number | null;
  /** Already inside in the first frame: the entry is not a real entry and its error is not scored. */
  inside_at_start?: boolean;
  who?: string;
}

const visitSchema = z
  .object({
    zone: z.string().min(1),
    entry: z.number().min(0),
    exit: z.number().min(0).nullable(),
    inside_at_start: z.boolean().optional(),
    who: z.string().optional(),
  })
  .refine((v) => v.exit === null || v.exit > v.entry, { message: 'exit must be after entry (or null: still inside at the end)', path: ['exit'] });

export const visitLabelsSchema = z.object({
  clip: z.string().min(1),
  site: z.string().min(1),
  camera: z.string().min(1),
  clip_seconds: z.number().positive(),
  visits: z.array(visitSchema).min(1),
});

export type VisitLabels = z.infer<typeof visitLabelsSchema>;

/**
 * Reads a labels file (JSON: clip, site, camera, clip_seconds, visits). Every
 * problem is reported as `FILE: visits[3].exit: reason`; a visit to a zone the
 * camera does not have is one too (a renamed zone silently scoring nothing
 * would read as a perfect run).
 */
export function parseVisitLabels(text: string, file: string, zoneIds?: readonly string[]): VisitLabels {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new Error(`${file}: not JSON (${(err as Error).message})`);
  }
  const r = visitLabelsSchema.safeParse(raw);
  if (!r.success) {
    throw new Error(r.error.issues.map((i) => `${file}: ${i.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '')}: ${i.message}`).join('\n'));
  }
  if (zoneIds) {
    const bad = r.data.visits.map((v, i) => [v, i] as const).filter(([v]) => !zoneIds.includes(v.zone));
    if (bad.length > 0) throw new Error(bad.map(([v, i]) => `${file}: visits[${i}].zone: "${v.zone}" is not a zone of camera ${r.data.camera} (${zoneIds.join(', ')})`).join('\n'));
  }
  return r.data;
}

/** An event row as `portwatch analyze` prints it (t = seconds from the clip start). */
export interface ScoredEventRow {
  t: number;
  id: string;
  kind: string;
  phase: string;
  zone: string | null;
  track?: number | null;
  details?: Record<string, unknown>;
}

export interface ScoredZone {
  id: string;
  min_dwell_seconds: number;
  loiter_seconds?: number;
}

export type ScoredRule = 'unauthorized_access' | 'loitering';

/** One event rebuilt from its rows. */
export interface RebuiltEvent {
  id: string;
  kind: string;
  zone: string;
  track: number | null;
  /** When the rule fired (the start row). */
  alarm: number;
  /** When the object entered the zone, as the engine saw it (start row time − dwell_seconds). */
  entered: number;
  /** When it ended (the end row: left, or last seen for a lost track); clip end if it never did. */
  end: number;
  reason: string | null;
}

export interface Figures {
  median: number | null;
  worst: number | null;
}

export interface RuleScore {
  zone: string;
  rule: ScoredRule;
  /** Seconds inside before the rule fires (dwell or loiter). */
  threshold: number;
  /** Visits long enough that the rule must fire. */
  expected: number;
  /** Visits within ±`ambiguousSeconds` of the threshold: an event for them is neither a hit nor a false alarm. */
  ambiguous: number;
  events: number;
  hits: number;
  misses: number;
  falseAlarms: number;
  recall: number | null;
  precision: number | null;
  /** |event entry − labelled entry|, s (matched visits with a real entry). */
  startError: Figures;
  /** |event end − labelled exit|, s (matched visits that ended before the clip did). */
  endError: Figures;
  /** Alarm time − labelled entry, s (matched visits with a real entry). */
  latency: Figures;
  /** Alarms later than threshold + `latencySlack` after the labelled entry. */
  lateAlarms: number;
  /** Visits a single event took in on top of the visit it was matched to. */
  merges: number;
  /** Extra events inside one labelled visit (the object was taken for a new one). */
  splits: number;
  /** Per matched visit: labelled and measured times, for reading the failures. */
  pairs: Array<{ visit: LabelledVisit; event: RebuiltEvent }>;
  missed: LabelledVisit[];
  unmatched: RebuiltEvent[];
}

export interface ScoreOptions {
  /** Clip length, s: visits still open and events never ended are cut here. */
  clipSeconds: number;
  /** Epoch ms of the clip's first frame (to read `last_seen`); default: last_seen is not used. */
  clipStartMs?: number;
  /** Visits within this many seconds of the rule's threshold are ambiguous. Default 0.5. */
  ambiguousSeconds?: number;
  /** Alarm latency goal: threshold + this. Default 1. */
  latencySlack?: number;
}

/** Groups event rows by id into events with alarm, entry and end times. */
export function rebuildEvents(rows: readonly ScoredEventRow[], o: Pick<ScoreOptions, 'clipSeconds' | 'clipStartMs'>): RebuiltEvent[] {
  const byId = new Map<string, RebuiltEvent>();
  for (const r of rows) {
    if (r.kind !== 'unauthorized_access' && r.kind !== 'loitering') continue;
    if (!r.zone) continue;
    let e = byId.get(r.id);
    if (r.phase === 'start') {
      const dwell = Number(r.details?.dwell_seconds ?? 0);
      e = { id: r.id, kind: r.kind, zone: r.zone, track: r.track ?? null, alarm: r.t, entered: r.t - (Number.isFinite(dwell) ? dwell : 0), end: o.clipSeconds, reason: null };
      byId.set(r.id, e);
    } else if (r.phase === 'end' && e) {
      e.end = r.t;
      e.reason = typeof r.details?.reason === 'string' ? r.details.reason : null;
      // A lost object's event ends when it was last seen, not when its hold ran out.
      const lastSeen = typeof r.details?.last_seen === 'string' ? Date.parse(r.details.last_seen) : NaN;
      if (e.reason === 'track_lost' && o.clipStartMs !== undefined && Number.isFinite(lastSeen)) e.end = Math.min(e.end, (lastSeen - o.clipStartMs) / 1000);
      if (e.reason === 'shutdown') e.end = Math.min(e.end, o.clipSeconds);
    }
  }
  return [...byId.values()];
}

/** Scores one zone's rule (restricted access or loitering). */
export function scoreRule(zone: ScoredZone, rule: ScoredRule, visits: readonly LabelledVisit[], events: readonly RebuiltEvent[], o: ScoreOptions): RuleScore | null {
  const threshold = rule === 'loitering' ? zone.loiter_seconds : zone.min_dwell_seconds;
  if (threshold === undefined) return null;
  const band = o.ambiguousSeconds ?? 0.5;
  const slack = o.latencySlack ?? 1;
  const vs = visits.filter((v) => v.zone === zone.id);
  const es = events.filter((e) => e.zone === zone.id && e.kind === rule);
  const exitOf = (v: LabelledVisit) => v.exit ?? o.clipSeconds;
  const duration = (v: LabelledVisit) => exitOf(v) - v.entry;
  const classOf = (v: LabelledVisit): 'expected' | 'ambiguous' | 'short' => {
    const d = duration(v);
    // A visit cut by the clip's end may go on: only a long enough one is certain.
    if (d >= threshold + band) return 'expected';
    if (d >= threshold - band || v.exit === null) return 'ambiguous';
    return 'short';
  };

  // One event per visit: optimal assignment on entry and exit agreement, among
  // pairs that overlap in time at all.
  const cost = es.map((e) =>
    vs.map((v) => {
      const ov = overlap(e.entered, e.end, v.entry, exitOf(v));
      const union = Math.max(e.end, exitOf(v)) - Math.min(e.entered, v.entry);
      if (!(ov > 0) || ov / Math.max(union, 1e-6) < 0.1) return Number.POSITIVE_INFINITY;
      return Math.abs(e.entered - v.entry) + Math.abs(e.end - exitOf(v));
    }),
  );
  const a = assign(cost, 1e9, vs.length);
  const matchOf = new Map<number, number>(); // visit → event
  for (const [ei, vi] of a.matches) matchOf.set(vi, ei);

  const startErr: number[] = [];
  const endErr: number[] = [];
  const latency: number[] = [];
  let hits = 0;
  let falseAlarms = 0;
  let ambiguousMatched = 0;
  const pairs: RuleScore['pairs'] = [];
  const missed: LabelledVisit[] = [];
  for (let vi = 0; vi < vs.length; vi++) {
    const v = vs[vi]!;
    const cls = classOf(v);
    const ei = matchOf.get(vi);
    if (ei === undefined) {
      if (cls === 'expected') missed.push(v);
      continue;
    }
    const e = es[ei]!;
    if (cls === 'ambiguous') {
      ambiguousMatched++;
      continue;
    }
    if (cls === 'short') {
      falseAlarms++;
      continue;
    }
    hits++;
    pairs.push({ visit: v, event: e });
    if (!v.inside_at_start) {
      startErr.push(Math.abs(e.entered - v.entry));
      latency.push(e.alarm - v.entry);
    }
    if (v.exit !== null && e.reason !== 'shutdown') endErr.push(Math.abs(e.end - v.exit));
  }
  const unmatched = a.unmatchedRows.map((ei) => es[ei]!);
  falseAlarms += unmatched.length;

  // A split: an extra event lying mostly inside one visit (the object was taken for a new one).
  const splitVisits = new Set<number>();
  for (const e of unmatched) {
    const len = Math.max(e.end - e.entered, 1e-6);
    vs.forEach((v, vi) => {
      if (overlap(e.entered, e.end, v.entry, exitOf(v)) >= 0.5 * len) splitVisits.add(vi);
    });
  }
  // A merge: a visit nobody matched, covered by the part of a matched event that
  // lies outside its own visit (one track went on to a second person).
  let merges = 0;
  vs.forEach((b, bi) => {
    if (matchOf.has(bi) || classOf(b) === 'short') return;
    const need = Math.min(1, 0.5 * duration(b));
    for (const [vi, ei] of matchOf) {
      const e = es[ei]!;
      const own = vs[vi]!;
      const before = overlap(e.entered, Math.min(e.end, own.entry), b.entry, exitOf(b));
      const after = overlap(Math.max(e.entered, exitOf(own)), e.end, b.entry, exitOf(b));
      if (before + after >= need) {
        merges++;
        return;
      }
    }
  });

  const expected = vs.filter((v) => classOf(v) === 'expected').length;
  const scoredEvents = es.length - ambiguousMatched;
  return {
    zone: zone.id,
    rule,
    threshold,
    expected,
    ambiguous: vs.filter((v) => classOf(v) === 'ambiguous').length,
    events: es.length,
    hits,
    misses: missed.length,
    falseAlarms,
    recall: expected > 0 ? hits / expected : null,
    precision: scoredEvents > 0 ? hits / scoredEvents : null,
    startError: figures(startErr),
    endError: figures(endErr),
    latency: figures(latency),
    lateAlarms: latency.filter((l) => l > threshold + slack + 1e-9).length,
    merges,
    splits: splitVisits.size,
    pairs,
    missed,
    unmatched,
  };
}

/** Every zone's restricted-access and loitering rules, plus totals per rule. */
export function scoreVisits(zones: readonly ScoredZone[], visits: readonly LabelledVisit[], rows: readonly ScoredEventRow[], o: ScoreOptions): { rules: RuleScore[]; totals: Record<ScoredRule, RuleScore> } {
  const events = rebuildEvents(rows, o);
  const rules: RuleScore[] = [];
  for (const z of zones) {
    for (const rule of ['unauthorized_access', 'loitering'] as const) {
      const s = scoreRule(z, rule, visits, events, o);
      if (s) rules.push(s);
    }
  }
  const totals = {} as Record<ScoredRule, RuleScore>;
  for (const rule of ['unauthorized_access', 'loitering'] as const) totals[rule] = total(rule, rules.filter((r) => r.rule === rule));
  return { rules, totals };
}

function total(rule: ScoredRule, rs: RuleScore[]): RuleScore {
  const sum = (k: 'expected' | 'ambiguous' | 'events' | 'hits' | 'misses' | 'falseAlarms' | 'lateAlarms' | 'merges' | 'splits') => rs.reduce((n, r) => n + r[k], 0);
  const pairs = rs.flatMap((r) => r.pairs);
  const threshold = NaN;
  const startErr = pairs.filter((p) => !p.visit.inside_at_start).map((p) => Math.abs(p.event.entered - p.visit.entry));
  const endErr = pairs.filter((p) => p.visit.exit !== null && p.event.reason !== 'shutdown').map((p) => Math.abs(p.event.end - p.visit.exit!));
  // Latency is judged against each zone's own threshold; the total shows the excess over it.
  const latency = rs.flatMap((r) => r.pairs.filter((p) => !p.visit.inside_at_start).map((p) => p.event.alarm - p.visit.entry - r.threshold));
  const hits = sum('hits');
  const expected = sum('expected');
  const scored = rs.reduce((n, r) => n + r.hits + r.falseAlarms, 0);
  return {
    zone: 'total',
    rule,
    threshold,
    expected,
    ambiguous: sum('ambiguous'),
    events: sum('events'),
    hits,
    misses: sum('misses'),
    falseAlarms: sum('falseAlarms'),
    recall: expected > 0 ? hits / expected : null,
    precision: scored > 0 ? hits / scored : null,
    startError: figures(startErr),
    endError: figures(endErr),
    latency: figures(latency),
    lateAlarms: sum('lateAlarms'),
    merges: sum('merges'),
    splits: sum('splits'),
    pairs,
    missed: rs.flatMap((r) => r.missed),
    unmatched: rs.flatMap((r) => r.unmatched),
  };
}

function overlap(a0: number, a1: number, b0: number, b1: number): number {
  return Math.max(0, Math.min(a1, b1) - Math.max(a0, b0));
}

function figures(values: number[]): Figures {
  if (values.length === 0) return { median: null, worst: null };
  const s = [...values].sort((x, y) => x - y);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  return { median: round(median), worst: round(s.reduce((w, v) => (Math.abs(v) > Math.abs(w) ? v : w), 0)) };
}

function round(v: number): number {
  return Math.round(v * 1000) / 1000;
}
