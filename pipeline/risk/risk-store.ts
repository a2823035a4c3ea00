import type { Queryable, Store } from '../store/index.js';
import { riskScoresTable } from '../store/index.js';
import { eventId } from '../events/index.js';
import { scoreVessel, type VesselScore } from './score-vessel.js';
import type { RiskModel } from './risk-model-schema.js';
import type { EventFact, VesselFacts } from './vessel-facts.js';

/** How far back events count as evidence (the longest presence window of the shipped models). */
const EVIDENCE_DAYS = 30;

export interface VesselRef {
  mmsi?: number | null;
  imo?: number | null;
}

/**
 * Everything the store knows about a vessel at `asOf`: the particulars of its
 * latest declared call (SRP fields, company), the declaration itself, the berth
 * it lies at (open berth visit) and the events near it or at that berth.
 */
export async function gatherVesselFacts(q: Queryable, ref: VesselRef, asOf: Date, extraEvents: EventFact[] = []): Promise<VesselFacts & { callId: string | null }> {
  const call = (
    await q.query(
      `SELECT id, imo, mmsi, name, company, cargo_classes, crew_count, health, vessel, berth, eta FROM vessel_calls
        WHERE (imo = $1 OR mmsi = $2) AND declared_at <= $3 ORDER BY eta DESC LIMIT 1`,
      [ref.imo ?? null, ref.mmsi ?? null, asOf],
    )
  ).rows[0];
  const mmsiGuess = ref.mmsi ?? call?.mmsi ?? null;
  const imoGuess = ref.imo ?? call?.imo ?? null;
  const vessel = (await q.query('SELECT mmsi, imo, name, flag FROM vessels WHERE mmsi = $1 OR (imo IS NOT NULL AND imo = $2) ORDER BY last_seen DESC LIMIT 1', [mmsiGuess, imoGuess])).rows[0];
  const mmsi: number | null = mmsiGuess ?? vessel?.mmsi ?? null;
  const imo: number | null = imoGuess ?? vessel?.imo ?? null;
  const visit = mmsi
    ? (await q.query('SELECT berth, arrived_at FROM berth_visits WHERE mmsi = $1 AND arrived_at <= $2 AND (departed_at IS NULL OR departed_at > $2) ORDER BY arrived_at DESC LIMIT 1', [mmsi, asOf])).rows[0]
    : undefined;
  const since = new Date(asOf.getTime() - EVIDENCE_DAYS * 86_400_000);
  const events = (
    await q.query(
      `SELECT id, kind, time, berth, mmsi FROM events WHERE time > $1 AND time <= $2 AND ((mmsi IS NOT NULL AND mmsi = $3) OR (berth IS NOT NULL AND berth = $4 AND time >= $5))
        ORDER BY time LIMIT 2000`,
      [since, asOf, mmsi, visit?.berth ?? null, visit?.arrived_at ?? asOf],
    )
  ).rows.map((e): EventFact => ({ id: e.id, kind: e.kind, time: new Date(e.time), berth: e.berth, mmsi: e.mmsi }));
  const particulars = (call?.vessel ?? {}) as Record<string, unknown>;
  return {
    ...(particulars as VesselFacts),
    imo,
    mmsi,
    name: call?.name ?? vessel?.name ?? null,
    flag: (particulars.flag as string | undefined) ?? vessel?.flag ?? null,
    company: call?.company ?? (particulars.company as string | undefined) ?? null,
    declaration: call ? { id: call.id, cargo_classes: call.cargo_classes ?? [], crew_count: call.crew_count, health: call.health ?? {}, berth: call.berth, eta: call.eta } : null,
    alongside: visit ? { berth: visit.berth, since: new Date(visit.arrived_at) } : null,
    events: [...events, ...extraEvents.filter((x) => !events.some((e) => e.id === x.id))],
    callId: call?.id ?? null,
  };
}

/** Keep a score in the risk_scores history (needs the vessel's MMSI: the hypertable is keyed by it). */
export async function recordRiskScore(store: Pick<Store, 'insertRows'>, score: VesselScore, at: Date, callId: string | null = null): Promise<boolean> {
  if (score.mmsi === null) return false;
  const id = eventId('risk', score.mmsi, at.toISOString(), score.model_sha256);
  const row = riskScoresTable.toRow({ id, time: at, mmsi: score.mmsi, imo: score.imo, score: score.points, level: score.profile, model: score.model, factors: { breakdown: score.breakdown, profile_reason: score.profile_reason, model_sha256: score.model_sha256 } });
  await store.insertRows('risk_scores', [...riskScoresTable.columns, 'call_id'], [[...row, callId]]);
  return true;
}

/** Gather, score and record: what runs when evidence about a vessel arrives. */
export async function rescoreVessel(store: Store, model: RiskModel, ref: VesselRef, at: Date = new Date(), extraEvents: EventFact[] = []): Promise<VesselScore & { stored: boolean; callId: string | null }> {
  const facts = await gatherVesselFacts(store, ref, at, extraEvents);
  const score = scoreVessel(model, facts, at);
  const stored = await recordRiskScore(store, score, at, facts.callId);
  return { ...score, stored, callId: facts.callId };
}

export interface StoredRiskScore {
  time: Date;
  mmsi: number;
  imo: number | null;
  profile: string;
  points: number;
  model: string | null;
  breakdown: Record<string, unknown>;
  profile_reason: string | null;
}

/** The latest score of each vessel (or of the ones given), newest first. */
export async function latestRiskScores(q: Queryable, mmsis?: readonly number[]): Promise<StoredRiskScore[]> {
  const rows = (
    await q.query(
      `SELECT DISTINCT ON (mmsi) time, mmsi, imo, score, level, model, factors FROM risk_scores
        ${mmsis ? 'WHERE mmsi = ANY($1::integer[])' : ''} ORDER BY mmsi, time DESC`,
      mmsis ? [mmsis] : [],
    )
  ).rows;
  return rows
    .map((r) => ({
      time: new Date(r.time),
      mmsi: r.mmsi,
      imo: r.imo,
      profile: r.level,
      points: Number(r.score),
      model: r.model,
      breakdown: (r.factors?.breakdown ?? {}) as Record<string, unknown>,
      profile_reason: r.factors?.profile_reason ?? null,
    }))
    .sort((a, b) => b.time.getTime() - a.time.getTime());
}

/** A vessel's score history, newest first. */
export async function riskHistory(q: Queryable, mmsi: number, limit = 100): Promise<StoredRiskScore[]> {
  const rows = (await q.query('SELECT time, mmsi, imo, score, level, model, factors FROM risk_scores WHERE mmsi = $1 ORDER BY time DESC LIMIT $2', [mmsi, limit])).rows;
  return rows.map((r) => ({ time: new Date(r.time), mmsi: r.mmsi, imo: r.imo, profile: r.level, points: Number(r.score), model: r.model, breakdown: r.factors?.breakdown ?? {}, profile_reason: r.factors?.profile_reason ?? null }));
}
