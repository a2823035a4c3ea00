import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { latestRiskScores, riskHistory, type StoredRiskScore } from '../../risk/index.js';
import type { Queryable } from '../../store/index.js';
import { access, principalOf } from '../access.js';
import type { ApiContext } from '../context.js';
import { notFound } from '../errors.js';
import { limitParam, mmsiParam } from '../params.js';

const indicatorSchema = z.object({
  indicator: z.string(),
  group: z.string().nullable(),
  factor: z.string().nullable(),
  points: z.number(),
  rule: z.string().nullable(),
  why: z.string().nullable(),
  evidence: z.array(z.string()).describe('event ids, declaration fields (declaration.health.ill_crew=2), inspections (inspection 2025-03-01)'),
});

const scoreSchema = z.object({
  mmsi: z.number(),
  imo: z.number().nullable(),
  name: z.string().nullable(),
  time: z.string(),
  level: z.string(),
  score: z.number(),
  model: z.string().nullable(),
});

const detailSchema = scoreSchema.extend({
  profile_reason: z.string().nullable().describe('why this level and not the ones before it'),
  breakdown: z.array(indicatorSchema).describe('the indicators that scored, most points first'),
  history: z.array(z.object({ time: z.string(), level: z.string(), score: z.number() })).describe('earlier scores, newest first'),
});

/** The stored breakdown (indicator id → share) as a list, most points first; a malformed entry keeps what it has. */
export function breakdownList(b: Record<string, unknown>): z.infer<typeof indicatorSchema>[] {
  return Object.entries(b)
    .map(([indicator, v]) => {
      const s = (v ?? {}) as Record<string, unknown>;
      const str = (x: unknown) => (typeof x === 'string' ? x : null);
      return {
        indicator,
        group: str(s.group),
        factor: str(s.factor),
        points: typeof s.points === 'number' ? s.points : Number(s.points) || 0,
        rule: str(s.rule),
        why: str(s.why),
        evidence: Array.isArray(s.evidence) ? s.evidence.map(String) : [],
      };
    })
    .sort((a, b) => b.points - a.points || (a.indicator < b.indicator ? -1 : 1));
}

/**
 * The vessels a company token may see: those of its declared calls. Other
 * roles see every vessel (null).
 */
async function companyVessels(db: Queryable, req: FastifyRequest): Promise<number[] | null> {
  const p = principalOf(req);
  if (p.role !== 'enterprise') return null;
  if (!p.company) return [];
  const rows = (
    await db.query(
      `SELECT DISTINCT COALESCE(c.mmsi, v.mmsi) AS mmsi FROM vessel_calls c LEFT JOIN vessels v ON c.mmsi IS NULL AND v.imo = c.imo
        WHERE c.company = $1 AND COALESCE(c.mmsi, v.mmsi) IS NOT NULL`,
      [p.company],
    )
  ).rows;
  return rows.map((r) => Number(r.mmsi));
}

async function vesselNames(db: Queryable, mmsis: number[]): Promise<Map<number, string>> {
  if (mmsis.length === 0) return new Map();
  const rows = (await db.query('SELECT mmsi, name FROM vessels WHERE mmsi = ANY($1::integer[]) AND name IS NOT NULL', [mmsis])).rows;
  return new Map(rows.map((r) => [Number(r.mmsi), r.name as string]));
}

const scoreView = (s: StoredRiskScore, names: Map<number, string>): z.infer<typeof scoreSchema> => ({
  mmsi: s.mmsi,
  imo: s.imo,
  name: names.get(s.mmsi) ?? null,
  time: s.time.toISOString(),
  level: s.profile,
  score: s.points,
  model: s.model,
});

/**
 * Vessel risk as pipeline/risk recorded it: each vessel's latest score, and one
 * vessel's score with its breakdown (indicator → points → evidence) and history.
 * A company sees only the vessels of its own calls; another one answers 404.
 */
export function registerRiskRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.get(
    '/api/risk',
    {
      schema: {
        ...access('admin', 'operator', 'analyst', 'enterprise'),
        tags: ['risk'],
        summary: "each vessel's latest risk score and level, newest first (a company: its own vessels)",
        querystring: z.strictObject({ limit: limitParam(5000, 1000) }),
        response: { 200: z.object({ scores: z.array(scoreSchema) }) },
      },
    },
    async (req) =>
      ctx.read(async (db) => {
        const only = await companyVessels(db, req);
        const latest = only && only.length === 0 ? [] : (await latestRiskScores(db, only ?? undefined)).slice(0, req.query.limit);
        const names = await vesselNames(db, latest.map((s) => s.mmsi));
        return { scores: latest.map((s) => scoreView(s, names)) };
      }),
  );
  r.get(
    '/api/risk/:mmsi',
    {
      schema: {
        ...access('admin', 'operator', 'analyst', 'enterprise'),
        tags: ['risk'],
        summary: "a vessel's latest score with its breakdown (indicator, points, evidence) and its history",
        params: z.strictObject({ mmsi: mmsiParam }),
        querystring: z.strictObject({ limit: limitParam(1000, 100).describe('history entries') }),
        response: { 200: detailSchema },
      },
    },
    async (req) =>
      ctx.read(async (db) => {
        const { mmsi } = req.params;
        const only = await companyVessels(db, req);
        // A company asking about another's vessel learns nothing, not even that it was scored.
        if (only && !only.includes(mmsi)) throw notFound(`risk score of vessel ${mmsi}`);
        const history = await riskHistory(db, mmsi, req.query.limit);
        const latest = history[0];
        if (!latest) throw notFound(`risk score of vessel ${mmsi}`);
        const names = await vesselNames(db, [mmsi]);
        return {
          ...scoreView(latest, names),
          profile_reason: latest.profile_reason,
          breakdown: breakdownList(latest.breakdown),
          history: history.map((h) => ({ time: h.time.toISOString(), level: h.profile, score: h.points })),
        };
      }),
  );
}
