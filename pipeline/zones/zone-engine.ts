import { eventId } from '../events/event-id.js';
import type { Box, EventKind, PortEvent } from '../events/types.js';
import { sameObject } from '../track/appearance.js';
import { bufferedIou, coverage, pointInPolygon, segmentsIntersect, sideOf } from '../geometry/index.js';
import type { Track } from '../track/types.js';
import { bottomCentre } from './geometry.js';
import { assertTimeZone, compileSchedule, isArmed, localTime, type CompiledWindow, type LocalTime } from './schedule.js';
import type { Point, TripwireDirection, TripwireSpec, ZoneKind, ZoneSpec } from './types.js';

/** Classes that make up cargo movement; `container` and `crane` only occur when the model has them. */
export const CARGO_CLASSES: readonly string[] = ['truck', 'car', 'bus', 'boat', 'container', 'crane'];

/** What a zone kind watches when its `classes` list is empty. */
export const DEFAULT_ZONE_CLASSES: Record<ZoneKind, readonly string[] | null> = {
  restricted: ['person'],
  cargo: CARGO_CLASSES,
  watch: null, // every class
};

export interface ZoneEngineOptions {
  camera: string;
  zones: readonly ZoneSpec[];
  tripwires?: readonly TripwireSpec[];
  /** The site's IANA time zone, for schedules (e.g. "Asia/Shanghai"). */
  timeZone: string;
  /** Consecutive observations inside (outside) before an object counts as entered (left). */
  inertia?: number;
  /** Consecutive observations on the far side of a tripwire before a crossing counts. */
  tripwireInertia?: number;
  /** Seconds between periodic `update` rows of an open event while the object moves. */
  updateIntervalSeconds?: number;
  /** An `update` with reason `better_snapshot` when the smoothed score beats the event's best by this much. */
  betterScoreMargin?: number;
  /** Seconds the state of a vanished moving track waits for a successor track before its events end. */
  holdSeconds?: number;
  /** The same for an object that was stationary when it vanished (a parked truck the detector stopped seeing). */
  parkedHoldSeconds?: number;
  /** An object whose ground point stays within this share of its box height for `stationarySeconds` is stationary. */
  stationaryRadius?: number;
  stationarySeconds?: number;
  /** Minimum buffered IoU between a vanished object's last box and a new track for the new track to take its place. */
  reacquireIou?: number;
  /**
   * A new track may take the place of an object last seen longer ago than
   * this only on evidence (similar size within `maxSizeRatio`, similar colours
   * above `minAppearance`; without colours only a stationary object, on size).
   */
  evidenceGapSeconds?: number;
  maxSizeRatio?: number;
  minAppearance?: number;
}

export interface FrameSize {
  width: number;
  height: number;
}

export interface ZoneOccupancy {
  zone: string;
  kind: ZoneKind;
  count: number;
  byClass: Record<string, number>;
}

export interface TripwireCount {
  tripwire: string;
  count: number;
  left_to_right: number;
  right_to_left: number;
}

type RuleKind = 'unauthorized_access' | 'cargo_zone' | 'loitering';

interface CompiledZone {
  spec: ZoneSpec;
  classes: Set<string> | null;
  schedule: CompiledWindow[];
  rules: RuleKind[];
}

interface CompiledWire {
  spec: TripwireSpec;
  classes: Set<string> | null;
  schedule: CompiledWindow[];
  counts: { left_to_right: number; right_to_left: number };
}

interface ZoneMemo {
  inside: boolean;
  streakIn: number;
  streakOut: number;
  /** First observation of the current inside streak. */
  streakStart: number;
  /** First observation of the confirmed presence (dwell runs from here). */
  enteredAt: number;
  /** First observation of the outside streak that ended the presence. */
  leftAt: number;
}

interface WireMemo {
  side: -1 | 0 | 1;
  lastPoint: Point | null;
  candidateStreak: number;
  candidatePoint: Point | null;
  candidateTime: number;
}

/** One observation of a tentative track, kept until it is confirmed (or dropped as a false detection). */
interface PathPoint {
  /** Bottom-centre, normalised. */
  p: Point;
  time: number;
}

/**
 * Bound on the tentative path per object. A track is tentative for the
 * tracker's `minHits` observations (3 by default); the bound only guards
 * against a tracker configured never to confirm.
 */
const MAX_TENTATIVE_PATH = 64;

/**
 * The track path an event carries (`details.track_path`, normalised ground
 * points, oldest first) so that the alert's detail can draw where the object
 * went: the last points at least TRAIL_STEP apart (a standing object adds
 * none), at most MAX_TRAIL of them (about 0.5 kB per event row).
 */
const MAX_TRAIL = 32;
const TRAIL_STEP = 0.01;

interface OpenEvent {
  id: string;
  kind: EventKind;
  rule: RuleKind;
  zone: string;
  track: number;
  start: number;
  lastEmitted: number;
  lastUpdate: number;
  bestScore: number;
  stationaryReported: boolean;
}

interface ObjectMemo {
  track: number;
  trackIds: number[];
  class: string;
  score: number;
  box: Box;
  lastSeen: number;
  confirmed: boolean;
  /** The tracker's state for this track in the latest update. */
  state: Track['state'];
  anchor: Point | null; // pixels
  anchorTime: number;
  stationary: boolean;
  zones: Map<string, ZoneMemo>;
  wires: Map<string, WireMemo>;
  /** Ground points seen while the track was tentative; replayed through the tripwires at confirmation. */
  path: PathPoint[];
  /** Recent ground points, normalised, oldest first (see MAX_TRAIL). */
  trail: Point[];
  /** The tracker says it left the picture: nothing waits for it to come back. */
  leaving: boolean;
  appearance: readonly number[] | null;
  events: Map<string, OpenEvent>; // key: rule:zone
}

interface HeldObject {
  memo: ObjectMemo;
  until: number;
}

/**
 * Turns one camera's tracks into zone and tripwire events.
 *
 * Per object and rule there is one event: `start` when the rule's condition
 * is first met, `update` rows (periodic while the object moves, when a better
 * snapshot is likely, when it stops), and `end` when it leaves, vanishes or
 * the schedule closes. All rows of one event share its id, and their times
 * increase strictly. Tripwire crossings are `instant` events.
 */
export class ZoneEngine {
  readonly camera: string;
  private readonly timeZone: string;
  private readonly zones: CompiledZone[];
  private readonly wires: CompiledWire[];
  private readonly o: Required<Omit<ZoneEngineOptions, 'camera' | 'zones' | 'tripwires' | 'timeZone'>>;
  private readonly objects = new Map<number, ObjectMemo>();
  private held: HeldObject[] = [];
  /** Track ids whose object another track took over; ignored until the tracker drops them. */
  private readonly merged = new Set<number>();
  private lastTime = Number.NEGATIVE_INFINITY;

  constructor(options: ZoneEngineOptions) {
    this.camera = options.camera;
    this.timeZone = options.timeZone;
    assertTimeZone(options.timeZone);
    this.o = {
      inertia: options.inertia ?? 3,
      tripwireInertia: options.tripwireInertia ?? 2,
      updateIntervalSeconds: options.updateIntervalSeconds ?? 30,
      betterScoreMargin: options.betterScoreMargin ?? 0.1,
      holdSeconds: options.holdSeconds ?? 10,
      parkedHoldSeconds: options.parkedHoldSeconds ?? 3600,
      stationaryRadius: options.stationaryRadius ?? 0.15,
      stationarySeconds: options.stationarySeconds ?? 10,
      reacquireIou: options.reacquireIou ?? 0.3,
      evidenceGapSeconds: options.evidenceGapSeconds ?? 2,
      maxSizeRatio: options.maxSizeRatio ?? 1.4,
      minAppearance: options.minAppearance ?? 0.75,
    };
    for (const key of ['inertia', 'tripwireInertia'] as const) {
      if (!(Number.isInteger(this.o[key]) && this.o[key] >= 1)) throw new RangeError(`zone engine (${this.camera}): ${key} must be an integer >= 1`);
    }
    const seen = new Set<string>();
    const unique = (id: string, where: string) => {
      if (seen.has(id)) throw new RangeError(`${where}: id "${id}" is used twice on camera ${this.camera}; zone and tripwire ids must be unique`);
      seen.add(id);
    };
    this.zones = options.zones.map((spec, i) => {
      const where = `camera ${this.camera} zones[${i}] (${spec.id})`;
      unique(spec.id, where);
      if (!Array.isArray(spec.polygon) || spec.polygon.length < 3) throw new RangeError(`${where}.polygon: needs at least 3 points`);
      const rules: RuleKind[] = [];
      if (spec.kind === 'restricted') rules.push('unauthorized_access');
      else if (spec.kind === 'cargo') rules.push('cargo_zone');
      if (spec.loiter_seconds !== undefined) rules.push('loitering');
      return { spec, classes: classSet(spec.classes, DEFAULT_ZONE_CLASSES[spec.kind]), schedule: compileSchedule(spec.schedule, where), rules };
    });
    this.wires = (options.tripwires ?? []).map((spec, i) => {
      const where = `camera ${this.camera} tripwires[${i}] (${spec.id})`;
      unique(spec.id, where);
      const [a, b] = spec.line;
      if (a[0] === b[0] && a[1] === b[1]) throw new RangeError(`${where}.line: the two points are the same; a tripwire needs two distinct points`);
      return { spec, classes: classSet(spec.classes, CARGO_CLASSES), schedule: compileSchedule(spec.schedule, where), counts: { left_to_right: 0, right_to_left: 0 } };
    });
  }

  /** Objects currently inside each zone (confirmed and lost tracks, not tentative ones). */
  occupancy(): ZoneOccupancy[] {
    return this.zones.map((z) => {
      const byClass: Record<string, number> = {};
      let count = 0;
      for (const m of this.objects.values()) {
        if (!m.confirmed || !m.zones.get(z.spec.id)?.inside) continue;
        count++;
        byClass[m.class] = (byClass[m.class] ?? 0) + 1;
      }
      return { zone: z.spec.id, kind: z.spec.kind, count, byClass };
    });
  }

  /**
   * True while an object seen in the latest update stands in a zone whose
   * event it has not raised yet and would raise within `horizonS` seconds of
   * dwell (its inside streak is running, or its dwell is): the next detections
   * decide whether an alarm starts. The camera asks the detector to serve such
   * frames first (docs/camera-pipeline.md, "Alarm frames first"). The zone's
   * schedule is not consulted: a closed zone only costs a frame served early.
   */
  awaitingStart(horizonS = 5): boolean {
    for (const m of this.objects.values()) {
      if (m.lastSeen !== this.lastTime) continue;
      for (const z of this.zones) {
        const zm = m.zones.get(z.spec.id);
        if (!zm || zm.streakIn === 0) continue;
        // Dwell runs from the first observation of the presence (the streak's, until it is confirmed).
        const since = zm.inside ? zm.enteredAt : zm.streakStart;
        const dwell = (this.lastTime - since) / 1000;
        for (const rule of z.rules) {
          if (m.events.has(`${rule}:${z.spec.id}`)) continue;
          const needed = rule === 'loitering' ? (z.spec.loiter_seconds ?? 0) : z.spec.min_dwell_seconds;
          if (needed - dwell <= horizonS) return true;
        }
      }
    }
    return false;
  }

  /** Running crossing counts per tripwire (only crossings that matched its direction and classes). */
  counts(): TripwireCount[] {
    return this.wires.map((w) => ({
      tripwire: w.spec.id,
      count: w.counts.left_to_right + w.counts.right_to_left,
      left_to_right: w.counts.left_to_right,
      right_to_left: w.counts.right_to_left,
    }));
  }

  /**
   * Feeds the tracker's output for one detection run. Tracks missing from
   * the list are gone; `lost` tracks keep their state and events. Returns the
   * events this step produced, in time order.
   */
  update(tracks: readonly Track[], frame: FrameSize, time: Date | number): PortEvent[] {
    const now = typeof time === 'number' ? time : time.getTime();
    if (!Number.isFinite(now)) throw new RangeError(`zone engine (${this.camera}): time must be a finite epoch-ms or a valid Date`);
    if (!(frame.width > 0 && frame.height > 0)) throw new RangeError(`zone engine (${this.camera}): frame size must be positive, got ${frame.width}×${frame.height}`);
    if (now < this.lastTime) return []; // a late frame; the tracker skips it too
    this.lastTime = now;
    const out: PortEvent[] = [];
    const local = localTime(now, this.timeZone);

    // Where each object was before this run: a person emerging from a merged box appears beside it.
    const before = new Map<ObjectMemo, Box>();
    for (const m of this.objects.values()) if (m.confirmed) before.set(m, m.box);
    const present = new Set<number>();
    for (const t of tracks) {
      present.add(t.id);
      if (this.merged.has(t.id)) continue;
      let m = this.objects.get(t.id);
      if (!m) {
        m = newMemo(t);
        this.inheritEntry(m, t, before);
        this.objects.set(t.id, m);
      }
      m.class = t.class;
      m.score = t.score;
      m.state = t.state;
      m.leaving = t.leaving ?? false;
      if (t.appearance) m.appearance = t.appearance;
      if (t.state !== 'tentative' && !m.confirmed) {
        m.confirmed = true;
        this.reacquire(m, t, now);
        this.replayPath(m, t, out);
      }
      if (t.observed) this.observe(m, t, frame, now, local, out);
    }

    for (const id of this.merged) if (!present.has(id)) this.merged.delete(id);
    // Vanished tracks: keep their state for a while in case the object comes back under a new id.
    for (const [id, m] of this.objects) {
      if (present.has(id)) continue;
      this.objects.delete(id);
      if (!m.confirmed) continue;
      // One that left the picture is not waited for: its events end when it was last seen.
      const hold = m.leaving ? 0 : m.stationary ? this.o.parkedHoldSeconds : this.o.holdSeconds;
      this.held.push({ memo: m, until: m.lastSeen + hold * 1000 });
    }
    this.held = this.held.filter((h) => {
      if (h.until > now) return true;
      for (const ev of h.memo.events.values()) out.push(this.end(h.memo, ev, 'track_lost', Math.max(h.memo.lastSeen, ev.lastEmitted + 1)));
      return false;
    });

    for (const m of this.objects.values()) {
      if (m.confirmed) this.evaluate(m, now, local, out);
    }
    out.sort((a, b) => a.time.getTime() - b.time.getTime());
    return out;
  }

  /** Ends every open event (at shutdown or when the camera moves to another worker). */
  flush(time: Date | number): PortEvent[] {
    const now = typeof time === 'number' ? time : time.getTime();
    const out: PortEvent[] = [];
    for (const m of this.objects.values()) {
      for (const ev of m.events.values()) out.push(this.end(m, ev, 'shutdown', Math.max(now, ev.lastEmitted + 1)));
    }
    // Objects already gone (held for a successor) ended when they were last seen, not now.
    for (const { memo } of this.held) {
      for (const ev of memo.events.values()) out.push(this.end(memo, ev, 'track_lost', Math.max(memo.lastSeen, ev.lastEmitted + 1)));
    }
    this.objects.clear();
    this.merged.clear();
    this.held = [];
    out.sort((a, b) => a.time.getTime() - b.time.getTime());
    return out;
  }

  /**
   * A newly confirmed track that sits where another object of its class was
   * last seen, and that object is gone (held) or currently lost, is taken to
   * be that object under a new id (the tracker lost it and started over): it
   * takes over the object's zone state and open events, so nobody is alerted
   * twice for one person or one parked truck.
   */
  private reacquire(m: ObjectMemo, t: Track, now: number): void {
    let bestIou = this.o.reacquireIou;
    let heldIdx = -1;
    let lost: ObjectMemo | null = null;
    this.held.forEach((h, i) => {
      if (h.memo.class !== t.class || h.until < now || !this.plausiblySame(h.memo, t, now)) return;
      const overlap = bufferedIou(h.memo.box, t.box, 0.1);
      if (overlap >= bestIou) {
        bestIou = overlap;
        heldIdx = i;
      }
    });
    for (const o of this.objects.values()) {
      if (o === m || o.state !== 'lost' || !o.confirmed || o.class !== t.class || !this.plausiblySame(o, t, now)) continue;
      const overlap = bufferedIou(o.box, t.box, 0.1);
      if (overlap >= bestIou) {
        bestIou = overlap;
        lost = o;
      }
    }
    let old: ObjectMemo;
    if (lost) {
      old = lost;
      // The lost id keeps living in the tracker for a while; it must not hold
      // or end what now belongs to the new track.
      const lostId = lostIdOf(this.objects, lost);
      this.objects.delete(lostId);
      this.merged.add(lostId);
    } else if (heldIdx >= 0) {
      old = this.held.splice(heldIdx, 1)[0]!.memo;
    } else {
      return;
    }
    m.track = old.track;
    m.trackIds = [...old.trackIds, t.id];
    m.anchor = old.anchor;
    m.anchorTime = old.anchorTime;
    m.stationary = old.stationary;
    for (const [k, v] of old.zones) if (v.inside || !m.zones.get(k)?.inside) m.zones.set(k, v);
    for (const [k, v] of old.wires) m.wires.set(k, v);
    m.events = old.events;
    m.trail = [...old.trail, ...m.trail].slice(-MAX_TRAIL);
  }

  /**
   * Could the new track `t` be the vanished or lost object `old`? Not if it
   * left the picture; after `evidenceGapSeconds` only on size and colours
   * (a person standing where another stood half a minute ago is not them).
   */
  private plausiblySame(old: ObjectMemo, t: Track, now: number): boolean {
    if (old.leaving) return false;
    if ((now - old.lastSeen) / 1000 <= this.o.evidenceGapSeconds) return true;
    return sameObject(old, t, { ...this.o, withoutColours: old.stationary });
  }

  /**
   * A new object whose first box lies mostly inside a tracked object's box was
   * hidden in it (two people walking in together, seen as one until they part):
   * it takes that object's zone entry times, so its dwell runs from when they
   * entered, not from when the tracker told them apart.
   */
  private inheritEntry(m: ObjectMemo, t: Track, before: Map<ObjectMemo, Box>): void {
    let parent: ObjectMemo | null = null;
    let best = 0.5;
    for (const [o, b] of before) {
      // The merged box, grown by half its width and a quarter of its height: the pair walked
      // on since it was seen, and the one who comes out of it is at its side.
      const gx = 0.5 * (b[2] - b[0]);
      const gy = 0.25 * (b[3] - b[1]);
      const c = coverage(t.box, [b[0] - gx, b[1] - gy, b[2] + gx, b[3] + gy]);
      if (c >= best) {
        best = c;
        parent = o;
      }
    }
    if (!parent) return;
    for (const [id, zm] of parent.zones) {
      if (zm.inside) m.zones.set(id, { ...zm, inside: false, streakOut: 0 });
    }
  }

  private observe(m: ObjectMemo, t: Track, frame: FrameSize, now: number, local: LocalTime, out: PortEvent[]): void {
    m.box = [...t.box];
    m.lastSeen = now;
    // Stationary: the ground point in pixels stays near an anchor for a while.
    const px: Point = [(t.box[0] + t.box[2]) / 2, t.box[3]];
    const radius = this.o.stationaryRadius * (t.box[3] - t.box[1]);
    if (!m.anchor || Math.hypot(px[0] - m.anchor[0], px[1] - m.anchor[1]) > radius) {
      m.anchor = px;
      m.anchorTime = now;
    }
    m.stationary = (now - m.anchorTime) / 1000 >= this.o.stationarySeconds;

    const p = bottomCentre(t.box, frame);
    const lastTrail = m.trail[m.trail.length - 1];
    if (!lastTrail || Math.hypot(p[0] - lastTrail[0], p[1] - lastTrail[1]) >= TRAIL_STEP) {
      if (m.trail.length >= MAX_TRAIL) m.trail.shift();
      m.trail.push([round4(p[0]), round4(p[1])]);
    }
    const n = this.o.inertia;
    for (const z of this.zones) {
      let zm = m.zones.get(z.spec.id);
      if (!zm) {
        zm = { inside: false, streakIn: 0, streakOut: 0, streakStart: now, enteredAt: now, leftAt: now };
        m.zones.set(z.spec.id, zm);
      }
      const inside = classMatches(z.classes, t.class) && pointInPolygon(p, z.spec.polygon);
      if (inside) {
        if (zm.streakIn === 0) zm.streakStart = now;
        zm.streakIn++;
        zm.streakOut = 0;
        if (!zm.inside && zm.streakIn >= n) {
          zm.inside = true;
          zm.enteredAt = zm.streakStart;
        }
      } else {
        if (zm.streakOut === 0) zm.leftAt = now;
        zm.streakOut++;
        zm.streakIn = 0;
        if (zm.inside && zm.streakOut >= n) zm.inside = false;
      }
    }

    if (!m.confirmed) {
      // A tripwire is often crossed within an object's first few detections
      // (it enters the picture near a gate line); keep the path so the
      // crossing counts once the track is confirmed, and never if it is not.
      if (this.wires.length > 0) {
        if (m.path.length >= MAX_TENTATIVE_PATH) m.path.shift();
        m.path.push({ p, time: now });
      }
      return;
    }
    for (const w of this.wires) this.observeWire(m, w, p, now, local, t, out);
  }

  /**
   * Runs a newly confirmed track's tentative path through the tripwires, after
   * `reacquire` so that a re-found object continues its own side history. A
   * crossing keeps the time of the observation where the side flipped; the
   * class is the one at confirmation (the tracker's vote over all of them),
   * and the box is the current one, which is what a snapshot of this frame shows.
   */
  private replayPath(m: ObjectMemo, t: Track, out: PortEvent[]): void {
    for (const pt of m.path) {
      const local = localTime(pt.time, this.timeZone);
      for (const w of this.wires) this.observeWire(m, w, pt.p, pt.time, local, t, out);
    }
    m.path = [];
  }

  /**
   * One observation of the ground point `p` at `now` against a tripwire. `t`
   * gives the class, score and box reported with a crossing.
   */
  private observeWire(m: ObjectMemo, w: CompiledWire, p: Point, now: number, local: LocalTime, t: Track, out: PortEvent[]): void {
    const [a, b] = w.spec.line;
    let wm = m.wires.get(w.spec.id);
    if (!wm) {
      wm = { side: 0, lastPoint: null, candidateStreak: 0, candidatePoint: null, candidateTime: now };
      m.wires.set(w.spec.id, wm);
    }
    const s = sideOf(a, b, p);
    if (s === 0) return;
    if (wm.side === 0 || s === wm.side) {
      wm.side = s;
      wm.lastPoint = p;
      wm.candidateStreak = 0;
      return;
    }
    if (wm.candidateStreak === 0) {
      wm.candidatePoint = p;
      wm.candidateTime = now;
    }
    wm.candidateStreak++;
    if (wm.candidateStreak < this.o.tripwireInertia) return;
    // Settled on the other side: it crossed the infinite line; it crossed the
    // tripwire only if the step across the line passes between a and b.
    const from = wm.lastPoint!;
    const to = wm.candidatePoint!;
    const crossedAt = wm.candidateTime;
    const direction: Exclude<TripwireDirection, 'both'> = wm.side < 0 ? 'left_to_right' : 'right_to_left';
    wm.side = s;
    wm.lastPoint = p;
    wm.candidateStreak = 0;
    if (!segmentsIntersect(from, to, a, b)) return;
    if (!classMatches(w.classes, t.class)) return;
    if (w.spec.direction !== 'both' && w.spec.direction !== direction) return;
    if (!isArmed(w.schedule, local)) return;
    w.counts[direction]++;
    const kind = crossingKind(t.class);
    out.push({
      id: eventId(this.camera, `${kind}:${w.spec.id}`, m.track, crossedAt),
      time: new Date(crossedAt),
      kind,
      phase: 'instant',
      camera: this.camera,
      zone: w.spec.id,
      track: m.track,
      class: t.class,
      score: t.score,
      bbox: [...t.box],
      snapshot: null,
      details: {
        action: 'crossed',
        tripwire: w.spec.id,
        direction,
        count: w.counts.left_to_right + w.counts.right_to_left,
        counts: { ...w.counts },
        track_ids: [...m.trackIds],
        track_path: m.trail.map((q) => [...q]),
      },
    });
  }

  private evaluate(m: ObjectMemo, now: number, local: LocalTime, out: PortEvent[]): void {
    for (const z of this.zones) {
      const zm = m.zones.get(z.spec.id);
      const armed = isArmed(z.schedule, local);
      for (const rule of z.rules) {
        const key = `${rule}:${z.spec.id}`;
        const open = m.events.get(key);
        const inside = zm?.inside ?? false;
        if (open) {
          if (!inside) {
            m.events.delete(key);
            out.push(this.end(m, open, 'left', Math.max(zm!.leftAt, open.lastEmitted + 1)));
          } else if (!armed) {
            m.events.delete(key);
            out.push(this.end(m, open, 'schedule_closed', Math.max(now, open.lastEmitted + 1)));
          } else if (m.lastSeen === now) {
            this.maybeUpdate(m, open, z, zm!, now, out);
          }
          continue;
        }
        // Seen outside again (leaving, the inertia not yet run out): too late to raise it.
        if (!inside || !armed || m.lastSeen !== now || zm!.streakOut > 0) continue;
        const dwell = (now - zm!.enteredAt) / 1000;
        const needed = rule === 'loitering' ? (z.spec.loiter_seconds ?? 0) : z.spec.min_dwell_seconds;
        if (dwell < needed) continue;
        const kind: EventKind = rule === 'cargo_zone' ? 'cargo_movement' : rule;
        const ev: OpenEvent = {
          id: eventId(this.camera, `${kind}:${z.spec.id}`, m.track, now),
          kind,
          rule,
          zone: z.spec.id,
          track: m.track,
          start: now,
          lastEmitted: now,
          lastUpdate: now,
          bestScore: m.score,
          stationaryReported: m.stationary,
        };
        m.events.set(key, ev);
        out.push(this.row(m, ev, 'start', now, { ...(rule === 'cargo_zone' ? { action: 'entered' } : {}), ...this.zoneDetails(z, zm!, now) }));
      }
    }
  }

  private maybeUpdate(m: ObjectMemo, ev: OpenEvent, z: CompiledZone, zm: ZoneMemo, now: number, out: PortEvent[]): void {
    let reason: string | null = null;
    if (m.stationary && !ev.stationaryReported) {
      reason = 'stationary';
      ev.stationaryReported = true;
    } else if (!m.stationary && ev.stationaryReported) {
      reason = 'moving';
      ev.stationaryReported = false;
    } else if (m.score >= ev.bestScore + this.o.betterScoreMargin) {
      reason = 'better_snapshot';
    } else if (!m.stationary && (now - ev.lastUpdate) / 1000 >= this.o.updateIntervalSeconds) {
      // A parked object is quiet: no periodic rows while it stands still.
      reason = 'periodic';
    }
    if (!reason || now <= ev.lastEmitted) return;
    ev.bestScore = Math.max(ev.bestScore, m.score);
    ev.lastUpdate = now;
    out.push(this.row(m, ev, 'update', now, { reason, ...this.zoneDetails(z, zm, now) }));
  }

  private zoneDetails(z: CompiledZone, zm: ZoneMemo, now: number): Record<string, unknown> {
    const details: Record<string, unknown> = { zone_kind: z.spec.kind, dwell_seconds: round((now - zm.enteredAt) / 1000) };
    if (z.spec.kind === 'watch' || z.spec.kind === 'cargo') {
      details.occupancy = this.occupancy().find((o) => o.zone === z.spec.id)?.count ?? 0;
    }
    return details;
  }

  private end(m: ObjectMemo, ev: OpenEvent, reason: string, time: number): PortEvent {
    const zone = this.zones.find((z) => z.spec.id === ev.zone);
    const zm = m.zones.get(ev.zone);
    const until = reason === 'left' && zm ? zm.leftAt : Math.min(time, m.lastSeen);
    const details: Record<string, unknown> = {
      reason,
      zone_kind: zone?.spec.kind,
      dwell_seconds: round(zm ? Math.max(0, (until - zm.enteredAt) / 1000) : 0),
      last_seen: new Date(m.lastSeen).toISOString(),
    };
    if (ev.rule === 'cargo_zone' && reason === 'left') details.action = 'left';
    ev.lastEmitted = time;
    return this.row(m, ev, 'end', time, details);
  }

  private row(m: ObjectMemo, ev: OpenEvent, phase: PortEvent['phase'], time: number, details: Record<string, unknown>): PortEvent {
    ev.lastEmitted = time;
    return {
      id: ev.id,
      time: new Date(time),
      kind: ev.kind,
      phase,
      camera: this.camera,
      zone: ev.zone,
      track: ev.track,
      class: m.class,
      score: m.score,
      bbox: [...m.box],
      snapshot: null,
      details: { ...details, started: new Date(ev.start).toISOString(), stationary: m.stationary, track_ids: [...m.trackIds], track_path: m.trail.map((q) => [...q]) },
    };
  }
}

function lostIdOf(objects: Map<number, ObjectMemo>, memo: ObjectMemo): number {
  for (const [id, o] of objects) if (o === memo) return id;
  return -1;
}

/**
 * A tripwire crossed by cargo (a truck through a gate) is cargo movement; by
 * anything else (a person stepping over a line) it is a line crossing, so
 * alert rules can tell the two apart.
 */
export function crossingKind(cls: string): EventKind {
  return CARGO_CLASSES.includes(cls) ? 'cargo_movement' : 'line_crossing';
}

function newMemo(t: Track): ObjectMemo {
  return {
    track: t.id,
    trackIds: [t.id],
    class: t.class,
    score: t.score,
    box: [...t.box],
    lastSeen: t.lastSeen,
    confirmed: false,
    state: t.state,
    anchor: null,
    anchorTime: t.lastSeen,
    stationary: false,
    zones: new Map(),
    wires: new Map(),
    path: [],
    trail: [],
    leaving: t.leaving ?? false,
    appearance: t.appearance ?? null,
    events: new Map(),
  };
}

function classSet(classes: readonly string[] | undefined, fallback: readonly string[] | null): Set<string> | null {
  const list = classes && classes.length > 0 ? classes : fallback;
  return list ? new Set(list) : null;
}

function classMatches(classes: Set<string> | null, cls: string): boolean {
  return classes === null || classes.has(cls);
}

const round4 = (v: number) => Math.round(v * 10_000) / 10_000;

function round(v: number): number {
  return Math.round(v * 1000) / 1000;
}
