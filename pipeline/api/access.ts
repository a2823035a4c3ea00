import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError } from './errors.js';
import { ROLES, touchApiToken, verifyApiToken, hashToken, type Principal, type Role } from './tokens.js';
import type { Queryable } from '../store/index.js';

/** Who a route is for: token roles, or `public` for routes anyone may call without a token. */
export type Access = Role | 'public';

declare module 'fastify' {
  interface FastifyRequest {
    /** The token's holder, or null on a public route called without a token. */
    principal: Principal | null;
  }
}

/**
 * Spread into a route's schema: `schema: { ...access('operator', 'admin'), querystring: … }`.
 * The roles land in the OpenAPI document as the operation's `x-roles`, and the
 * request hook enforces exactly that list: what is documented is what is checked.
 */
export function access(...roles: Access[]): { 'x-roles': Access[]; security?: Array<Record<string, string[]>> } {
  if (roles.length === 0) throw new Error('a route must allow at least one role (or public)');
  return roles.includes('public') ? { 'x-roles': roles } : { 'x-roles': roles, security: [{ bearer: [] }] };
}

export function routeRoles(request: FastifyRequest): Access[] | undefined {
  return (request.routeOptions.schema as { 'x-roles'?: Access[] } | undefined)?.['x-roles'];
}

/** The bearer token in a request, or null; a malformed header is a 401 of its own. */
export function bearerToken(request: FastifyRequest): string | null {
  const header = request.headers.authorization;
  if (header === undefined) return null;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!m) throw new ApiError(401, 'unauthorized', 'the Authorization header must be "Bearer <token>"');
  return m[1]!;
}

/** Rate limits are kept per token (its hash), and per address for requests without one. */
export function rateLimitKey(request: FastifyRequest): string {
  const header = request.headers.authorization;
  const m = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  return m ? `t:${hashToken(m[1]!).slice(0, 24)}` : `ip:${request.ip}`;
}

/**
 * Authenticates every request and enforces the route's declared roles before
 * anything else runs (so a refused caller learns nothing from validation errors).
 * A route registered without roles is a programming error, refused at start-up.
 */
export function installAccessControl(app: FastifyInstance, db: Queryable, publicUrls: (url: string) => boolean): void {
  app.decorateRequest('principal', null);
  app.addHook('onRoute', (route) => {
    const schema = (route.schema ?? {}) as { 'x-roles'?: Access[] };
    const roles = schema['x-roles'];
    if (!roles) {
      if (publicUrls(route.url)) {
        route.schema = { ...(route.schema ?? {}), 'x-roles': ['public'], hide: true } as typeof route.schema;
        return;
      }
      throw new Error(`route ${String(route.method)} ${route.url} declares no roles: add ...access(...) to its schema`);
    }
    for (const r of roles) if (r !== 'public' && !(ROLES as readonly string[]).includes(r)) throw new Error(`route ${route.url}: unknown role "${r}"`);
  });
  const lastTouched = new Map<string, number>();
  app.addHook('onRequest', async (request) => {
    const roles = routeRoles(request);
    if (!roles) return; // not found: the 404 handler answers
    const token = bearerToken(request);
    if (token !== null) {
      const principal = await verifyApiToken(db, token);
      if (!principal) throw new ApiError(401, 'unauthorized', 'the token is unknown, revoked or expired; ask an administrator for a new one (portwatch token create)');
      request.principal = principal;
      const now = Date.now();
      if ((lastTouched.get(principal.tokenId) ?? 0) < now - 60_000) {
        lastTouched.set(principal.tokenId, now);
        touchApiToken(db, principal.tokenId).catch((err) => request.log.warn({ err: (err as Error).message }, 'could not record token use'));
      }
    }
    if (roles.includes('public')) return;
    if (!request.principal) throw new ApiError(401, 'unauthorized', 'this route needs a token: send "Authorization: Bearer <token>" (portwatch token create)');
    if (!roles.includes(request.principal.role)) {
      throw new ApiError(403, 'forbidden', `this route is for ${roles.join(', ')}; the token's role is ${request.principal.role}`);
    }
  });
}

/** The principal of a route that is not public (the hook guarantees one). */
export function principalOf(request: FastifyRequest): Principal {
  const p = request.principal;
  if (!p) throw new ApiError(401, 'unauthorized', 'this route needs a token');
  return p;
}
