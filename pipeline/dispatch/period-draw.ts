import { randomUUID } from 'node:crypto';
import { appendAuditInTransaction } from '../audit/index.js';
import { latestRiskScores, rescoreVessel, type RiskModel } from '../risk/index.js';
import type { Queryable, Store } from '../store/index.js';
import { newSeed, runTargetDraw, seedSha256, type TargetCandidate, type TargetDrawRecord } from './draw.js';
import { createInspection, type DispatchContext, type Inspection } from './inspection-store.js';

/** A vessel in port as a draw candidate: id `IMO<n>` (or `MMSI<n>` without an IMO number). */
export interface VesselCandidate extends TargetCandidate {
  mmsi: number | null;
  imo: number | null;
  berth: string | null;
}

/**
 * The vessels a period's draw is over: alongside now (open berth visits) or
 * declared to arrive within the period, each with its latest risk level. A
 * vessel never scored counts as SRS, as the SRP treats a ship it knows nothing against.
 */
export async function vesselCandidates(q: Queryable, at: Date, periodHours: number): Promise<VesselCandidate[]> {
  const until = new Date(at.getTime() + periodHours * 3_600_000);
  const rows = (
    await q.query(
      `WITH alongside AS (SELECT DISTINCT ON (mmsi) mmsi, berth FROM berth_visits WHERE departed_at IS NULL AND arrived_at <= $1 ORDER BY mmsi, arrived_at DESC),
            declared AS (SELECT DISTINCT ON (coalesce(imo::text, 'm' || mmsi::text)) imo, mmsi, berth FROM vessel_calls WHERE eta >= $1 - interval '1 day' AND eta < $2 ORDER BY coalesce(imo::text, 'm' || mmsi::text), eta DESC)
       SELECT coalesce(d.mmsi, a.mmsi, v.mmsi) AS mmsi, coalesce(d.imo, v.imo) AS imo, coalesce(a.berth, d.berth) AS berth
         FROM alongside a FULL JOIN declared d ON d.mmsi = a.mmsi LEFT JOIN vessels v ON v.mmsi = coalesce(a.mmsi, d.mmsi)`,
      [at, until],
    )
  ).rows;
  const scores = new Map((await latestRiskScores(q, rows.map((r) => r.mmsi).filter((m): m is number => m !== null))).map((s) => [s.mmsi, s.profile]));
  const seen = new Set<string>();
  const out: VesselCandidate[] = [];
  for (const r of rows) {
    const id = r.imo ? `IMO${r.imo}` : `MMSI${r.mmsi}`;
    if (seen.has(id)) continue;
    seen.add(id);
    out.push({ id, profile: (r.mmsi && scores.get(r.mmsi)) || 'SRS', mmsi: r.mmsi ?? null, imo: r.imo ?? null, berth: r.berth ?? null });
  }
  return out.sort((a, b) => (a.id < b.id ? -1 : 1));
}

export interface PeriodDrawResult {
  drawId: string;
  record: TargetDrawRecord;
  candidates: VesselCandidate[];
  inspections: Inspection[];
}

/**
 * One period's "what to inspect" draw: seed committed (draws row, audit
 * `draw.committed`), candidate list read (vessels rescored when a model is given)
 * and closed, then revealed with the
 * selection; one inspection per selected vessel (state `drawn`).
 */
export interface PeriodDrawOptions {
  at?: Date;
  /** Rescore every vessel in port with this model before the list closes (what the worker does); without, their latest stored level. */
  model?: RiskModel | null;
  /** The candidate list itself (tests, replays); default: the vessels in port. */
  candidates?: VesselCandidate[];
}

export async function runPeriodDraw(store: Store, ctx: DispatchContext, options: PeriodDrawOptions = {}): Promise<PeriodDrawResult> {
  const at = options.at ?? new Date();
  const seed = newSeed();
  const drawId: string = randomUUID();
  await store.transaction(async (tx) => {
    await tx.query(`INSERT INTO draws (id, kind, opened_at, seed_sha256) VALUES ($1, 'target', $2, $3)`, [drawId, at, seedSha256(seed)]);
    await appendAuditInTransaction(tx, { kind: 'draw.committed', actor: ctx.actor, subject: drawId, time: at, payload: { draw_id: drawId, kind: 'target', seed_sha256: seedSha256(seed) } });
  });
  const candidates = options.candidates ?? (await vesselCandidates(store, at, ctx.settings.draw_every_hours));
  if (options.model && !options.candidates)
    for (const c of candidates) if (c.mmsi !== null || c.imo !== null) c.profile = (await rescoreVessel(store, options.model, { mmsi: c.mmsi, imo: c.imo }, at)).profile;
  const record = runTargetDraw({ seed, candidates, rates: ctx.settings.rates, drawId });
  await store.transaction(async (tx) => {
    await tx.query(`UPDATE draws SET closed_at = $2, candidates_sha256 = $3, record = $4::jsonb WHERE id = $1`, [drawId, at, record.candidates_sha256, JSON.stringify({ ...record, candidate_list: candidates })]);
    await appendAuditInTransaction(tx, [
      { kind: 'draw.closed', actor: ctx.actor, subject: drawId, time: at, payload: { draw_id: drawId, candidates_sha256: record.candidates_sha256, candidates: candidates.length } },
      { kind: 'draw.revealed', actor: ctx.actor, subject: drawId, time: at, payload: { draw_id: drawId, record: record as unknown as Record<string, unknown> } },
    ]);
  });
  const inspections: Inspection[] = [];
  for (const id of record.selected) {
    const c = candidates.find((x) => x.id === id)!;
    const { inspection } = await createInspection(
      store,
      { target_kind: 'vessel', target: id, mmsi: c.mmsi, imo: c.imo, berth: c.berth, risk_level: c.profile, skills: ctx.settings.skills.vessel, target_draw_id: drawId, company: (c.company as string | undefined) ?? null, vessel_name: (c.name as string | undefined) ?? null },
      ctx.actor,
      at,
    );
    inspections.push(inspection);
  }
  return { drawId, record, candidates, inspections };
}
