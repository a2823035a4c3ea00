import { z } from 'zod';
import type { AisAnomalyOptions } from '../anomalies/index.js';
import type { BerthOccupancyOptions } from '../berths/index.js';
import { latLonPolygonSchema } from '../config/lat-lon.js';

const channelSchema = z.strictObject({
  id: z.string().trim().min(1, 'must not be empty'),
  /** The channel's waters as [lat, lon] points. */
  polygon: latLonPolygonSchema,
  speed_limit_kn: z.number('speed_limit_kn is a number of knots').positive('speed_limit_kn must be above 0'),
});

/**
 * The `ais:` section of the site file (also accepted alone by the worker's
 * `--ais-options FILE`): the port's waters, channels with speed limits and the
 * anomaly and occupancy thresholds. Every field is optional; the stages'
 * defaults are in docs/config.md.
 */
export const aisIngestSettingsSchema = z.strictObject({
  anomalies: z
    .strictObject({
      /** The port's waters: a vessel only goes "dark" inside them. */
      port_area: latLonPolygonSchema.optional(),
      dark_after_seconds: z.number().positive('dark_after_seconds must be above 0').optional(),
      jump_knots: z.number().positive('jump_knots must be above 0').optional(),
      jump_min_metres: z.number().min(0, 'jump_min_metres cannot be negative').optional(),
      speeding_fixes: z.int('speeding_fixes is a whole number').min(1, 'speeding_fixes must be at least 1').optional(),
      channels: z
        .array(channelSchema)
        .superRefine((list, ctx) => {
          list.forEach((c, i) => {
            const first = list.findIndex((o) => o.id === c.id);
            if (first !== i) ctx.addIssue({ code: 'custom', message: `duplicate channel id "${c.id}" (first used by channel ${first})`, path: [i, 'id'] });
          });
        })
        .optional(),
    })
    .optional(),
  occupancy: z
    .strictObject({
      moored_speed_kn: z.number().positive('moored_speed_kn must be above 0').optional(),
      arrival_minutes: z.number().min(0, 'arrival_minutes cannot be negative').optional(),
      departure_fixes: z.int('departure_fixes is a whole number').min(1, 'departure_fixes must be at least 1').optional(),
    })
    .optional(),
});

export type AisIngestSettings = z.infer<typeof aisIngestSettingsSchema>;

/** What the ingest stages take, from a validated `ais:` section (absent → the stages' defaults). */
export function aisStageOptions(settings: AisIngestSettings | undefined): { anomalies: AisAnomalyOptions; occupancy: BerthOccupancyOptions } {
  return { anomalies: settings?.anomalies ?? {}, occupancy: settings?.occupancy ?? {} };
}

/**
 * Merge an override (the worker's `--ais-options FILE`) over the site's `ais:`
 * section, section by section and field by field: the override's fields win.
 */
export function mergeAisSettings(
  site: { anomalies?: AisAnomalyOptions | undefined; occupancy?: BerthOccupancyOptions | undefined } | undefined,
  override: { anomalies?: AisAnomalyOptions | undefined; occupancy?: BerthOccupancyOptions | undefined } | undefined,
): { anomalies: AisAnomalyOptions; occupancy: BerthOccupancyOptions } {
  return {
    anomalies: { ...site?.anomalies, ...override?.anomalies },
    occupancy: { ...site?.occupancy, ...override?.occupancy },
  };
}

/**
 * Validate a parsed settings document outside a site file (`--ais-options`);
 * throws an Error naming the field and the problem. A site file's `ais:`
 * section is validated by the site loader instead, with line and column.
 */
export function parseAisIngestSettings(doc: unknown, file = 'AIS settings'): { anomalies: AisAnomalyOptions; occupancy: BerthOccupancyOptions } {
  const r = aisIngestSettingsSchema.safeParse(doc ?? {});
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new Error(`${file}: ${i.path.map(String).join('.') || '(top)'}: ${i.message}`);
  }
  return aisStageOptions(r.data);
}
