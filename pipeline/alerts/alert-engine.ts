import type { AlertRule, SiteConfig } from '../config/schema.js';
import { eventId, type EventKind, type PortEvent } from '../events/index.js';
import { compileRule, eventBerth, indexSite, viewOf, type CompiledRule, type SiteIndex } from './rules.js';
import { FLOOD_KIND, SEVERITY_PRIORITY, type AlertChange, type AlertObject, type DerivedAlert } from './types.js';

export interface AlertEngineOptions {
  site: Pick<SiteConfig, 'cameras' | 'berths' | 'site' | 'alerts'>;
  /**
   * An incident whose events all ended, and whose cooldown and flood window
   * passed this long ago (event time), is final: it leaves memory, and a late
   * re-delivery of its events is dropped. Default 10 minutes.
   */
  retireAfterMs?: number;
  /** Objects listed per alert at most (the earliest); `object_count` in the stats keeps the rest counted. Default 50. */
  maxObjects?: number;
}

export interface AlertEngineStats {
  events: number;
  /** Events no rule takes. */
  unmatched: number;
  /** Event phases of incidents already retired (re-deliveries long after). */
  late: number;
  /** Event occurrences held back by a rule's suppression windows (counted once each). */
  suppressed: number;
  alerts: number;
}

/** One event followed through its phases: min/max/union of what the phases say, so any order and any repeats agree. */
interface Occurrence {
  key: string;
  startId: string | null;
  minId: string;
  kind: EventKind;
  camera: string | null;
  zone: string | null;
  berth: string | null;
  mmsi: number | null;
  track: number | null;
  cls: string | null;
  score: number | null;
  snapshot: string | null;
  snapshotScore: number;
  first: number;
  last: number;
  ended: boolean;
  endAt: number;
  /** The object as alerts list it, built once per change of the occurrence (null: to build). */
  obj: AlertObject | null;
  /** `first` when `suppressed` was last decided (the windows are the site file's: fixed while the process runs). */
  suppressedFirst: number;
  suppressed: boolean;
}

interface Group {
  rule: CompiledRule;
  key: string;
  occurrences: Map<string, Occurrence>;
  /** Current alert ids of this group. */
  alerts: Set<string>;
  /** Alert id per anchoring occurrence (a hash: computed once). */
  ids: Map<string, string>;
}

interface ViewState {
  members: Map<string, DerivedAlert>;
  floods: Set<string>;
  dirty: boolean;
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The occurrence an event phase belongs to. Camera health gives each phase its
 * own id, so its episode is named by camera, fault and onset (`details.since`).
 */
export function occurrenceKey(e: PortEvent): string {
  const since = e.details?.since;
  if (e.kind.startsWith('camera_') && typeof since === 'string') return `health:${e.kind}:${e.camera ?? ''}:${since}`;
  return e.id;
}

/** Events of one incident: camera and zone for camera rules, the vessel for AIS, the camera for its health. */
export function groupKey(e: Pick<PortEvent, 'kind' | 'camera' | 'zone' | 'mmsi' | 'berth'>): string {
  if (e.kind.startsWith('camera_')) return `camera:${e.camera ?? ''}`;
  if (e.kind.startsWith('ais_') || e.kind.startsWith('berth_')) return e.mmsi != null ? `vessel:${e.mmsi}` : `berth:${e.berth ?? ''}`;
  return `zone:${e.camera ?? ''}|${e.zone ?? ''}`;
}

/**
 * Folds events into alerts, without I/O. Same events in any order, with any
 * repeats, give the same alerts with the same ids: an alert is a pure function
 * of the set of event phases seen (intervals joined within the rule's
 * cooldown, floods counted over sorted start times), recomputed for what each
 * event touches. `ingest` returns the alerts it changed.
 */
export class AlertEngine {
  private readonly rules: CompiledRule[];
  private readonly siteIndex: SiteIndex;
  private readonly views: SiteConfig['alerts']['views'];
  private readonly floodMax: number;
  private readonly floodWindowMs: number;
  private readonly retireAfterMs: number;
  private readonly maxObjects: number;
  private readonly groups = new Map<string, Group>();
  private readonly alerts = new Map<string, DerivedAlert>();
  private readonly alertGroup = new Map<string, Group>();
  private readonly viewStates = new Map<string, ViewState>();
  /** Each alert as last announced: a change is announced only when what the events decide differs from it. */
  private readonly emitted = new Map<string, DerivedAlert>();
  private readonly retired = new Map<string, number>();
  private readonly suppressedKeys = new Set<string>();
  private now = -Infinity;
  private sinceRetire = 0;
  readonly stats: AlertEngineStats = { events: 0, unmatched: 0, late: 0, suppressed: 0, alerts: 0 };

  constructor(opts: AlertEngineOptions) {
    this.siteIndex = indexSite(opts.site);
    this.rules = opts.site.alerts.rules.map((r) => compileRule(r, this.siteIndex));
    this.views = opts.site.alerts.views;
    this.floodMax = opts.site.alerts.flood.max_alerts;
    this.floodWindowMs = opts.site.alerts.flood.window_seconds * 1000;
    this.retireAfterMs = opts.retireAfterMs ?? 10 * 60_000;
    this.maxObjects = opts.maxObjects ?? 50;
  }

  /** Every current alert (flood alerts included, merged ones not). */
  current(): DerivedAlert[] {
    return [...this.alerts.values()];
  }

  get(id: string): DerivedAlert | undefined {
    return this.alerts.get(id);
  }

  /** The latest event time seen: the engine's clock. */
  get clock(): Date {
    return new Date(this.now);
  }

  ingest(event: PortEvent): AlertChange[] {
    this.stats.events++;
    const t = event.time.getTime();
    const key = occurrenceKey(event);
    if (this.retired.has(key)) {
      this.stats.late++;
      return [];
    }
    const matching = this.rules.filter((r) => r.matches(event));
    if (matching.length === 0) {
      this.stats.unmatched++;
      if (t > this.now) this.now = t;
      return this.tick();
    }
    if (t > this.now) this.now = t;
    const touched = new Set<string>();
    const dirtyViews = new Set<string>();
    for (const rule of matching) {
      const gk = groupKey(event);
      const id = `${rule.rule.id}\u001f${gk}`;
      let group = this.groups.get(id);
      if (!group) {
        group = { rule, key: gk, occurrences: new Map(), alerts: new Set(), ids: new Map() };
        this.groups.set(id, group);
      }
      this.fold(group, key, event);
      this.derive(group, key, touched, dirtyViews);
    }
    const cause = event.phase === 'update' ? `${event.id}.update.${t}` : `${event.id}.${event.phase}`;
    return this.finish(touched, dirtyViews).map((c) => ({ ...c, cause }));
  }

  /** Moves the clock (e.g. a timer while no events come) so floods end and old incidents retire. */
  advance(now: Date): AlertChange[] {
    if (now.getTime() > this.now) this.now = now.getTime();
    return this.tick();
  }

  private tick(): AlertChange[] {
    const touched = new Set<string>();
    const dirtyViews = new Set<string>();
    return this.finish(touched, dirtyViews);
  }

  private fold(group: Group, key: string, e: PortEvent) {
    const t = e.time.getTime();
    let o = group.occurrences.get(key);
    if (!o) {
      o = {
        key,
        startId: null,
        minId: e.id,
        kind: e.kind,
        camera: e.camera ?? null,
        zone: e.zone ?? null,
        berth: eventBerth(e, this.siteIndex),
        mmsi: e.mmsi ?? null,
        track: e.track ?? null,
        cls: e.class ?? null,
        score: null,
        snapshot: null,
        snapshotScore: -Infinity,
        first: t,
        last: t,
        ended: false,
        endAt: -Infinity,
        obj: null,
        suppressedFirst: NaN,
        suppressed: false,
      };
      group.occurrences.set(key, o);
    }
    if (e.id < o.minId) o.minId = e.id;
    if (e.phase === 'start' && (o.startId === null || e.id < o.startId)) o.startId = e.id;
    if (t < o.first) o.first = t;
    if (t > o.last) o.last = t;
    if (o.track === null && e.track != null) o.track = e.track;
    if (o.cls === null && e.class != null) o.cls = e.class;
    if (o.mmsi === null && e.mmsi != null) o.mmsi = e.mmsi;
    if (e.score != null && (o.score === null || e.score > o.score)) o.score = e.score;
    if (e.snapshot) {
      const s = e.score ?? -1;
      if (s > o.snapshotScore || (s === o.snapshotScore && (o.snapshot === null || e.snapshot < o.snapshot))) {
        o.snapshot = e.snapshot;
        o.snapshotScore = s;
      }
    }
    if (e.phase === 'end' || e.phase === 'instant') {
      o.ended = true;
      if (t > o.endAt) o.endAt = t;
    }
    o.obj = null;
  }

  /**
   * Recomputes a group's incidents after occurrence `changed` was folded:
   * occurrences sorted by start, joined while each starts within the cooldown
   * of the running end. An occurrence's interval only grows, so incidents
   * only join: one that does not hold `changed` and has as many members as
   * before is the one it was, and keeps its alert as it is.
   */
  private derive(group: Group, changed: string, touched: Set<string>, dirtyViews: Set<string>) {
    const rule = group.rule.rule;
    const minScore = rule.min_score;
    const eligible: Occurrence[] = [];
    for (const o of group.occurrences.values()) {
      if (minScore !== undefined && (o.score === null || o.score < minScore)) continue;
      if (o.suppressedFirst !== o.first) {
        o.suppressedFirst = o.first;
        o.suppressed = group.rule.suppressed(new Date(o.first), o.berth);
      }
      if (o.suppressed) {
        if (!this.suppressedKeys.has(`${rule.id}\u001f${o.key}`)) {
          this.suppressedKeys.add(`${rule.id}\u001f${o.key}`);
          this.stats.suppressed++;
        }
        continue;
      }
      eligible.push(o);
    }
    eligible.sort((a, b) => a.first - b.first || cmp(a.key, b.key));
    const components: Occurrence[][] = [];
    let end = -Infinity;
    for (const o of eligible) {
      const last = components.at(-1);
      if (last && o.first <= end + group.rule.cooldownMs) {
        last.push(o);
        if (o.last > end) end = o.last;
      } else {
        components.push([o]);
        end = o.last;
      }
    }
    const before = group.alerts;
    const after = new Set<string>();
    const ids: string[] = [];
    for (const comp of components) {
      const id = this.alertId(group, comp[0]!);
      ids.push(id);
      after.add(id);
      if (this.memberCount.get(id) === comp.length && this.alerts.has(id) && !comp.some((o) => o.key === changed)) continue;
      const a = this.alertOf(group, comp);
      this.memberCount.set(a.id, comp.length);
      const prev = this.alerts.get(a.id);
      if (prev) {
        a.flood = prev.flood;
        if (prev.first.getTime() !== a.first.getTime()) dirtyViews.add(a.view);
      } else {
        dirtyViews.add(a.view);
        this.alertGroup.set(a.id, group);
      }
      this.alerts.set(a.id, a);
      this.viewState(a.view).members.set(a.id, a);
      touched.add(a.id);
    }
    let anchorOf: Map<string, string> | null = null;
    for (const old of before) {
      if (after.has(old)) continue;
      // A late, earlier event joined this incident to another: the old alert points at the one that holds it now.
      if (!anchorOf) {
        anchorOf = new Map();
        for (let c = 0; c < components.length; c++) for (const o of components[c]!) anchorOf.set(o.key, ids[c]!);
      }
      const prev = this.alerts.get(old)!;
      const into = prev.objects.map((o) => anchorOf!.get(this.keyOfObject(group, o)) ?? null).find((x) => x !== null) ?? null;
      this.alerts.delete(old);
      this.alertGroup.delete(old);
      this.memberCount.delete(old);
      this.viewState(prev.view).members.delete(old);
      dirtyViews.add(prev.view);
      this.mergedAway.set(old, { ...prev, merged_into: into, flood: null });
      touched.add(old);
    }
    group.alerts = after;
  }

  private readonly mergedAway = new Map<string, DerivedAlert>();
  /** When each flood alert ends unless a new member comes (event time, ms). */
  private readonly floodDue = new Map<string, number>();
  private readonly objectKeys = new WeakMap<AlertObject, string>();
  /** Objects are immutable once built: their fingerprint part is computed once. */
  private readonly objectFingerprints = new WeakMap<AlertObject, string>();

  /**
   * Whether the events decide the same about two states of an alert. Rule,
   * severity, procedure and routes come from the rule and cannot change in
   * one process. Objects are compared by identity first (the engine rebuilds
   * one only when its event changes), then by content: a repeated phase
   * rebuilds an object equal to the old one.
   */
  private sameAlert(p: DerivedAlert, a: DerivedAlert): boolean {
    if (
      p.kind !== a.kind || p.camera !== a.camera || p.zone !== a.zone || p.berth !== a.berth || p.mmsi !== a.mmsi || p.view !== a.view ||
      p.first.getTime() !== a.first.getTime() || p.last.getTime() !== a.last.getTime() || p.active !== a.active ||
      (p.cleared_at?.getTime() ?? null) !== (a.cleared_at?.getTime() ?? null) ||
      p.flood !== a.flood || p.flood_count !== a.flood_count || p.merged_into !== a.merged_into ||
      p.kinds.length !== a.kinds.length || p.objects.length !== a.objects.length
    ) return false;
    for (let i = 0; i < a.kinds.length; i++) if (p.kinds[i] !== a.kinds[i]) return false;
    for (let i = 0; i < a.objects.length; i++) {
      const x = p.objects[i]!;
      const y = a.objects[i]!;
      if (x !== y && this.objectFingerprint(x) !== this.objectFingerprint(y)) return false;
    }
    return true;
  }

  private objectFingerprint(o: AlertObject): string {
    let fp = this.objectFingerprints.get(o);
    if (fp === undefined) {
      fp = objectFingerprint(o);
      this.objectFingerprints.set(o, fp);
    }
    return fp;
  }

  /** Occurrences per alert when it was last derived (see `derive`). */
  private readonly memberCount = new Map<string, number>();

  private alertId(group: Group, anchor: Occurrence): string {
    let id = group.ids.get(anchor.key);
    if (id === undefined) {
      id = eventId('alert', group.rule.rule.id, group.key, anchor.key);
      group.ids.set(anchor.key, id);
    }
    return id;
  }

  private keyOfObject(_group: Group, o: AlertObject): string {
    return this.objectKeys.get(o) ?? o.event;
  }

  private alertOf(group: Group, comp: Occurrence[]): DerivedAlert {
    const rule = group.rule.rule;
    const anchor = comp[0]!;
    const kinds = [...new Set(comp.map((o) => o.kind))].sort();
    let first = Infinity;
    let last = -Infinity;
    let active = false;
    let clearedAt = -Infinity;
    for (const o of comp) {
      if (o.first < first) first = o.first;
      if (o.last > last) last = o.last;
      if (!o.ended) active = true;
      else if (o.endAt > clearedAt) clearedAt = o.endAt;
    }
    const objects = comp.slice(0, this.maxObjects).map((o) => {
      if (o.obj) return o.obj;
      const obj: AlertObject = {
        event: o.startId ?? o.minId,
        kind: o.kind,
        track: o.track,
        class: o.cls,
        score: o.score,
        snapshot: o.snapshot,
        first: new Date(o.first),
        last: new Date(o.last),
        active: !o.ended,
      };
      this.objectKeys.set(obj, o.key);
      o.obj = obj;
      return obj;
    });
    const camera = anchor.camera;
    const berth = anchor.berth;
    const base = { rule: rule.id, camera, berth };
    return {
      id: this.alertId(group, anchor),
      rule: rule.id,
      kind: anchor.kind,
      kinds,
      severity: rule.severity,
      priority: SEVERITY_PRIORITY[rule.severity],
      camera,
      zone: group.key.startsWith('zone:') ? anchor.zone : null,
      berth,
      mmsi: anchor.mmsi,
      view: viewOf(this.views, base, this.siteIndex),
      objects,
      first: new Date(first),
      last: new Date(last),
      active,
      cleared_at: active ? null : new Date(clearedAt),
      procedure: rule.procedure,
      routes: rule.routes,
      flood: null,
      flood_count: null,
      merged_into: null,
    };
  }

  private viewState(view: string): ViewState {
    let v = this.viewStates.get(view);
    if (!v) {
      v = { members: new Map(), floods: new Set(), dirty: false };
      this.viewStates.set(view, v);
    }
    return v;
  }

  private finish(touched: Set<string>, dirtyViews: Set<string>): AlertChange[] {
    for (const view of dirtyViews) this.flood(view, touched);
    // Floods end by themselves: a flood alert is active until its window passes without a new member.
    for (const v of this.viewStates.values()) {
      for (const fid of v.floods) {
        const f = this.alerts.get(fid);
        if (!f || !f.active) continue;
        const end = this.floodDue.get(fid) ?? Infinity;
        if (this.now >= end) {
          this.alerts.set(fid, { ...f, active: false, cleared_at: new Date(end) });
          touched.add(fid);
        }
      }
    }
    if (++this.sinceRetire >= 256) {
      this.sinceRetire = 0;
      this.retire();
    }
    const changes: AlertChange[] = [];
    const t = new Date(this.now);
    for (const id of [...touched].sort()) {
      const a = this.alerts.get(id) ?? this.mergedAway.get(id);
      if (!a) continue;
      const prev = this.emitted.get(id);
      if (prev !== undefined && this.sameAlert(prev, a)) continue;
      // A copy: flood marks are set on the live alert in place.
      const copy = { ...a };
      this.emitted.set(id, copy);
      if (prev === undefined) this.stats.alerts++;
      changes.push({ alert: copy, t, created: prev === undefined });
    }
    return changes;
  }

  /**
   * ISA-18.2 flood per view: an alert with at least `max_alerts` others in the
   * view started within the window before it is in a flood. Flooded alerts of
   * one rule and group that follow each other within the window are one flood
   * alert with a count; only that one is announced.
   */
  private flood(view: string, touched: Set<string>) {
    const vs = this.viewState(view);
    const list = [...vs.members.values()].sort((a, b) => a.first.getTime() - b.first.getTime() || cmp(a.id, b.id));
    const flooded: DerivedAlert[] = [];
    let j = 0;
    for (let i = 0; i < list.length; i++) {
      const fi = list[i]!.first.getTime();
      while (list[j]!.first.getTime() <= fi - this.floodWindowMs) j++;
      if (i - j >= this.floodMax) flooded.push(list[i]!);
    }
    // One flood alert per flooding rule in the view: a flood of camera faults over forty cameras is one thing to look at.
    const byGroup = new Map<string, DerivedAlert[]>();
    for (const a of flooded) {
      const k = a.rule;
      const l = byGroup.get(k) ?? [];
      l.push(a);
      byGroup.set(k, l);
    }
    const floodOf = new Map<string, string>();
    const floods = new Set<string>();
    for (const [k, members] of byGroup) {
      let episode: DerivedAlert[] = [];
      const close = () => {
        if (episode.length === 0) return;
        const fa = this.floodAlert(view, k, episode);
        floods.add(fa.id);
        for (const m of episode) floodOf.set(m.id, fa.id);
        const prev = this.alerts.get(fa.id);
        if (!prev || floodSignature(prev) !== floodSignature(fa)) touched.add(fa.id);
        this.alerts.set(fa.id, fa);
        episode = [];
      };
      for (const m of members) {
        const lastFirst = episode.at(-1)?.first.getTime();
        if (lastFirst !== undefined && m.first.getTime() - lastFirst > this.floodWindowMs) close();
        episode.push(m);
      }
      close();
    }
    for (const a of list) {
      const f = floodOf.get(a.id) ?? null;
      if (a.flood !== f) {
        a.flood = f;
        touched.add(a.id);
      }
    }
    for (const old of vs.floods) {
      if (floods.has(old)) continue;
      const prev = this.alerts.get(old);
      this.alerts.delete(old);
      if (prev) {
        const into = floods.size > 0 ? ([...floods].find((f) => this.alerts.get(f)?.rule === prev.rule) ?? null) : null;
        this.mergedAway.set(old, { ...prev, merged_into: into });
        touched.add(old);
      }
    }
    vs.floods = floods;
  }

  private floodAlert(view: string, groupId: string, members: DerivedAlert[]): DerivedAlert {
    const head = members[0]!;
    const lastStart = members.at(-1)!.first.getTime();
    const due = lastStart + this.floodWindowMs;
    const active = this.now < due;
    const kinds = [...new Set(members.flatMap((m) => m.kinds))].sort();
    let last = -Infinity;
    for (const m of members) if (m.last.getTime() > last) last = m.last.getTime();
    const id = eventId('flood', view, groupId, head.id);
    this.floodDue.set(id, due);
    const cameras = new Set(members.map((m) => m.camera));
    return {
      ...head,
      id,
      camera: cameras.size === 1 ? head.camera : null,
      zone: cameras.size === 1 && new Set(members.map((m) => m.zone)).size === 1 ? head.zone : null,
      kind: FLOOD_KIND,
      kinds,
      objects: [],
      first: head.first,
      last: new Date(last),
      active,
      cleared_at: active ? null : new Date(due),
      flood: null,
      flood_count: members.length,
      merged_into: null,
    };
  }

  /** Drops incidents that are over for good (event time), remembering their events for an hour to drop late re-deliveries. */
  private retire() {
    const horizon = this.now - this.retireAfterMs;
    for (const [gid, group] of this.groups) {
      for (const id of [...group.alerts]) {
        const a = this.alerts.get(id);
        if (!a || a.active || !a.cleared_at) continue;
        if (a.cleared_at.getTime() + group.rule.cooldownMs >= horizon || a.first.getTime() + this.floodWindowMs >= horizon) continue;
        // The incident's occurrences: those whose first lies in its span.
        for (const [k, o] of group.occurrences) {
          if (o.first >= a.first.getTime() && o.first <= a.last.getTime()) {
            group.occurrences.delete(k);
            group.ids.delete(k);
            this.retired.set(k, this.now);
          }
        }
        group.alerts.delete(id);
        this.alerts.delete(id);
        this.alertGroup.delete(id);
        this.memberCount.delete(id);
        this.emitted.delete(id);
        this.viewState(a.view).members.delete(id);
      }
      if (group.occurrences.size === 0) this.groups.delete(gid);
    }
    for (const v of this.viewStates.values()) {
      for (const fid of [...v.floods]) {
        const f = this.alerts.get(fid);
        if (f && !f.active && f.cleared_at && f.cleared_at.getTime() < horizon) {
          v.floods.delete(fid);
          this.alerts.delete(fid);
          this.floodDue.delete(fid);
          this.emitted.delete(fid);
        }
      }
    }
    for (const [k, at] of this.retired) if (at < this.now - 3_600_000) this.retired.delete(k);
    for (const [k, a] of this.mergedAway) {
      if (a.last.getTime() >= horizon) continue;
      this.mergedAway.delete(k);
      this.emitted.delete(k);
    }
  }
}

function floodSignature(a: DerivedAlert): string {
  return `${a.flood_count}|${a.first.getTime()}|${a.last.getTime()}|${a.active}|${a.camera}|${a.kinds.join(',')}`;
}

const SEP = '\u001f';

/** An object's part of an alert's fingerprint. */
function objectFingerprint(o: AlertObject): string {
  return `\u001e${o.event}${SEP}${o.kind}${SEP}${o.track}${SEP}${o.class}${SEP}${o.score}${SEP}${o.snapshot}${SEP}${o.first.getTime()}${SEP}${o.last.getTime()}${SEP}${o.active}`;
}

export type { AlertRule };
