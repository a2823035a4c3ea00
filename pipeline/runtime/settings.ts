import { z } from 'zod';
import { DEFAULT_HEALTH_THRESHOLDS, type HealthThresholds } from '../health/index.js';

const seconds = (what: string) => z.number(`${what} is a number of seconds`).positive(`${what} must be above 0`);
const count = (what: string, min = 1) => z.int(`${what} is a whole number`).min(min, `${what} is at least ${min}`);

/** `offlineAfterS` → `offline_after_s`: the site file speaks snake_case. */
const snake = (k: string) => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
const HEALTH_KEYS = Object.keys(DEFAULT_HEALTH_THRESHOLDS) as Array<keyof HealthThresholds>;

const healthSchema = z
  .strictObject(Object.fromEntries(HEALTH_KEYS.map((k) => [snake(k), z.number(`${snake(k)} is a number`).min(0, `${snake(k)} cannot be negative`).optional()])) as Record<string, z.ZodOptional<z.ZodNumber>>)
  .optional();

/**
 * The `workers:` section of the site file: what the processes of a site share
 * and the tunables that used to be flags or unchecked JSON. Every field has a
 * default, so a site file without the section is valid; the `portwatch run` /
 * `portwatch worker` flags override single fields.
 */
export const workersSettingsSchema = z.strictObject({
  /** SIGTERM: every worker drains within this, whatever is down; then the process exits naming what is left. */
  stop_deadline_seconds: seconds('stop_deadline_seconds').max(600, 'stop_deadline_seconds above 10 minutes outlasts any orchestrator').default(10),
  /** Prefix of every Redis key of the camera leases (one per site sharing a Redis). */
  lease_prefix: z.string().min(1, 'lease_prefix must not be empty').default('portwatch:'),
  /** BullMQ key prefix of the `events` queue. */
  queue_prefix: z.string().min(1, 'queue_prefix must not be empty').default('bull'),
  camera: z
    .strictObject({
      /** Most cameras one process runs (what its machine can carry); absent: its fair share, unbounded. */
      capacity: count('capacity').optional(),
      lease_ttl_seconds: seconds('lease_ttl_seconds').min(1, 'lease_ttl_seconds below 1 s renews faster than Redis round trips allow').default(10),
      /** With keyframe-only decoding: `on-demand` (the stream is received here) or `every-keyframe` (one ffmpeg decodes every sampled keyframe). */
      decode: z.enum(['on-demand', 'every-keyframe'], { error: 'decode is on-demand or every-keyframe' }).default('on-demand'),
      /** The cameras' GOP where a camera's own `detect.keyframe_interval` is not given. */
      keyframe_interval: seconds('keyframe_interval').max(60, 'keyframe_interval above 60 s is not a camera setting').optional(),
      /** Detection rows stored per camera per second at most (0 = none). */
      detections_per_second: z.number('detections_per_second is a number').min(0, 'detections_per_second cannot be negative').default(1),
      health_every_seconds: seconds('health_every_seconds').default(10),
      /** Camera health thresholds (pipeline/health), any subset: offline_after_s, frozen_after_s, … */
      health: healthSchema,
      backoff_cap_seconds: seconds('backoff_cap_seconds').default(30),
      /** Detector batch across cameras. */
      max_batch: count('max_batch').max(64, 'max_batch above 64 only adds latency').default(4),
      /** Detector sessions per model, about one core each. */
      sessions: count('sessions').max(64, 'sessions above 64 is more cores than a machine has').default(1),
      /** Each detector session in its own thread (inference blocks the thread that runs it). */
      threads: z.boolean('threads is true or false').default(true),
      stats_every_seconds: seconds('stats_every_seconds').default(30),
    })
    .prefault({}),
  ais: z
    .strictObject({
      sweep_every_seconds: seconds('sweep_every_seconds').default(5),
      stats_every_seconds: z.number('stats_every_seconds is a number of seconds').min(0, 'stats_every_seconds cannot be negative (0 = never)').default(10),
    })
    .prefault({}),
  /** The command-center API (pipeline/api): where it listens and its limits. */
  api: z
    .strictObject({
      port: z.int('port is a whole number').min(0, 'port runs from 0 (any free port) to 65535').max(65535, 'port runs from 0 (any free port) to 65535').default(8080),
      /** Loopback by default: put a reverse proxy with TLS in front before opening it wider. */
      host: z.string().min(1, 'host must not be empty').default('127.0.0.1'),
      query_timeout_seconds: seconds('query_timeout_seconds').max(600, 'query_timeout_seconds above 10 minutes holds connections too long').default(10),
      /** Requests per token (per address without one) per minute. */
      rate_limit_per_minute: count('rate_limit_per_minute').default(600),
      /** Map tiles for the chart, e.g. https://tiles.example/{z}/{x}/{y}.png (no credentials: the browser sees it). */
      tile_url: z.string().url('tile_url is a URL template such as https://tiles.example/{z}/{x}/{y}.png').optional(),
    })
    .prefault({}),
});

export type WorkersSettings = z.output<typeof workersSettingsSchema>;

/** The `camera.health` section in the health stage's own names. */
export function healthThresholds(settings: WorkersSettings): Partial<HealthThresholds> | undefined {
  const h = settings.camera.health;
  if (!h) return undefined;
  const out: Partial<HealthThresholds> = {};
  for (const k of HEALTH_KEYS) {
    const v = h[snake(k)];
    if (v !== undefined) out[k] = v;
  }
  return out;
}

/** Every key the `camera.health` section accepts (for --help and docs). */
export const HEALTH_SETTING_KEYS = HEALTH_KEYS.map(snake);
