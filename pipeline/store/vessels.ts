import type { Queryable } from './store.js';

/** Static and voyage data of one vessel (AIS types 5, 19, 24), as far as one report knows it. */
export interface VesselRecord {
  mmsi: number;
  imo?: number | null;
  name?: string | null;
  callsign?: string | null;
  shipType?: number | null;
  length?: number | null;
  beam?: number | null;
  draught?: number | null;
  destination?: string | null;
  eta?: Date | null;
  flag?: string | null;
  /** When this report was received: widens first_seen/last_seen. */
  seenAt: Date;
  details?: Record<string, unknown>;
}

const COLUMNS = ['mmsi', 'imo', 'name', 'callsign', 'ship_type', 'length', 'beam', 'draught', 'destination', 'eta', 'flag', 'first_seen', 'last_seen', 'details'];
const MERGED = ['imo', 'name', 'callsign', 'ship_type', 'length', 'beam', 'draught', 'destination', 'eta', 'flag'];

/** Fold several reports of one vessel into one, later values winning over earlier ones, nulls never erasing. */
function merge(a: VesselRecord, b: VesselRecord): VesselRecord {
  const out: VesselRecord = { ...a };
  for (const [k, v] of Object.entries(b) as Array<[keyof VesselRecord, unknown]>) {
    if (v !== null && v !== undefined) (out as unknown as Record<string, unknown>)[k] = v;
  }
  out.seenAt = a.seenAt > b.seenAt ? a.seenAt : b.seenAt;
  out.details = { ...(a.details ?? {}), ...(b.details ?? {}) };
  return out;
}

/**
 * Insert or update vessels by MMSI. A report only fills what it knows: a
 * missing field keeps the stored value; first_seen/last_seen only widen.
 */
export async function upsertVessels(q: Queryable, vessels: readonly VesselRecord[]): Promise<void> {
  // One statement cannot update the same row twice: fold duplicates first.
  const byMmsi = new Map<number, { v: VesselRecord; first: Date }>();
  for (const v of [...vessels].sort((a, b) => a.seenAt.getTime() - b.seenAt.getTime())) {
    const prev = byMmsi.get(v.mmsi);
    byMmsi.set(v.mmsi, prev ? { v: merge(prev.v, v), first: prev.first } : { v, first: v.seenAt });
  }
  const all = [...byMmsi.values()];
  const n = COLUMNS.length;
  for (let start = 0; start < all.length; start += 1000) {
    const part = all.slice(start, start + 1000);
    const params: unknown[] = [];
    const tuples = part.map(({ v, first }, r) => {
      params.push(
        v.mmsi, v.imo ?? null, v.name ?? null, v.callsign ?? null, v.shipType ?? null, v.length ?? null, v.beam ?? null,
        v.draught ?? null, v.destination ?? null, v.eta ?? null, v.flag ?? null, first, v.seenAt, JSON.stringify(v.details ?? {}),
      );
      return `(${COLUMNS.map((_, c) => `$${r * n + c + 1}`).join(',')})`;
    });
    await q.query(
      `INSERT INTO vessels (${COLUMNS.join(',')}) VALUES ${tuples.join(',')}
       ON CONFLICT (mmsi) DO UPDATE SET
         ${MERGED.map((c) => `${c} = COALESCE(EXCLUDED.${c}, vessels.${c})`).join(',\n         ')},
         first_seen = LEAST(vessels.first_seen, EXCLUDED.first_seen),
         last_seen = GREATEST(vessels.last_seen, EXCLUDED.last_seen),
         details = vessels.details || EXCLUDED.details`,
      params,
    );
    // A call declared with its IMO alone waits for AIS to name the MMSI (a
    // type 5 report carries both); from then on it is the vessel's call, and
    // its risk score, kept by MMSI, is stored at the next rescoring.
    const linked = part.filter(({ v }) => v.imo != null);
    if (linked.length > 0)
      await q.query(
        `UPDATE vessel_calls c SET mmsi = v.mmsi FROM unnest($1::integer[], $2::integer[]) AS v(mmsi, imo) WHERE c.imo = v.imo AND c.mmsi IS NULL`,
        [linked.map(({ v }) => v.mmsi), linked.map(({ v }) => v.imo)],
      );
  }
}
