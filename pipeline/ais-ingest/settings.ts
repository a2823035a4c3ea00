import { z } from 'zod';
import type { AisAnomalyOptions } from '../anomalies/index.js';
import type { BerthOccupancyOptions } from '../berths/index.js';

const latLon = z.tuple([z.number().min(-90).max(90), z.number().min(-180).max(180)], { error: 'a point is [lat, lon] in degrees' });
const polygon = z.array(latLon).min(3, 'a polygon needs at least 3 points');

/**
 * AIS settings the site config schema does not hold yet (see docs/ais-ingest.md):
 * the port's waters, channels with speed limits and the anomaly and occupancy
 * thresholds. The same shape is proposed as an `ais:` section of the site file.
 */
export const aisIngestSettingsSchema = z.strictObject({
  anomalies: z
    .strictObject({
      port_area: polygon.optional(),
      dark_after_seconds: z.number().positive().optional(),
      jump_knots: z.number().positive().optional(),
      jump_min_metres: z.number().min(0).optional(),
      speeding_fixes: z.int().min(1).optional(),
      channels: z.array(z.strictObject({ id: z.string().min(1), polygon, speed_limit_kn: z.number().positive() })).optional(),
    })
    .optional(),
  occupancy: z
    .strictObject({
      moored_speed_kn: z.number().positive().optional(),
      arrival_minutes: z.number().min(0).optional(),
      departure_fixes: z.int().min(1).optional(),
    })
    .optional(),
});

export type AisIngestSettings = z.infer<typeof aisIngestSettingsSchema>;

/** Validate a parsed settings document; throws an Error naming the field and the problem. */
export function parseAisIngestSettings(doc: unknown, file = 'AIS settings'): { anomalies: AisAnomalyOptions; occupancy: BerthOccupancyOptions } {
  const r = aisIngestSettingsSchema.safeParse(doc ?? {});
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new Error(`${file}: ${i.path.map(String).join('.') || '(top)'}: ${i.message}`);
  }
  return { anomalies: (r.data.anomalies ?? {}) as AisAnomalyOptions, occupancy: r.data.occupancy ?? {} };
}
