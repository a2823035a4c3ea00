import { z } from 'zod';
import { mmsiSchema } from '../config/schema.js';
import { FLAG_LISTS, FLAG_RISKS, imoSchema, PERFORMANCES } from '../risk/index.js';

const isoDateTime = z
  .string('eta is an ISO 8601 date-time with its offset, e.g. 2026-12-06T14:00:00+08:00')
  .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/, 'eta is an ISO 8601 date-time with its offset, e.g. 2026-12-06T14:00:00+08:00')
  .refine((v) => !Number.isNaN(Date.parse(v)), 'not a real date-time');
const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a date is "YYYY-MM-DD"');
const performance = z.enum(PERFORMANCES, { error: `one of ${PERFORMANCES.join(', ')}` });
const count = (what: string) => z.int(`${what} is a whole number`).min(0, `${what} cannot be negative`);

/** IMDG class or division: 1 to 9, with a division where the class has them (2.1, 6.2…). */
const cargoClass = z.string('a cargo class is an IMDG class such as "3" or "6.2"').regex(/^[1-9](\.[1-6])?$/, 'a cargo class is an IMDG class such as "3" or "6.2"');
/** UN/LOCODE: country code and three letters or digits 2-9, e.g. CNSHA. */
const locode = z.string('a port is a UN/LOCODE such as SGSIN').regex(/^[A-Z]{2}[A-Z2-9]{3}$/, 'a port is a UN/LOCODE such as SGSIN (5 capitals)');

/** The Maritime Declaration of Health (IHR 2005, Annex 8), the parts the risk model reads. */
export const healthDeclarationSchema = z.strictObject({
  ill_crew: count('ill_crew'),
  deaths: count('deaths'),
  ports_last_30_days: z.array(locode).default([]),
  /** Ship sanitation certificate valid on arrival. */
  sanitation_certificate_valid: z.boolean().optional(),
});

/** The ship's particulars the Paris MoU SRP needs (all optional: a port may not have them for every call). */
export const declaredVesselSchema = z.strictObject({
  type: z.string().regex(/^[a-z][a-z0-9_]*$/, 'the ship type in snake_case, e.g. bulk_carrier').optional(),
  built: z.int('built is a year').min(1850).max(2100).optional(),
  flag: z.string().optional(),
  flag_list: z.enum(FLAG_LISTS, { error: 'flag_list is white, grey or black' }).optional(),
  flag_risk: z.enum(FLAG_RISKS, { error: `flag_risk is one of ${FLAG_RISKS.join(', ')}` }).optional(),
  flag_imo_audit: z.boolean().optional(),
  ro_performance: performance.optional(),
  ro_eu_recognised: z.boolean().optional(),
  company_performance: performance.optional(),
  inspections_36m: z.array(z.strictObject({ date: isoDate, deficiencies: count('deficiencies'), detained: z.boolean(), id: z.string().optional() })).default([]),
});

/** One line of `portwatch declarations import`: a vessel call declared before arrival. */
export const declarationSchema = z
  .strictObject({
    imo: imoSchema.optional(),
    mmsi: mmsiSchema.optional(),
    name: z.string('name is the vessel name').min(1, 'name must not be empty'),
    eta: isoDateTime,
    berth: z.string().min(1).optional(),
    company: z.string().min(1).optional(),
    agent: z.string().min(1).optional(),
    cargo_classes: z.array(cargoClass).default([]),
    crew_count: count('crew_count'),
    health: healthDeclarationSchema,
    vessel: declaredVesselSchema.prefault({}),
  })
  .superRefine((d, c) => {
    if (d.imo === undefined && d.mmsi === undefined) c.addIssue({ code: 'custom', path: ['imo'], message: 'give imo or mmsi (or both): a call is linked to AIS by them' });
  });

export type Declaration = z.output<typeof declarationSchema>;
