import { z } from 'zod';

/** One inspection in the last 36 months, as the Paris MoU's THETIS lists it. */
export interface InspectionFact {
  date: string;
  deficiencies: number;
  detained: boolean;
  id?: string | undefined;
}

/** A port event or alert that may count against a vessel (presence rules). */
export interface EventFact {
  id: string;
  kind: string;
  time: Date;
  berth?: string | null;
  mmsi?: number | null;
}

/**
 * What the risk engine knows about a vessel. Rules read these by dotted path;
 * `age_years` is derived from `built` at scoring time. Anything else a model
 * needs lives under `declaration` (the declared call) or is added here.
 */
export interface VesselFacts {
  imo?: number | null;
  mmsi?: number | null;
  name?: string | null;
  type?: string | null;
  built?: number | null;
  flag?: string | null;
  flag_list?: 'white' | 'grey' | 'black' | null;
  flag_risk?: 'very_high' | 'high' | 'medium_to_high' | 'medium' | null;
  flag_imo_audit?: boolean | null;
  ro_performance?: Performance | null;
  ro_eu_recognised?: boolean | null;
  company?: string | null;
  company_performance?: Performance | null;
  inspections_36m?: InspectionFact[];
  /** The declared call: cargo classes, crew, the Maritime Declaration of Health. */
  declaration?: Record<string, unknown> | null;
  /** The berth the vessel lies at now and since when (from AIS berth visits). */
  alongside?: { berth: string; since: Date } | null;
  /** Events near the vessel or its berth (ids are the evidence). */
  events?: EventFact[];
}

export const PERFORMANCES = ['high', 'medium', 'low', 'very_low'] as const;
export type Performance = (typeof PERFORMANCES)[number];
export const FLAG_LISTS = ['white', 'grey', 'black'] as const;
export const FLAG_RISKS = ['very_high', 'high', 'medium_to_high', 'medium'] as const;

/** The IMO number's seventh digit checks the first six (weights 7..2). */
export function imoCheckDigit(imo: number): number {
  const d = String(imo).padStart(7, '0');
  let sum = 0;
  for (let i = 0; i < 6; i++) sum += Number(d[i]) * (7 - i);
  return sum % 10;
}

export const imoSchema = z
  .int('an IMO number is a whole number of 7 digits')
  .min(1_000_000, 'an IMO number has 7 digits')
  .max(9_999_999, 'an IMO number has 7 digits')
  .superRefine((v, c) => {
    const want = imoCheckDigit(v);
    if (v % 10 !== want) c.addIssue({ code: 'custom', message: `IMO ${v} fails its check digit (the last digit should be ${want}): a typo?` });
  });

const isoDate = z.string('a date is "YYYY-MM-DD"').regex(/^\d{4}-\d{2}-\d{2}$/, 'a date is "YYYY-MM-DD"').refine((d) => !Number.isNaN(Date.parse(`${d}T00:00:00Z`)) && new Date(`${d}T00:00:00Z`).toISOString().startsWith(d), 'not a calendar date');
const performance = z.enum(PERFORMANCES, { error: `one of ${PERFORMANCES.join(', ')}` });

/** One line of `portwatch risk score --vessels FILE.jsonl`. Fields not listed here are allowed and ignored. */
export const vesselLineSchema = z
  .looseObject({
    imo: imoSchema,
    mmsi: z.int().min(100_000_000).max(999_999_999).optional(),
    name: z.string().min(1, 'must not be empty'),
    type: z.string('the ship type in snake_case, e.g. bulk_carrier').regex(/^[a-z][a-z0-9_]*$/, 'the ship type in snake_case, e.g. bulk_carrier, oil_tanker'),
    built: z.int('built is a year such as 2009').min(1850, 'built is a year such as 2009').max(2100, 'built is a year such as 2009'),
    flag: z.string().optional(),
    flag_list: z.enum(FLAG_LISTS, { error: 'flag_list is white, grey or black' }),
    flag_risk: z.enum(FLAG_RISKS, { error: `flag_risk is one of ${FLAG_RISKS.join(', ')}` }).optional(),
    flag_imo_audit: z.boolean('flag_imo_audit is true or false').default(false),
    ro_performance: performance,
    ro_eu_recognised: z.boolean('ro_eu_recognised is true or false').default(false),
    company: z.string().optional(),
    company_performance: performance,
    inspections_36m: z
      .array(z.strictObject({ date: isoDate, deficiencies: z.int('deficiencies is a whole number').min(0, 'deficiencies cannot be negative'), detained: z.boolean('detained is true or false'), id: z.string().optional() }))
      .default([]),
  })
  .superRefine((v, c) => {
    if (v.flag_list === 'black' && !v.flag_risk) c.addIssue({ code: 'custom', path: ['flag_risk'], message: `a black-list flag needs flag_risk (${FLAG_RISKS.join(', ')})` });
  });

export type VesselLine = z.output<typeof vesselLineSchema>;

/** `FIELD: reason` for each problem of a line; a field that is absent is "required" whatever its type says. */
export function describeLineIssues(error: z.ZodError, raw: unknown): string[] {
  return error.issues.map((i) => {
    const where = i.path.map(String).join('.') || '(line)';
    let v: unknown = raw;
    for (const k of i.path) v = v && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[k as PropertyKey] : undefined;
    const missing = v === undefined && i.code !== 'custom' && i.code !== 'unrecognized_keys';
    return `${where}: ${missing ? `required (${i.message})` : i.message}`;
  });
}
