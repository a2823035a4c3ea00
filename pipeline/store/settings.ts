import { z } from 'zod';

/**
 * Time-series housekeeping per hypertable, as PostgreSQL interval strings.
 * Defaults suit a port: raw detections are bulky and short-lived, events and
 * AIS positions are evidence and kept for years.
 */
const interval = z
  .string()
  .regex(/^\d+\s*(second|minute|hour|day|week|month|year)s?$/, 'an interval such as "1 day", "7 days" or "2 years"');

/** A policy can also be switched off: `never` removes the compression or retention policy. */
const policyInterval = z.union([interval, z.literal('never')]);

const perTable = <T extends z.ZodTypeAny>(value: T) =>
  z
    .object({
      detections: value,
      events: value,
      ais_positions: value,
      camera_health: value,
      risk_scores: value,
    })
    .partial()
    .strict();

export const storeSettingsSchema = z
  .object({
    chunk_interval: perTable(interval).default({}),
    compress_after: perTable(policyInterval).default({}),
    retain_for: perTable(policyInterval).default({}),
  })
  .strict();

export type StoreSettings = z.infer<typeof storeSettingsSchema>;
export type HypertableName = 'detections' | 'events' | 'ais_positions' | 'camera_health' | 'risk_scores';

export const DEFAULT_STORE_SETTINGS: Required<{ [K in keyof StoreSettings]: Record<HypertableName, string> }> = {
  chunk_interval: {
    detections: '1 hour',
    events: '1 day',
    ais_positions: '1 day',
    camera_health: '1 day',
    risk_scores: '7 days',
  },
  compress_after: {
    detections: '1 day',
    events: '7 days',
    ais_positions: '2 days',
    camera_health: '7 days',
    risk_scores: '30 days',
  },
  retain_for: {
    detections: '30 days',
    events: '5 years',
    ais_positions: '2 years',
    camera_health: '1 year',
    risk_scores: '5 years',
  },
};

/** The settings to apply: configured values over the defaults, table by table. */
export function resolveStoreSettings(settings: Partial<StoreSettings> = {}) {
  const pick = (key: keyof StoreSettings) => ({ ...DEFAULT_STORE_SETTINGS[key], ...(settings[key] ?? {}) }) as Record<HypertableName, string>;
  return { chunk_interval: pick('chunk_interval'), compress_after: pick('compress_after'), retain_for: pick('retain_for') };
}
