import path from 'node:path';
import { z } from 'zod';
import { aisIngestSettingsSchema } from '../ais-ingest/settings.js';
import { workersSettingsSchema } from '../runtime/settings.js';
import type { EventKind } from '../events/types.js';
import { storeSettingsSchema } from '../store/settings.js';
import { dispatchSettingsSchema } from '../dispatch/settings.js';
import type { TripwireSpec, Weekday, ZoneSpec } from '../zones/types.js';
import { polygonProblem } from './geometry.js';
import { parseSiteDateTime } from './time.js';
import { latLonPolygonSchema, latLonSchema } from './lat-lon.js';

export { latLonSchema, latLonPolygonSchema };

/**
 * The site file's schema, after camera groups are expanded and environment
 * references resolved (see expand.ts and env.ts). Keys are snake_case here and
 * in the inferred types: one concept, one name, no renaming layer.
 *
 * Messages never repeat the value they reject: stream URLs carry resolved
 * passwords, and the file position already shows the operator what is wrong.
 */

/**
 * `body_worn`: a field officer's recorder, linked to an inspector; never
 * analysed continuously, watched live from the inspector's open job.
 */
export const CAMERA_KINDS = ['dock', 'yard', 'channel', 'gate', 'body_worn'] as const;
export const ZONE_KINDS = ['restricted', 'cargo', 'watch'] as const;
export const TRIPWIRE_DIRECTIONS = ['left_to_right', 'right_to_left', 'both'] as const;
export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export const SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'] as const;
export const FEED_PROTOCOLS = ['tcp', 'udp', 'file'] as const;
export const ALERT_ROUTE_KINDS = ['board', 'dispatch', 'webhook', 'mqtt'] as const;
/**
 * A closed list on purpose: an inspector whose skill is misspelt would never be
 * drawn for the inspections needing it, silently. Add a skill here, not in a site file.
 */
export const INSPECTOR_SKILLS = [
  'health_quarantine',
  'animal_plant',
  'food',
  'container',
  'radio_quarantine',
  'hazardous_goods',
  'sanitation',
  'vessel',
] as const;
export const EVENT_KINDS = [
  'unauthorized_access',
  'cargo_movement',
  'line_crossing',
  'loitering',
  'camera_offline',
  'camera_frozen',
  'camera_covered',
  'camera_blackout',
  'camera_defocused',
  'camera_moved',
  'berth_arrival',
  'berth_departure',
  'ais_dark',
  'ais_position_jump',
  'ais_speeding',
  'ais_invalid_identity',
  'ais_identity_change',
  'ais_unassigned_berth',
] as const satisfies readonly EventKind[];

export type CameraKind = (typeof CAMERA_KINDS)[number];
export type Severity = (typeof SEVERITIES)[number];
export type InspectorSkill = (typeof INSPECTOR_SKILLS)[number];
export type FeedProtocol = (typeof FEED_PROTOCOLS)[number];

// ---------------------------------------------------------------- building blocks

const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/;
/** Ids end up in Redis keys, database rows and snapshot file names. */
export const idSchema = z
  .string()
  .regex(ID_PATTERN, 'an id is 1 to 64 letters, digits, "_", ".", ":" or "-", starting with a letter or digit');

const text = z.string().trim().min(1, 'must not be empty');

const uniqueStrings = <T extends z.ZodType<string>>(item: T, what: string) =>
  z
    .array(item)
    .min(1, `list at least one ${what}`)
    .superRefine((list, ctx) => {
      list.forEach((v, i) => {
        if (list.indexOf(v) !== i) ctx.addIssue({ code: 'custom', message: `"${v}" is listed twice`, path: [i] });
      });
    });

const unitCoord = z.number().min(0, 'out of range: normalised image coordinates run from 0 to 1').max(1, 'out of range: normalised image coordinates run from 0 to 1');
/** [x, y] in normalised image coordinates, origin top-left. */
export const pointSchema = z.tuple([unitCoord, unitCoord], { error: 'a point is [x, y] with both in 0..1' });

const polygonOf = <T extends z.ZodType<[number, number]>>(point: T) =>
  z
    .array(point)
    .min(3, 'a polygon needs at least 3 points')
    .superRefine((points, ctx) => {
      if (points.length < 3) return; // already reported by min(3)
      const problem = polygonProblem(points);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    });

export const normalisedPolygonSchema = polygonOf(pointSchema);


const HHMM = /^([01]\d|2[0-3]):[0-5]\d$/;
const clock = z.string().regex(HHMM, 'a time of day is "HH:MM", 00:00 to 23:59');
const clockEnd = z.string().regex(/^(([01]\d|2[0-3]):[0-5]\d|24:00)$/, 'a time of day is "HH:MM", 00:00 to 24:00');

const DAY_SETS: Record<string, Weekday[]> = {
  daily: [...WEEKDAYS],
  weekdays: ['mon', 'tue', 'wed', 'thu', 'fri'],
  weekends: ['sat', 'sun'],
};

const days = z
  .union([z.array(z.enum(WEEKDAYS, { error: 'a day is one of mon, tue, wed, thu, fri, sat, sun' })).min(1, 'list at least one day'), z.enum(['daily', 'weekdays', 'weekends'])], {
    error: 'days is a list such as [mon, tue] or one of daily, weekdays, weekends',
  })
  .transform((d): Weekday[] => (typeof d === 'string' ? [...DAY_SETS[d]!] : WEEKDAYS.filter((w) => d.includes(w))));

/** A window in site-local time; `from` after `to` wraps past midnight (18:00–06:00). */
export const scheduleWindowSchema = z
  .strictObject({
    days: days.default([...WEEKDAYS]),
    from: clock,
    to: clockEnd,
  })
  .superRefine((w, ctx) => {
    if (w.from === w.to) ctx.addIssue({ code: 'custom', message: 'from equals to; write 00:00 to 24:00 for a whole day', path: ['to'] });
  });

// ---------------------------------------------------------------- cameras

const STREAM_SCHEMES = ['rtsp:', 'rtsps:', 'http:', 'https:'];
/** Only the scheme and host are checked; the message never echoes the URL (it holds a password). */
export const streamUrlSchema = z.string().superRefine((value, ctx) => {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    ctx.addIssue({ code: 'custom', message: 'not a valid URL (expected rtsp://user:${PASSWORD_VAR}@host:554/path)' });
    return;
  }
  if (!STREAM_SCHEMES.includes(url.protocol)) ctx.addIssue({ code: 'custom', message: 'a stream URL starts with rtsp://, rtsps://, http:// or https://' });
  else if (!url.hostname) ctx.addIssue({ code: 'custom', message: 'the stream URL names no host' });
});

const even = (v: number) => v % 2 === 0;

const detectFields = {
  /** Frames per second handed to motion gating and detection. */
  fps: z.number().positive('fps must be above 0').max(30, 'fps above 30 is more than any camera here delivers'),
  /** Size frames are scaled to before motion and detection, in pixels. */
  width: z.int('width is a whole number of pixels').min(64, 'width must be at least 64').max(3840, 'width must be at most 3840').refine(even, 'width must be even (video scaling needs even sizes)'),
  height: z.int('height is a whole number of pixels').min(64, 'height must be at least 64').max(2160, 'height must be at most 2160').refine(even, 'height must be even (video scaling needs even sizes)'),
  /** A model manifest name under models/ (e.g. nanodet-int8, nanodet, centernet). */
  model: idSchema,
  /** `sub`: decode the sub-stream when the camera has one, else main. */
  stream: z.enum(['sub', 'main'], { error: 'stream is sub or main' }),
  /**
   * The camera's keyframe interval (GOP) in seconds, as set on the camera.
   * Known and fps ≤ 1/keyframe_interval: only keyframes are decoded, on demand
   * for rtsp:// H.264 (docs/video.md). Unknown: every frame is decoded.
   */
  keyframe_interval: z.number().positive('keyframe_interval must be above 0 seconds').max(60, 'keyframe_interval above 60 s is not a camera setting'),
};

export const DETECT_DEFAULTS = { fps: 5, width: 640, height: 360, stream: 'sub' as const };

export const detectSchema = z.strictObject({
  fps: detectFields.fps.default(DETECT_DEFAULTS.fps),
  width: detectFields.width.default(DETECT_DEFAULTS.width),
  height: detectFields.height.default(DETECT_DEFAULTS.height),
  model: detectFields.model,
  stream: detectFields.stream.default(DETECT_DEFAULTS.stream),
  keyframe_interval: detectFields.keyframe_interval.optional(),
});

const classList = uniqueStrings(text, 'detector class (e.g. person, truck)');

export const zoneSchema = z.strictObject({
  id: idSchema,
  name: text.optional(),
  kind: z.enum(ZONE_KINDS, { error: 'kind is one of restricted, cargo, watch' }),
  polygon: normalisedPolygonSchema,
  classes: classList,
  schedule: z.array(scheduleWindowSchema).optional(),
  min_dwell_seconds: z.number().min(0, 'min_dwell_seconds cannot be negative').default(2),
  loiter_seconds: z.number().positive('loiter_seconds must be above 0').optional(),
});

export const tripwireSchema = z.strictObject({
  id: idSchema,
  name: text.optional(),
  line: z
    .tuple([pointSchema, pointSchema], { error: 'a tripwire line is two points [[x, y], [x, y]]' })
    .refine(([a, b]) => a[0] !== b[0] || a[1] !== b[1], 'the two points of the line are the same'),
  direction: z.enum(TRIPWIRE_DIRECTIONS, { error: 'direction is one of left_to_right, right_to_left, both' }).default('both'),
  classes: classList,
  schedule: z.array(scheduleWindowSchema).optional(),
});

export const cameraSchema = z
  .strictObject({
    id: idSchema,
    name: text.optional(),
    kind: z.enum(CAMERA_KINDS, { error: `kind is one of ${CAMERA_KINDS.join(', ')}` }),
    /** The berth this camera watches (dock cameras); must be one of `berths`. */
    berth: idSchema.optional(),
    /** The inspector wearing this camera (kind body_worn only); must be one of `inspectors`. */
    inspector: idSchema.optional(),
    /** false keeps the camera in the file but no worker pulls it (e.g. under repair). */
    enabled: z.boolean('enabled is true or false').default(true),
    /** Where the camera stands, [lat, lon], for the command-center map. */
    position: latLonSchema.optional(),
    streams: z.strictObject({ main: streamUrlSchema, sub: streamUrlSchema.optional() }),
    detect: detectSchema,
    zones: z.array(zoneSchema).default([]),
    tripwires: z.array(tripwireSchema).default([]),
    /** Motion is ignored inside these polygons (water glare, flags, a clock). */
    masks: z.array(normalisedPolygonSchema).default([]),
  })
  .transform((c) => ({ ...c, name: c.name ?? c.id }));

// ---------------------------------------------------------------- berths

/** Ship MMSIs are nine digits starting with the region digit 2 to 7. */
export const mmsiSchema = z.int('an MMSI is a whole number').min(200_000_000, "a ship's MMSI has 9 digits and starts with 2 to 7").max(799_999_999, "a ship's MMSI has 9 digits and starts with 2 to 7");

export interface SchemaContext {
  /** The site's IANA time zone, for local date-times in berth schedules. */
  timezone: string;
  /** Directory of the site file: relative paths in it resolve from here. */
  base_dir: string;
}

const siteDateTime = (ctx: SchemaContext) =>
  z.string('a date-time such as "2026-11-27T06:00" (site time) or "2026-11-27T06:00+08:00"').transform((v, c) => {
    const date = parseSiteDateTime(v, ctx.timezone);
    if (!date) {
      c.addIssue({ code: 'custom', message: 'a date-time such as "2026-11-27T06:00" (site time) or "2026-11-27T06:00+08:00"' });
      return z.NEVER;
    }
    return date;
  });

const berthAssignmentSchema = (ctx: SchemaContext) =>
  z
    .strictObject({
      mmsi: mmsiSchema,
      vessel_name: text.optional(),
      from: siteDateTime(ctx),
      to: siteDateTime(ctx),
    })
    .superRefine((a, c) => {
      if (a.to.getTime() <= a.from.getTime()) c.addIssue({ code: 'custom', message: 'to must be after from', path: ['to'] });
    });

const berthSchema = (ctx: SchemaContext) =>
  z.strictObject({
    id: idSchema,
    name: text,
    /** Where a moored vessel lies, as [lat, lon] points. */
    polygon: latLonPolygonSchema,
    quay_length_m: z.number('quay_length_m is a number of metres').positive('quay_length_m must be above 0').max(5000, 'quay_length_m above 5000 m is not one berth'),
    depth_m: z.number().positive('depth_m must be above 0').optional(),
    /** Vessels assigned to the berth; a vessel found at a berth it was not assigned to raises ais_unassigned_berth. */
    schedule: z.array(berthAssignmentSchema(ctx)).default([]),
  });

// ---------------------------------------------------------------- feeds

const port = z.int('a port is a whole number').min(1, 'a port runs from 1 to 65535').max(65535, 'a port runs from 1 to 65535');
const feedCommon = {
  id: idSchema,
  name: text.optional(),
  /** The receiving station, as tag blocks name it (`s:`); tag blocks in the data win. */
  station_id: text.optional(),
};

const feedSchema = (ctx: SchemaContext) =>
  z.discriminatedUnion(
    'protocol',
    [
      z.strictObject({
        ...feedCommon,
        protocol: z.literal('tcp'),
        host: text,
        port,
        /** First delay before reconnecting; the feed backs off from there. */
        reconnect_seconds: z.number().positive().default(1),
      }),
      z.strictObject({ ...feedCommon, protocol: z.literal('udp'), host: text.default('0.0.0.0'), port }),
      z.strictObject({
        ...feedCommon,
        protocol: z.literal('file'),
        path: text.transform((p) => path.resolve(ctx.base_dir, p)),
        /** fast: as fast as possible; realtime: paced by tag-block or receive timestamps. */
        replay: z.enum(['fast', 'realtime'], { error: 'replay is fast or realtime' }).default('fast'),
        loop: z.boolean().default(false),
      }),
    ],
    { error: 'protocol is one of tcp, udp, file' },
  );

// ---------------------------------------------------------------- inspectors

const inspectorSchema = z.strictObject({
  id: idSchema,
  name: text,
  skills: uniqueStrings(z.enum(INSPECTOR_SKILLS, { error: `a skill is one of ${INSPECTOR_SKILLS.join(', ')}` }), 'skill'),
  /** When the inspector is on duty, in site time; only inspectors on duty are drawn. */
  shifts: z.array(scheduleWindowSchema).min(1, 'list at least one shift'),
});

// ---------------------------------------------------------------- alerts

const severity = z.enum(SEVERITIES, { error: `severity is one of ${SEVERITIES.join(', ')}` });
const routeCommon = { id: idSchema, name: text.optional(), min_severity: severity.optional() };

const alertRouteSchema = z.discriminatedUnion(
  'kind',
  [
    /** The command-center big screen. */
    z.strictObject({ ...routeCommon, kind: z.literal('board') }),
    /** The dispatch queue: an inspection is drawn for the alert. */
    z.strictObject({ ...routeCommon, kind: z.literal('dispatch') }),
    /** HTTP POST of the alert as JSON; the URL may carry a token by ${ENV} reference. */
    z.strictObject({
      ...routeCommon,
      kind: z.literal('webhook'),
      url: z.url({ protocol: /^https?$/, error: 'a webhook URL starts with http:// or https://' }),
      /** HMAC-SHA256 key for the X-Portwatch-Signature header; write it as ${ENV}. */
      secret: text.optional(),
      /** Tries in total before the alert is dead-lettered. */
      max_attempts: z.int('max_attempts is a whole number').min(1, 'max_attempts is at least 1').max(20, 'max_attempts above 20 retries for hours').default(6),
    }),
    /** An MQTT broker: alert changes, camera states and berth occupancy under `topic_prefix`. */
    z.strictObject({
      ...routeCommon,
      kind: z.literal('mqtt'),
      url: z.url({ protocol: /^mqtts?$|^wss?$/, error: 'an MQTT URL starts with mqtt://, mqtts://, ws:// or wss://' }),
      topic_prefix: z.string().regex(/^[A-Za-z0-9_\-/]+$/, 'a topic prefix is letters, digits, "_", "-" and "/" (no wildcards)').default('portwatch'),
    }),
  ],
  { error: `kind is one of ${ALERT_ROUTE_KINDS.join(', ')}` },
);

const alertRuleSchema = z.strictObject({
  id: idSchema,
  name: text.optional(),
  kinds: uniqueStrings(z.enum(EVENT_KINDS, { error: 'not an event kind (see docs/config.md)' }), 'event kind'),
  /** Each filter is optional; a rule matches an event that passes all the filters it has. */
  cameras: uniqueStrings(idSchema, 'camera').optional(),
  camera_kinds: uniqueStrings(z.enum(CAMERA_KINDS, { error: `a camera kind is one of ${CAMERA_KINDS.join(', ')}` }), 'camera kind').optional(),
  zones: uniqueStrings(idSchema, 'zone or tripwire').optional(),
  berths: uniqueStrings(idSchema, 'berth').optional(),
  min_score: z.number().min(0, 'min_score runs from 0 to 1').max(1, 'min_score runs from 0 to 1').optional(),
  severity,
  routes: uniqueStrings(idSchema, 'route'),
  /** A second alert for the same camera/zone/vessel and rule within this time is folded into the first. */
  cooldown_seconds: z.number().min(0, 'cooldown_seconds cannot be negative').default(300),
  /** What the operator must do, in order; every alert of the rule shows it. */
  procedure: z.array(text).default([]),
  /** Suppression by design: events of this rule raise no alert while any of these hold. */
  suppress: z
    .strictObject({
      /** While a vessel is scheduled at the event's berth (the camera's berth), per the berth's schedule. */
      berth_scheduled: z.boolean('berth_scheduled is true or false').default(false),
      /** Site-local windows (e.g. the day shift). */
      windows: z.array(scheduleWindowSchema).default([]),
    })
    .optional(),
});

const seconds = (what: string) => z.number(`${what} is a number of seconds`).min(0, `${what} cannot be negative`);

/** An operator view: the part of the site one console watches; flood is counted per view. */
const alertViewSchema = z.strictObject({
  id: idSchema,
  name: text.optional(),
  cameras: uniqueStrings(idSchema, 'camera').optional(),
  camera_kinds: uniqueStrings(z.enum(CAMERA_KINDS, { error: `a camera kind is one of ${CAMERA_KINDS.join(', ')}` }), 'camera kind').optional(),
  berths: uniqueStrings(idSchema, 'berth').optional(),
  rules: uniqueStrings(idSchema, 'rule').optional(),
});

export const ALERT_SETTINGS_DEFAULTS = {
  escalate_after_seconds: { critical: 60, high: 300, medium: 900, low: 0, info: 0 },
  max_shelve_minutes: 480,
  flood: { max_alerts: 10, window_seconds: 600 },
  clips: { pre_roll_seconds: 5, post_roll_seconds: 5, retain_days: 30 },
};

const alertSettingsFields = {
  /** An alert unacknowledged this long after it opened is escalated (priority up one, announced again); 0 never. */
  escalate_after_seconds: z
    .strictObject(Object.fromEntries(SEVERITIES.map((s) => [s, seconds(`escalate_after_seconds.${s}`).optional()])) as Record<Severity, z.ZodOptional<z.ZodNumber>>)
    .transform((v) => ({ ...ALERT_SETTINGS_DEFAULTS.escalate_after_seconds, ...Object.fromEntries(Object.entries(v).filter(([, x]) => x !== undefined)) }) as Record<Severity, number>)
    .prefault({}),
  /** The longest an operator may shelve an alert or a rule. */
  max_shelve_minutes: z.number().positive('max_shelve_minutes must be above 0').max(7 * 24 * 60, 'max_shelve_minutes above a week is not shelving').default(ALERT_SETTINGS_DEFAULTS.max_shelve_minutes),
  /** ISA-18.2: more than `max_alerts` in `window_seconds` for one view is a flood. */
  flood: z
    .strictObject({
      max_alerts: z.int('max_alerts is a whole number').min(1, 'max_alerts is at least 1').default(ALERT_SETTINGS_DEFAULTS.flood.max_alerts),
      window_seconds: z.number().positive('window_seconds must be above 0').default(ALERT_SETTINGS_DEFAULTS.flood.window_seconds),
    })
    .prefault({}),
  views: z.array(alertViewSchema).default([]),
  /** Evidence clips of camera alerts (copied H.264 in MP4). */
  clips: z
    .strictObject({
      pre_roll_seconds: seconds('pre_roll_seconds').max(30, 'pre_roll_seconds above 30 is more than the camera buffer holds').default(ALERT_SETTINGS_DEFAULTS.clips.pre_roll_seconds),
      post_roll_seconds: seconds('post_roll_seconds').max(60, 'post_roll_seconds above 60 s').default(ALERT_SETTINGS_DEFAULTS.clips.post_roll_seconds),
      retain_days: z.number().positive('retain_days must be above 0').default(ALERT_SETTINGS_DEFAULTS.clips.retain_days),
    })
    .prefault({}),
};

// ---------------------------------------------------------------- the site

export const siteSectionSchema = z.strictObject({
  name: text,
  /** IANA zone, e.g. Asia/Shanghai; checked against Intl and canonicalised by the loader. */
  timezone: text,
});

export const defaultsSchema = z.strictObject({
  /** Merged under every camera's own `detect`. */
  detect: z.strictObject({ ...detectFields }).partial().optional(),
});

export function makeSiteConfigSchema(ctx: SchemaContext) {
  return z.strictObject({
    site: siteSectionSchema,
    defaults: defaultsSchema.prefault({}),
    cameras: z.array(cameraSchema).default([]),
    berths: z.array(berthSchema(ctx)).default([]),
    feeds: z.array(feedSchema(ctx)).default([]),
    inspectors: z.array(inspectorSchema).default([]),
    alerts: z
      .strictObject({ routes: z.array(alertRouteSchema).default([]), rules: z.array(alertRuleSchema).default([]), ...alertSettingsFields })
      .prefault({}),
    /** The risk engine's model file; only its path is checked here. */
    risk: z.strictObject({ model: text.transform((p) => path.resolve(ctx.base_dir, p)) }).optional(),
    /** Rates, acknowledgement deadline, skills and conflicts of the inspector dispatch (pipeline/dispatch/settings.ts). */
    dispatch: dispatchSettingsSchema.prefault({}),
    store: storeSettingsSchema.prefault({}),
    /** The AIS worker's port area, channels and thresholds (pipeline/ais-ingest/settings.ts). */
    ais: aisIngestSettingsSchema.optional(),
    /** What the site's processes share and their tunables: drain deadline, lease prefix, camera and AIS worker settings (pipeline/runtime/settings.ts). */
    workers: workersSettingsSchema.prefault({}),
    /** The command center's port chart (web/). */
    chart: z
      .strictObject({
        /** An on-premises XYZ tile server, e.g. http://tiles.port.lan/{z}/{x}/{y}.png; absent: the chart draws the site geometry alone. */
        tile_url: z
          .string()
          .regex(/^https?:\/\/[^\s]+$/, 'tile_url is an http:// or https:// URL template')
          .refine((u) => ['{z}', '{x}', '{y}'].every((p) => u.includes(p)), 'tile_url must contain {z}, {x} and {y}')
          .optional(),
      })
      .prefault({}),
  });
}

export type SiteConfig = z.output<ReturnType<typeof makeSiteConfigSchema>>;
export type CameraConfig = SiteConfig['cameras'][number];
export type DetectSettings = CameraConfig['detect'];
export type ZoneConfig = CameraConfig['zones'][number];
export type TripwireConfig = CameraConfig['tripwires'][number];
export type BerthConfig = SiteConfig['berths'][number];
export type BerthAssignment = BerthConfig['schedule'][number];
export type FeedConfig = SiteConfig['feeds'][number];
export type InspectorConfig = SiteConfig['inspectors'][number];
export type AlertRoute = SiteConfig['alerts']['routes'][number];
export type AlertRule = SiteConfig['alerts']['rules'][number];
export type AlertSettings = SiteConfig['alerts'];
export type AlertView = SiteConfig['alerts']['views'][number];
export type AisConfig = NonNullable<SiteConfig['ais']>;

// Compile-time contract checks: the zones stage runs what this schema yields,
// and the list of event kinds must match the events contract both ways.
type Assert<T extends true> = T;
export type _ZoneMatchesSpec = Assert<ZoneConfig extends ZoneSpec ? true : false>;
export type _TripwireMatchesSpec = Assert<TripwireConfig extends TripwireSpec ? true : false>;
export type _EventKindsComplete = Assert<EventKind extends (typeof EVENT_KINDS)[number] ? true : false>;
