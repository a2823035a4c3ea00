import { z } from 'zod';

/**
 * The risk model as written in config/risk/*.yaml: factor groups → factors →
 * indicators. An indicator scores `weight × rule value` when its `when`
 * conditions hold; the vessel's level is the first level whose conditions it
 * meets. Fields are dotted paths into the vessel's facts (see vessel-facts.ts).
 */

const ID = /^[a-z][a-z0-9_]{0,63}$/;
const id = z.string('an id is a lower-case name').regex(ID, 'an id is lower-case letters, digits and _ (starting with a letter), at most 64');
const text = z.string().min(1, 'must not be empty');

/** Roots a field path may start with: a misspelt field would silently never score. */
export const FACT_ROOTS = [
  'imo',
  'mmsi',
  'name',
  'type',
  'built',
  'age_years',
  'flag',
  'flag_list',
  'flag_risk',
  'flag_imo_audit',
  'ro_performance',
  'ro_eu_recognised',
  'company',
  'company_performance',
  'inspections_36m',
  'declaration',
  'alongside',
] as const;

const field = z
  .string('a field is a dotted path into the vessel, such as flag_list or declaration.health.ill_crew')
  .refine((f) => (FACT_ROOTS as readonly string[]).includes(f.split('.')[0]!), { message: `a field starts with one of ${FACT_ROOTS.join(', ')}` });

const scalar = z.union([z.number(), z.string(), z.boolean()], { error: 'a value is a number, a string or true/false' });
const OPS = ['gt', 'gte', 'lt', 'lte', 'eq', 'ne'] as const;
const op = z.enum(OPS, { error: `op is one of ${OPS.join(', ')}` });

const window = z
  .strictObject({
    months: z.int().positive().optional(),
    days: z.number().positive().optional(),
    hours: z.number().positive().optional(),
  })
  .refine((w) => [w.months, w.days, w.hours].filter((x) => x !== undefined).length === 1, { message: 'a window is exactly one of months, days, hours' });

/** A condition on one item of a list: equal to a value, or compared with op/value. */
const itemCondition = z.union([scalar, z.strictObject({ op, value: scalar })], { error: 'a condition is a value, or {op, value}' });

const ruleBase = { description: text.optional() };

export type Rule =
  | { kind: 'threshold'; field: string; op: (typeof OPS)[number]; value: string | number | boolean; description?: string | undefined }
  | { kind: 'range'; field: string; bands: Array<{ from?: number | undefined; to?: number | undefined; value: number }>; description?: string | undefined }
  | { kind: 'category'; field: string; map: Record<string, number>; default: number; description?: string | undefined }
  | {
      kind: 'count';
      list: string;
      date_field: string;
      within: { months?: number | undefined; days?: number | undefined; hours?: number | undefined };
      where: Record<string, string | number | boolean | { op: (typeof OPS)[number]; value: string | number | boolean }>;
      op: (typeof OPS)[number];
      value: number;
      description?: string | undefined;
    }
  | {
      kind: 'presence';
      event_kinds: string[];
      near: 'vessel' | 'berth';
      within: { months?: number | undefined; days?: number | undefined; hours?: number | undefined };
      alongside_only: boolean;
      min_count: number;
      description?: string | undefined;
    };

export const ruleSchema: z.ZodType<Rule> = z.discriminatedUnion(
  'kind',
  [
    z.strictObject({ ...ruleBase, kind: z.literal('threshold'), field, op, value: scalar }),
    z.strictObject({
      ...ruleBase,
      kind: z.literal('range'),
      field,
      /** from inclusive, to exclusive; the first band that holds the value gives it. */
      bands: z.array(z.strictObject({ from: z.number().optional(), to: z.number().optional(), value: z.number() })).min(1, 'list at least one band'),
    }),
    z.strictObject({
      ...ruleBase,
      kind: z.literal('category'),
      field,
      /** For a list field, the highest value among its items. */
      map: z.record(z.string(), z.number('a category maps to a number')),
      default: z.number().default(0),
    }),
    z.strictObject({
      ...ruleBase,
      kind: z.literal('count'),
      list: field,
      date_field: text.default('date'),
      within: window,
      where: z.record(z.string(), itemCondition).default({}),
      op,
      value: z.number(),
    }),
    z.strictObject({
      ...ruleBase,
      kind: z.literal('presence'),
      event_kinds: z.array(text).min(1, 'list at least one event kind'),
      /** vessel: events carrying the vessel's MMSI; berth: events at the berth the vessel lies at. */
      near: z.enum(['vessel', 'berth'], { error: 'near is vessel or berth' }),
      within: window,
      /** Only while the vessel is alongside (events since it arrived at its berth). */
      alongside_only: z.boolean().default(false),
      min_count: z.int().positive().default(1),
    }),
  ],
  { error: 'kind is one of threshold, range, category, count, presence' },
) as unknown as z.ZodType<Rule>;

/** A condition of a level; `negate` turns "there is" into "there is none". */
const namedCondition = z.strictObject({ id, description: text.optional(), rule: ruleSchema, negate: z.boolean().default(false) });

const indicatorSchema = z.strictObject({
  id,
  name: text.optional(),
  weight: z.number('weight is a number of points'),
  rule: ruleSchema,
  /** The indicator applies only when all of these hold (e.g. flag risk only for a black-list flag). */
  when: z.array(ruleSchema).default([]),
});

const factorSchema = z.strictObject({ id, name: text.optional(), indicators: z.array(indicatorSchema).min(1, 'a factor has at least one indicator') });
const groupSchema = z.strictObject({ id, name: text.optional(), factors: z.array(factorSchema).min(1, 'a group has at least one factor') });

const levelSchema = z.strictObject({
  level: z.string().regex(/^[A-Z][A-Z0-9_]{0,15}$/, 'a level is an upper-case name such as HRS'),
  description: text.optional(),
  min_points: z.number().optional(),
  /** Every condition must hold. */
  all: z.array(namedCondition).default([]),
});

export const riskModelFileSchema = z.strictObject({
  name: id,
  description: text.optional(),
  /** Another model file (relative to this one) whose groups come first and whose levels apply unless this file has its own. */
  extends: text.optional(),
  groups: z.array(groupSchema).default([]),
  levels: z.array(levelSchema).optional(),
});

export type RiskModelFile = z.output<typeof riskModelFileSchema>;
export type RiskIndicator = z.output<typeof indicatorSchema>;
export type RiskLevel = z.output<typeof levelSchema>;

/** A loaded model: `extends` resolved. */
export interface RiskModel {
  name: string;
  /** SHA-256 of the model's files, as loaded: recorded with every score. */
  sha256: string;
  groups: RiskModelFile['groups'];
  levels: RiskLevel[];
}
