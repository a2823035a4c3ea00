import type { Queryable } from '../../pipeline/store/index.js';

export interface StoreSummary {
  rows: Record<string, number>;
  visits: Array<{ berth: string; mmsi: number; name: string | null; arrived_at: string; departed_at: string | null }>;
}

const TABLES = ['events', 'ais_positions', 'vessels', 'berth_visits', 'camera_health', 'detections', 'alerts', 'alert_history', 'risk_scores', 'draws', 'inspections', 'audit_log'] as const;

/** What the demo wrote, read back from the store (proof that it landed, not what we think we sent). */
export async function summariseStore(db: Queryable): Promise<StoreSummary> {
  const rows: Record<string, number> = {};
  for (const t of TABLES) {
    const r = await db.query<{ n: number | string }>(`SELECT count(*) AS n FROM ${t}`);
    rows[t] = Number(r.rows[0]?.n ?? 0);
  }
  const v = await db.query<{ berth: string; mmsi: number; name: string | null; arrived_at: Date; departed_at: Date | null }>(
    `SELECT b.berth, b.mmsi, v.name, b.arrived_at, b.departed_at
       FROM berth_visits b LEFT JOIN vessels v ON v.mmsi = b.mmsi
      ORDER BY b.arrived_at DESC LIMIT 10`,
  );
  const iso = (d: Date | string | null) => (d === null ? null : new Date(d).toISOString().replace('.000Z', 'Z'));
  return { rows, visits: v.rows.map((r) => ({ ...r, arrived_at: iso(r.arrived_at)!, departed_at: iso(r.departed_at) })) };
}
