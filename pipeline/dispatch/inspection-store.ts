import { randomUUID } from 'node:crypto';
import { appendAuditInTransaction } from '../audit/index.js';
import type { InspectorConfig } from '../config/index.js';
import { eventId } from '../events/index.js';
import type { Queryable, Store } from '../store/index.js';
import { newSeed, runInspectorDraw, seedSha256, type InspectorDrawRecord } from './draw.js';
import { eligibleInspectors } from './on-duty.js';
import type { DispatchSettings } from './settings.js';

export const INSPECTION_STATES = ['drawn', 'assigned', 'acknowledged', 'completed', 'escalated', 'cancelled'] as const;
export type InspectionState = (typeof INSPECTION_STATES)[number];
export const OPEN_STATES: readonly InspectionState[] = ['assigned', 'acknowledged'];

export interface Inspection {
  id: string;
  created_at: Date;
  target_kind: 'vessel' | 'alert';
  target: string;
  mmsi: number | null;
  imo: number | null;
  vessel_name: string | null;
  company: string | null;
  berth: string | null;
  risk_level: string | null;
  alert_id: string | null;
  severity: string | null;
  priority: number;
  skills: string[];
  state: InspectionState;
  inspector: string | null;
  assigned_at: Date | null;
  ack_deadline: Date | null;
  acknowledged_at: Date | null;
  reassignments: number;
  passed_by: string[];
  target_draw_id: string | null;
  inspector_draw_id: string | null;
  result: 'pass' | 'fail' | null;
  outcome: 'released' | 'held' | null;
  findings: Finding[];
  photos: string[];
  completed_at: Date | null;
  updated_at: Date;
  details: Record<string, unknown>;
}

export interface Finding {
  code?: string;
  text: string;
}

/** Why a dispatch call was refused; `code` maps to an HTTP status in the API (404, 409, 403, 400). */
export class DispatchError extends Error {
  constructor(
    readonly code: 'not_found' | 'conflict' | 'forbidden' | 'invalid',
    message: string,
  ) {
    super(message);
    this.name = 'DispatchError';
  }
}

/** What the dispatch functions need from the site: roster, time zone, settings, who acts. */
export interface DispatchContext {
  roster: readonly InspectorConfig[];
  timeZone: string;
  settings: DispatchSettings;
  /** The worker or user acting, recorded in the audit trail. */
  actor: string;
}

const SEVERITY_PRIORITY: Record<string, number> = { critical: 1, high: 2, medium: 3, low: 4, info: 5 };
const RISK_PRIORITY: Record<string, number> = { HRS: 2, SRS: 4, LRS: 5 };

/** BullMQ priority (1 first): the alert's severity, else the vessel's risk level; the more urgent of both. */
export function inspectionPriority(o: { severity?: string | null; risk_level?: string | null }): number {
  return Math.min(SEVERITY_PRIORITY[o.severity ?? ''] ?? 5, RISK_PRIORITY[o.risk_level ?? ''] ?? 5);
}

const COLUMNS = `id, created_at, target_kind, target, mmsi, imo, vessel_name, company, berth, risk_level, alert_id, severity, priority, skills, state, inspector,
  assigned_at, ack_deadline, acknowledged_at, reassignments, passed_by, target_draw_id, inspector_draw_id, result, outcome, findings, photos, completed_at, updated_at, details`;

const date = (v: unknown) => (v === null || v === undefined ? null : v instanceof Date ? v : new Date(String(v)));

function rowToInspection(r: Record<string, any>): Inspection {
  return {
    ...r,
    created_at: date(r.created_at)!,
    assigned_at: date(r.assigned_at),
    ack_deadline: date(r.ack_deadline),
    acknowledged_at: date(r.acknowledged_at),
    completed_at: date(r.completed_at),
    updated_at: date(r.updated_at)!,
    skills: r.skills ?? [],
    passed_by: r.passed_by ?? [],
    findings: r.findings ?? [],
    photos: r.photos ?? [],
    details: r.details ?? {},
  } as Inspection;
}

export async function getInspection(q: Queryable, id: string): Promise<Inspection | null> {
  if (!/^[0-9a-f-]{36}$/i.test(id)) return null;
  const r = (await q.query(`SELECT ${COLUMNS} FROM inspections WHERE id = $1`, [id])).rows[0];
  return r ? rowToInspection(r) : null;
}

export interface NewInspection {
  target_kind: 'vessel' | 'alert';
  target: string;
  mmsi?: number | null;
  imo?: number | null;
  vessel_name?: string | null;
  company?: string | null;
  berth?: string | null;
  risk_level?: string | null;
  alert_id?: string | null;
  severity?: string | null;
  skills?: readonly string[];
  target_draw_id?: string | null;
  details?: Record<string, unknown>;
}

/**
 * A new inspection in state `drawn`. Its id is derived from what it inspects (the
 * alert, or the draw and the target), so a re-delivered alert or a retried job
 * finds the same inspection instead of making a second one.
 */
export async function createInspection(store: Pick<Store, 'transaction'>, input: NewInspection, actor: string, at = new Date()): Promise<{ inspection: Inspection; created: boolean }> {
  const id = input.alert_id ? eventId('inspection', 'alert', input.alert_id) : eventId('inspection', input.target_draw_id ?? randomUUID(), input.target_kind, input.target);
  return store.transaction(async (tx) => {
    const inserted = await tx.query(
      `INSERT INTO inspections (id, created_at, target_kind, target, mmsi, imo, vessel_name, company, berth, risk_level, alert_id, severity, priority, skills, state, target_draw_id, updated_at, details)
       VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,'drawn',$15,$2,$16::jsonb) ON CONFLICT (id) DO NOTHING RETURNING id`,
      [
        id,
        at,
        input.target_kind,
        input.target,
        input.mmsi ?? null,
        input.imo ?? null,
        input.vessel_name ?? null,
        input.company ?? null,
        input.berth ?? null,
        input.risk_level ?? null,
        input.alert_id ?? null,
        input.severity ?? null,
        inspectionPriority(input),
        [...(input.skills ?? [])],
        input.target_draw_id ?? null,
        JSON.stringify(input.details ?? {}),
      ],
    );
    const created = inserted.rows.length > 0;
    if (created)
      await appendAuditInTransaction(tx, {
        kind: 'inspection.created',
        actor,
        subject: id,
        time: at,
        payload: { target_kind: input.target_kind, target: input.target, risk_level: input.risk_level ?? null, alert_id: input.alert_id ?? null, target_draw_id: input.target_draw_id ?? null },
      });
    const row = (await tx.query(`SELECT ${COLUMNS} FROM inspections WHERE id = $1`, [id])).rows[0]!;
    return { inspection: rowToInspection(row), created };
  });
}

export interface InspectionFilter {
  inspector?: string;
  company?: string;
  imo?: number;
  mmsi?: number;
  state?: InspectionState | readonly InspectionState[];
  /** Created before this (paging, newest first). */
  before?: Date;
  limit?: number;
}

/** Inspections, newest first: an inspector's jobs, an enterprise's (company or vessel) calls, or all. */
export async function listInspections(q: Queryable, f: InspectionFilter = {}): Promise<Inspection[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (sql: string, v: unknown) => {
    params.push(v);
    where.push(sql.replaceAll('?', `$${params.length}`));
  };
  if (f.inspector !== undefined) add('inspector = ?', f.inspector);
  if (f.company !== undefined) add('company = ?', f.company);
  if (f.imo !== undefined) add('imo = ?', f.imo);
  if (f.mmsi !== undefined) add('mmsi = ?', f.mmsi);
  if (f.state !== undefined) add('state = ANY(?::text[])', typeof f.state === 'string' ? [f.state] : [...f.state]);
  if (f.before) add('created_at < ?', f.before);
  params.push(Math.min(f.limit ?? 100, 1000));
  const rows = (await q.query(`SELECT ${COLUMNS} FROM inspections ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC, id LIMIT $${params.length}`, params)).rows;
  return rows.map(rowToInspection);
}

/** Open inspections (assigned or acknowledged) per inspector: the workload the draw weighs against. */
export async function inspectorWorkloads(q: Queryable): Promise<Map<string, number>> {
  const rows = (await q.query(`SELECT inspector, count(*)::int AS n FROM inspections WHERE state = ANY($1::text[]) AND inspector IS NOT NULL GROUP BY inspector`, [[...OPEN_STATES]])).rows;
  return new Map(rows.map((r) => [r.inspector as string, Number(r.n)]));
}

async function lastInspector(q: Queryable, exceptId: string, column: 'company' | 'imo' | 'mmsi', value: unknown): Promise<string | null> {
  if (value === null || value === undefined) return null;
  const r = (await q.query(`SELECT inspector FROM inspections WHERE ${column} = $1 AND id <> $2 AND inspector IS NOT NULL ORDER BY assigned_at DESC NULLS LAST LIMIT 1`, [value, exceptId])).rows[0];
  return r?.inspector ?? null;
}

export interface AssignResult {
  inspection: Inspection;
  /** The inspector draw's public record; null when nobody was eligible (then the inspection is escalated). */
  record: InspectorDrawRecord | null;
  drawId: string;
}

/**
 * Draw the inspector for an inspection, verifiably, and assign it:
 * 1. the seed's SHA-256 is committed (draws row + audit `draw.committed`) before
 *    the candidate list is read;
 * 2. eligible inspectors and their workloads are read (the list closes);
 * 3. in one transaction the draw is closed and revealed (`draw.closed`,
 *    `draw.revealed` with the full record) and the inspection assigned
 *    (`inspection.assigned`) with its acknowledgement deadline.
 * Nobody eligible: the inspection is escalated to the command center.
 */
export async function assignInspector(store: Store, ctx: DispatchContext, id: string, at = new Date()): Promise<AssignResult> {
  const current = await getInspection(store, id);
  if (!current) throw new DispatchError('not_found', `inspection ${id} does not exist`);
  if (current.state !== 'drawn' && current.state !== 'assigned') throw new DispatchError('conflict', `inspection ${id} is ${current.state}: only a drawn or assigned inspection gets an inspector`);
  const seed = newSeed();
  const drawId: string = randomUUID();
  await store.transaction(async (tx) => {
    await tx.query(`INSERT INTO draws (id, kind, opened_at, seed_sha256) VALUES ($1, 'inspector', $2, $3)`, [drawId, at, seedSha256(seed)]);
    await appendAuditInTransaction(tx, { kind: 'draw.committed', actor: ctx.actor, subject: drawId, time: at, payload: { draw_id: drawId, kind: 'inspector', seed_sha256: seedSha256(seed), inspection: id } });
  });

  const workloads = await inspectorWorkloads(store);
  if (current.inspector && current.state === 'assigned') workloads.set(current.inspector, Math.max(0, (workloads.get(current.inspector) ?? 1) - 1));
  const needs = {
    skills: current.skills,
    company: current.company,
    imo: current.imo,
    mmsi: current.mmsi,
    passedBy: current.passed_by,
    lastForCompany: await lastInspector(store, id, 'company', current.company),
    lastForVessel: (await lastInspector(store, id, 'imo', current.imo)) ?? (await lastInspector(store, id, 'mmsi', current.mmsi)),
  };
  const { candidates, excluded } = eligibleInspectors(ctx.roster, ctx.settings, ctx.timeZone, at, needs, workloads);
  const record = runInspectorDraw({ seed, subject: id, candidates, excluded, drawId });
  const chosen = record.selected[0] ?? null;
  const deadline = new Date(at.getTime() + ctx.settings.ack_deadline_minutes * 60_000);

  const inspection = await store.transaction(async (tx) => {
    await tx.query(`UPDATE draws SET closed_at = $2, candidates_sha256 = $3, record = $4::jsonb WHERE id = $1`, [drawId, at, record.candidates_sha256, JSON.stringify(record)]);
    const entries = [
      { kind: 'draw.closed', actor: ctx.actor, subject: drawId, time: at, payload: { draw_id: drawId, candidates_sha256: record.candidates_sha256, candidates: candidates.length } },
      { kind: 'draw.revealed', actor: ctx.actor, subject: drawId, time: at, payload: { draw_id: drawId, record: record as unknown as Record<string, unknown> } },
    ];
    let row;
    if (chosen) {
      row = (
        await tx.query(
          `UPDATE inspections SET state = 'assigned', inspector = $2, assigned_at = $3, ack_deadline = $4, inspector_draw_id = $5, updated_at = $3 WHERE id = $1 RETURNING ${COLUMNS}`,
          [id, chosen, at, deadline, drawId],
        )
      ).rows[0];
      entries.push({ kind: 'inspection.assigned', actor: ctx.actor, subject: id, time: at, payload: { inspection: id, inspector: chosen, draw_id: drawId, ack_deadline: deadline.toISOString(), round: current.reassignments } as never });
    } else {
      row = (await tx.query(`UPDATE inspections SET state = 'escalated', inspector = NULL, inspector_draw_id = $2, updated_at = $3 WHERE id = $1 RETURNING ${COLUMNS}`, [id, drawId, at])).rows[0];
      entries.push({ kind: 'inspection.escalated', actor: ctx.actor, subject: id, time: at, payload: { inspection: id, reason: 'no eligible inspector on duty', excluded } as never });
    }
    await appendAuditInTransaction(tx, entries);
    return rowToInspection(row!);
  });
  return { inspection, record, drawId };
}

function requireInspector(i: Inspection | null, id: string, inspector: string): Inspection {
  if (!i) throw new DispatchError('not_found', `inspection ${id} does not exist`);
  if (i.inspector !== inspector) throw new DispatchError('forbidden', `inspection ${id} is assigned to ${i.inspector ?? 'nobody'}, not ${inspector}`);
  return i;
}

/** The assigned inspector takes the job; after the deadline it has gone to someone else and this is refused. */
export async function acknowledgeInspection(store: Pick<Store, 'transaction'>, id: string, input: { inspector: string; at?: Date }): Promise<Inspection> {
  const at = input.at ?? new Date();
  return store.transaction(async (tx) => {
    const i = requireInspector(rowOrNull((await tx.query(`SELECT ${COLUMNS} FROM inspections WHERE id = $1 FOR UPDATE`, [id])).rows[0]), id, input.inspector);
    if (i.state === 'acknowledged') return i;
    if (i.state !== 'assigned') throw new DispatchError('conflict', `inspection ${id} is ${i.state}: only an assigned inspection is acknowledged`);
    const row = (await tx.query(`UPDATE inspections SET state = 'acknowledged', acknowledged_at = $2, updated_at = $2 WHERE id = $1 RETURNING ${COLUMNS}`, [id, at])).rows[0]!;
    await appendAuditInTransaction(tx, { kind: 'inspection.acknowledged', actor: input.inspector, subject: id, time: at, payload: { inspection: id, inspector: input.inspector } });
    return rowToInspection(row);
  });
}

const rowOrNull = (r: Record<string, any> | undefined) => (r ? rowToInspection(r) : null);

export interface InspectionResultInput {
  inspector: string;
  result: 'pass' | 'fail';
  findings?: Finding[];
  /** References to photos (paths or URLs of stored evidence), never the images. */
  photos?: string[];
  /** Default: released on pass, held on fail. */
  outcome?: 'released' | 'held';
  at?: Date;
}

/** Record the result: the inspection completes, the target is released or held. Closing the linked alert is the caller's next step (see closeAlertForInspection). */
export async function recordInspectionResult(store: Pick<Store, 'transaction'>, id: string, input: InspectionResultInput): Promise<Inspection> {
  if (input.result !== 'pass' && input.result !== 'fail') throw new DispatchError('invalid', `result is pass or fail, not "${String(input.result)}"`);
  const outcome = input.outcome ?? (input.result === 'pass' ? 'released' : 'held');
  if (outcome !== 'released' && outcome !== 'held') throw new DispatchError('invalid', `outcome is released or held, not "${String(outcome)}"`);
  const at = input.at ?? new Date();
  return store.transaction(async (tx) => {
    const i = requireInspector(rowOrNull((await tx.query(`SELECT ${COLUMNS} FROM inspections WHERE id = $1 FOR UPDATE`, [id])).rows[0]), id, input.inspector);
    if (i.state !== 'acknowledged') throw new DispatchError('conflict', `inspection ${id} is ${i.state}: acknowledge it before recording a result`);
    const row = (
      await tx.query(
        `UPDATE inspections SET state = 'completed', result = $2, outcome = $3, findings = $4::jsonb, photos = $5::jsonb, completed_at = $6, updated_at = $6 WHERE id = $1 RETURNING ${COLUMNS}`,
        [id, input.result, outcome, JSON.stringify(input.findings ?? []), JSON.stringify(input.photos ?? []), at],
      )
    ).rows[0]!;
    await appendAuditInTransaction(tx, {
      kind: 'inspection.result',
      actor: input.inspector,
      subject: id,
      time: at,
      payload: { inspection: id, result: input.result, outcome, findings: (input.findings ?? []) as never, photos: input.photos ?? [], target: i.target, alert_id: i.alert_id },
    });
    return rowToInspection(row);
  });
}

/**
 * The acknowledgement deadline of round `round` passed. When the same inspector
 * still has it unacknowledged, it is drawn again without them, or escalated
 * after `max_reassignments`. Anything else (acknowledged, already moved on) is moot.
 */
export async function passDeadline(store: Store, ctx: DispatchContext, id: string, job: { inspector: string; round: number }, at = new Date()): Promise<{ action: 'moot' | 'reassigned' | 'escalated'; assign?: AssignResult }> {
  const passed = await store.transaction(async (tx) => {
    const i = rowOrNull((await tx.query(`SELECT ${COLUMNS} FROM inspections WHERE id = $1 FOR UPDATE`, [id])).rows[0]);
    if (!i || i.state !== 'assigned' || i.inspector !== job.inspector || i.reassignments !== job.round) return null;
    const escalate = i.reassignments >= ctx.settings.max_reassignments;
    const row = (
      await tx.query(
        `UPDATE inspections SET passed_by = array_append(passed_by, $2), reassignments = reassignments + $3, state = $4, inspector = CASE WHEN $4 = 'escalated' THEN NULL ELSE inspector END, updated_at = $5 WHERE id = $1 RETURNING ${COLUMNS}`,
        [id, job.inspector, escalate ? 0 : 1, escalate ? 'escalated' : 'assigned', at],
      )
    ).rows[0]!;
    await appendAuditInTransaction(tx, {
      kind: escalate ? 'inspection.escalated' : 'inspection.deadline_passed',
      actor: ctx.actor,
      subject: id,
      time: at,
      payload: { inspection: id, inspector: job.inspector, round: job.round, reason: escalate ? `not acknowledged after ${i.reassignments + 1} draws` : 'acknowledgement deadline passed' },
    });
    return { escalate, inspection: rowToInspection(row) };
  });
  if (!passed) return { action: 'moot' };
  if (passed.escalate) return { action: 'escalated' };
  return { action: 'reassigned', assign: await assignInspector(store, ctx, id, at) };
}

/** A completed inspection as published: no names, the inspector by id, the draws' public records. */
export interface PublicInspection {
  inspection: string;
  target_kind: string;
  target: string;
  imo: number | null;
  vessel: string | null;
  berth: string | null;
  date: string;
  risk_level: string | null;
  drawn_by: 'target draw' | 'alert';
  inspector: string | null;
  result: string | null;
  outcome: string | null;
  findings: number;
  target_draw: Record<string, unknown> | null;
  inspector_draw: Record<string, unknown> | null;
}

/** Completed inspections between `from` and `to` (completion time), oldest first, with their draws' records. */
export async function publicInspections(q: Queryable, range: { from?: Date; to?: Date } = {}): Promise<PublicInspection[]> {
  const rows = (
    await q.query(
      `SELECT i.id, i.target_kind, i.target, i.imo, i.vessel_name, i.berth, i.completed_at, i.risk_level, i.alert_id, i.inspector, i.result, i.outcome,
              jsonb_array_length(i.findings) AS findings, td.record AS target_draw, idr.record AS inspector_draw
         FROM inspections i LEFT JOIN draws td ON td.id = i.target_draw_id LEFT JOIN draws idr ON idr.id = i.inspector_draw_id
        WHERE i.state = 'completed' AND ($1::timestamptz IS NULL OR i.completed_at >= $1) AND ($2::timestamptz IS NULL OR i.completed_at < $2)
        ORDER BY i.completed_at, i.id`,
      [range.from ?? null, range.to ?? null],
    )
  ).rows;
  return rows.map((r) => ({
    inspection: r.id,
    target_kind: r.target_kind,
    target: r.target,
    imo: r.imo,
    vessel: r.vessel_name,
    berth: r.berth,
    date: new Date(r.completed_at).toISOString(),
    risk_level: r.risk_level,
    drawn_by: r.target_kind === 'alert' ? 'alert' : 'target draw',
    inspector: r.inspector,
    result: r.result,
    outcome: r.outcome,
    findings: Number(r.findings),
    target_draw: r.target_draw ?? null,
    inspector_draw: r.inspector_draw ?? null,
  }));
}
