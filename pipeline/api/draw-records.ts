import type { Queryable } from '../store/index.js';

/**
 * Published draw records for verification (the dispatch stage writes the
 * `draws` table; it has no reader for them yet). Only closed draws: an open
 * one's seed is not revealed until it closes.
 */
export interface PublicDraw {
  id: string;
  kind: string;
  opened_at: string;
  closed_at: string;
  seed_sha256: string;
  candidates_sha256: string | null;
  record: Record<string, unknown> | null;
}

const toDraw = (r: Record<string, any>): PublicDraw => ({
  id: r.id,
  kind: r.kind,
  opened_at: new Date(r.opened_at).toISOString(),
  closed_at: new Date(r.closed_at).toISOString(),
  seed_sha256: r.seed_sha256,
  candidates_sha256: r.candidates_sha256 ?? null,
  record: (typeof r.record === 'string' ? JSON.parse(r.record) : r.record) ?? null,
});

export async function listPublicDraws(q: Queryable, range: { from?: Date; to?: Date; limit: number }): Promise<PublicDraw[]> {
  const rows = (
    await q.query(
      `SELECT id, kind, opened_at, closed_at, seed_sha256, candidates_sha256, record FROM draws
        WHERE closed_at IS NOT NULL AND ($1::timestamptz IS NULL OR opened_at >= $1) AND ($2::timestamptz IS NULL OR opened_at < $2)
        ORDER BY opened_at, id LIMIT $3`,
      [range.from ?? null, range.to ?? null, range.limit],
    )
  ).rows;
  return rows.map(toDraw);
}

export async function getPublicDraw(q: Queryable, id: string): Promise<PublicDraw | null> {
  const r = (await q.query(`SELECT id, kind, opened_at, closed_at, seed_sha256, candidates_sha256, record FROM draws WHERE id = $1 AND closed_at IS NOT NULL`, [id])).rows[0];
  return r ? toDraw(r) : null;
}
