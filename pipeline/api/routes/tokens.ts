import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { access, principalOf } from '../access.js';
import type { ApiContext } from '../context.js';
import { ApiError, errorSchema } from '../errors.js';
import { idParam, uuidParam } from '../params.js';
import { ROLES, TokenError, createApiToken, listApiTokens, parseExpiry, revokeApiToken } from '../tokens.js';

const meSchema = z.object({ role: z.enum(ROLES), name: z.string(), company: z.string().nullable(), inspector_id: z.string().nullable() });
const tokenInfo = z.object({
  id: z.string(),
  name: z.string(),
  role: z.enum(ROLES),
  company: z.string().nullable(),
  inspector: z.string().nullable(),
  created_at: z.string(),
  expires_at: z.string().nullable(),
  revoked_at: z.string().nullable(),
  last_used_at: z.string().nullable(),
});

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** Who am I (every role), and token administration (admin only; the CLI does the same). */
export function registerTokenRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.get('/api/me', { schema: { ...access(...ROLES), tags: ['tokens'], summary: "the token's holder and role", response: { 200: meSchema } } }, async (req) => {
    const p = principalOf(req);
    return { role: p.role, name: p.name, company: p.company, inspector_id: p.inspector };
  });

  r.get('/api/tokens', { schema: { ...access('admin'), tags: ['tokens'], summary: 'all tokens (never the tokens themselves)', response: { 200: z.object({ tokens: z.array(tokenInfo) }) } } }, async () => {
    const tokens = await ctx.read((db) => listApiTokens(db));
    return {
      tokens: tokens.map((t) => ({ id: t.tokenId, name: t.name, role: t.role, company: t.company, inspector: t.inspector, created_at: t.createdAt.toISOString(), expires_at: iso(t.expiresAt), revoked_at: iso(t.revokedAt), last_used_at: iso(t.lastUsedAt) })),
    };
  });

  r.post(
    '/api/tokens',
    {
      schema: {
        ...access('admin'),
        tags: ['tokens'],
        summary: 'create a token; the answer is the only time it is shown',
        body: z.strictObject({
          role: z.enum(ROLES, { error: `role is one of ${ROLES.join(', ')}` }),
          name: z.string().trim().min(1, 'name must not be empty').max(100, 'name is at most 100 characters'),
          company: idParam.optional(),
          inspector: idParam.optional(),
          expires: z.string().max(16).default('90d').describe('30m, 12h, 90d, 52w or never'),
        }),
        response: { 201: z.object({ token: z.string(), info: tokenInfo }), 400: errorSchema },
      },
    },
    async (req, reply) => {
      try {
        const b = req.body;
        const { token, info } = await createApiToken(ctx.store, { role: b.role, name: b.name, company: b.company ?? null, inspector: b.inspector ?? null, expiresAt: parseExpiry(b.expires) });
        return reply.code(201).send({
          token,
          info: { id: info.tokenId, name: info.name, role: info.role, company: info.company, inspector: info.inspector, created_at: info.createdAt.toISOString(), expires_at: iso(info.expiresAt), revoked_at: null, last_used_at: null },
        });
      } catch (err) {
        if (err instanceof TokenError) throw new ApiError(400, 'bad_request', err.message, 'body');
        throw err;
      }
    },
  );

  r.delete(
    '/api/tokens/:id',
    { schema: { ...access('admin'), tags: ['tokens'], summary: 'revoke a token', params: z.strictObject({ id: uuidParam }), response: { 200: z.object({ revoked: z.number() }) } } },
    async (req) => {
      const revoked = await revokeApiToken(ctx.store, req.params.id);
      if (revoked === 0) throw new ApiError(404, 'not_found', `no live token with id ${req.params.id}`);
      return { revoked };
    },
  );
}
