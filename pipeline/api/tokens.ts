import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Queryable } from '../store/index.js';

/** Who may hold a token. The public routes need none. */
export const ROLES = ['admin', 'operator', 'analyst', 'inspector', 'enterprise'] as const;
export type Role = (typeof ROLES)[number];

/** A token's holder as a route sees it: never the token or its hash. */
export interface Principal {
  tokenId: string;
  name: string;
  role: Role;
  /** The company an enterprise token is bound to. */
  company: string | null;
  /** The inspector an inspector token is bound to. */
  inspector: string | null;
}

export interface ApiTokenInfo extends Principal {
  createdAt: Date;
  expiresAt: Date | null;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
}

export interface CreateTokenOptions {
  role: Role;
  name: string;
  company?: string | null;
  inspector?: string | null;
  expiresAt?: Date | null;
  now?: Date;
}

/** Tokens start with `pw_` so a leaked one is easy to recognise in a log or a repository scan. */
const PREFIX = 'pw_';

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export class TokenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TokenError';
  }
}

/** Creates a token and returns it in the clear, once; only its hash is stored. */
export async function createApiToken(db: Queryable, o: CreateTokenOptions): Promise<{ token: string; info: ApiTokenInfo }> {
  if (!(ROLES as readonly string[]).includes(o.role)) throw new TokenError(`role must be one of ${ROLES.join(', ')}`);
  if (o.role === 'enterprise' && !o.company) throw new TokenError('an enterprise token is bound to a company: give --company ID');
  if (o.role !== 'enterprise' && o.company) throw new TokenError('only enterprise tokens are bound to a company');
  if (o.role !== 'inspector' && o.inspector) throw new TokenError('only inspector tokens are bound to an inspector');
  if (!o.name.trim()) throw new TokenError('a token needs a name (who or what holds it)');
  const now = o.now ?? new Date();
  if (o.expiresAt && o.expiresAt.getTime() <= now.getTime()) throw new TokenError('the expiry lies in the past');
  const token = PREFIX + randomBytes(32).toString('base64url');
  const id = randomUUID();
  await db.query(
    `INSERT INTO api_tokens (id, name, role, company, inspector, hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [id, o.name.trim(), o.role, o.company ?? null, o.inspector ?? null, hashToken(token), now, o.expiresAt ?? null],
  );
  return {
    token,
    info: { tokenId: id, name: o.name.trim(), role: o.role, company: o.company ?? null, inspector: o.inspector ?? null, createdAt: now, expiresAt: o.expiresAt ?? null, revokedAt: null, lastUsedAt: null },
  };
}

const toInfo = (r: Record<string, any>): ApiTokenInfo => ({
  tokenId: r.id,
  name: r.name,
  role: r.role,
  company: r.company,
  inspector: r.inspector,
  createdAt: new Date(r.created_at),
  expiresAt: r.expires_at ? new Date(r.expires_at) : null,
  revokedAt: r.revoked_at ? new Date(r.revoked_at) : null,
  lastUsedAt: r.last_used_at ? new Date(r.last_used_at) : null,
});

export async function listApiTokens(db: Queryable): Promise<ApiTokenInfo[]> {
  const rows = (await db.query(`SELECT id, name, role, company, inspector, created_at, expires_at, revoked_at, last_used_at FROM api_tokens ORDER BY created_at, id`)).rows;
  return rows.map(toInfo);
}

/** Revokes by id or by name; returns how many tokens it revoked. */
export async function revokeApiToken(db: Queryable, idOrName: string, now = new Date()): Promise<number> {
  const isUuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(idOrName);
  const r = await db.query(
    `UPDATE api_tokens SET revoked_at = $2 WHERE revoked_at IS NULL AND ${isUuid ? 'id = $1::uuid' : 'name = $1'}`,
    [idOrName, now],
  );
  return r.rowCount;
}

/** The holder of a presented token, or null when it is unknown, revoked or expired. */
export async function verifyApiToken(db: Queryable, token: string, now = new Date()): Promise<Principal | null> {
  if (!token.startsWith(PREFIX) || token.length > 100) return null;
  const rows = (
    await db.query(
      `SELECT id, name, role, company, inspector, expires_at, revoked_at FROM api_tokens WHERE hash = $1`,
      [hashToken(token)],
    )
  ).rows;
  const r = rows[0];
  if (!r || r.revoked_at || (r.expires_at && new Date(r.expires_at).getTime() <= now.getTime())) return null;
  return { tokenId: r.id, name: r.name, role: r.role, company: r.company, inspector: r.inspector };
}

/** Records when a token was last used; at most once a minute per token, off the request path. */
export async function touchApiToken(db: Queryable, tokenId: string, now = new Date()): Promise<void> {
  await db.query(`UPDATE api_tokens SET last_used_at = $2 WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < $2::timestamptz - interval '1 minute')`, [tokenId, now]);
}

/** "90d", "12h", "30m" or "never" → a date after `now` (or null). */
export function parseExpiry(text: string, now = new Date()): Date | null {
  if (text === 'never') return null;
  const m = /^(\d+)(m|h|d|w)$/.exec(text.trim());
  if (!m) throw new TokenError(`--expires "${text}": write a duration such as 30m, 12h, 90d or 52w, or "never"`);
  const unit = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 }[m[2] as 'm' | 'h' | 'd' | 'w'];
  const n = Number(m[1]);
  if (n <= 0) throw new TokenError(`--expires "${text}": the duration must be above zero`);
  return new Date(now.getTime() + n * unit);
}
