import { eventId } from '../events/index.js';
import { rescoreVessel, type RiskModel, type VesselScore } from '../risk/index.js';
import type { Queryable, Store } from '../store/index.js';
import type { Declaration } from './declaration-schema.js';

export interface StoredCall {
  id: string;
  imo: number | null;
  mmsi: number | null;
  /** The MMSI came from AIS (the vessels table, by IMO), not from the declaration. */
  mmsiFromAis: boolean;
  berthVisit: string | null;
  /** A declaration with this id existed and was replaced. */
  replaced: boolean;
  score: (VesselScore & { stored: boolean }) | null;
}

/** A call's id: the vessel and its ETA, so declaring the same call again replaces it. */
export function callId(d: Pick<Declaration, 'imo' | 'mmsi' | 'eta'>): string {
  return eventId('call', d.imo ?? `m${d.mmsi}`, new Date(d.eta).toISOString());
}

/** The berth visit that is this call: same vessel, arrived within two days of the ETA (or still alongside). */
async function findBerthVisit(q: Queryable, mmsi: number, eta: Date): Promise<string | null> {
  const r = await q.query(
    `SELECT id FROM berth_visits WHERE mmsi = $1 AND arrived_at BETWEEN $2::timestamptz - interval '2 days' AND $2::timestamptz + interval '2 days'
      ORDER BY abs(extract(epoch FROM arrived_at - $2::timestamptz)) LIMIT 1`,
    [mmsi, eta],
  );
  return r.rows[0]?.id ?? null;
}

/**
 * Store a declared call, link it to AIS (MMSI from the vessels table by IMO
 * when not declared) and to its berth visit, then score the vessel with the
 * model (kept in risk_scores when the MMSI is known).
 */
export async function storeDeclaration(store: Store, d: Declaration, o: { model: RiskModel | null; at?: Date }): Promise<StoredCall> {
  const at = o.at ?? new Date();
  const id = callId(d);
  let mmsi = d.mmsi ?? null;
  let mmsiFromAis = false;
  if (!mmsi && d.imo) {
    mmsi = (await store.query('SELECT mmsi FROM vessels WHERE imo = $1 ORDER BY last_seen DESC LIMIT 1', [d.imo])).rows[0]?.mmsi ?? null;
    mmsiFromAis = mmsi !== null;
  }
  const eta = new Date(d.eta);
  const berthVisit = mmsi ? await findBerthVisit(store, mmsi, eta) : null;
  const r = await store.query(
    `INSERT INTO vessel_calls (id, declared_at, imo, mmsi, name, eta, berth, company, agent, cargo_classes, crew_count, health, vessel, berth_visit_id)
     VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12::jsonb,$13::jsonb,$14)
     ON CONFLICT (id) DO UPDATE SET declared_at = EXCLUDED.declared_at, mmsi = EXCLUDED.mmsi, name = EXCLUDED.name, berth = EXCLUDED.berth, company = EXCLUDED.company,
       agent = EXCLUDED.agent, cargo_classes = EXCLUDED.cargo_classes, crew_count = EXCLUDED.crew_count, health = EXCLUDED.health, vessel = EXCLUDED.vessel, berth_visit_id = EXCLUDED.berth_visit_id
     RETURNING (xmax <> 0) AS replaced`,
    [id, at, d.imo ?? null, mmsi, d.name, eta, d.berth ?? null, d.company ?? null, d.agent ?? null, d.cargo_classes, d.crew_count, JSON.stringify(d.health), JSON.stringify({ ...d.vessel, company: d.company }), berthVisit],
  );
  const score = o.model ? await rescoreVessel(store, o.model, { mmsi, imo: d.imo ?? null }, at) : null;
  return { id, imo: d.imo ?? null, mmsi, mmsiFromAis, berthVisit, replaced: Boolean(r.rows[0]?.replaced), score };
}

export interface VesselCall {
  id: string;
  declared_at: Date;
  imo: number | null;
  mmsi: number | null;
  name: string;
  eta: Date;
  berth: string | null;
  company: string | null;
  agent: string | null;
  cargo_classes: string[];
  crew_count: number | null;
  health: Record<string, unknown>;
  berth_visit_id: string | null;
}

/** Declared calls, latest ETA first: a company's own (enterprise API), a vessel's, or all. */
export async function listCalls(q: Queryable, f: { company?: string; imo?: number; mmsi?: number; limit?: number } = {}): Promise<VesselCall[]> {
  const rows = (
    await q.query(
      `SELECT id, declared_at, imo, mmsi, name, eta, berth, company, agent, cargo_classes, crew_count, health, berth_visit_id FROM vessel_calls
        WHERE ($1::text IS NULL OR company = $1) AND ($2::integer IS NULL OR imo = $2) AND ($3::integer IS NULL OR mmsi = $3) ORDER BY eta DESC LIMIT $4`,
      [f.company ?? null, f.imo ?? null, f.mmsi ?? null, Math.min(f.limit ?? 100, 1000)],
    )
  ).rows;
  return rows.map((r) => ({ ...r, declared_at: new Date(r.declared_at), eta: new Date(r.eta) }) as VesselCall);
}
