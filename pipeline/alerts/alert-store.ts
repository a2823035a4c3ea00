import { appendAuditInTransaction } from '../audit/index.js';
import { eventId } from '../events/index.js';
import type { Queryable, Row, Store } from '../store/index.js';
import { alertObjectsJson } from './alert-object-json.js';
import { isClosedState, nextAlertState, type AlertAction } from './states.js';
import { ALERT_STATES, type AlertChange, type AlertObject, type AlertState, type DerivedAlert } from './types.js';
import type { Severity } from '../config/schema.js';

/**
 * The alerts in the store. Functions take the store (or a transaction) as
 * their first argument; every state change writes its alert_history row in the
 * same transaction and returns both, so the caller can announce it (board,
 * MQTT, audit). Callers: the alerts worker, the CLI, the API, dispatch.
 */

/** An alert as stored: what the events made of it plus what people did to it. */
export interface StoredAlert extends DerivedAlert {
  state: AlertState;
  escalations: number;
  acknowledged_at: Date | null;
  acknowledged_by: string | null;
  dispatched_at: Date | null;
  closed_at: Date | null;
  closed_by: string | null;
  shelved_until: Date | null;
  shelved_by: string | null;
  shelved_reason: string | null;
  /** shelved_until is in the future (as of the read). */
  shelved: boolean;
  /** Path of the evidence clip under the data folder, when there is one. */
  clip: string | null;
  created_at: Date;
  updated_at: Date;
}

export interface AlertHistoryEntry {
  id: string;
  time: Date;
  alert: string;
  actor: string;
  /** opened, acknowledged, dispatched, resolved, false_alarm, shelved, unshelved, escalated, clip. */
  action: string;
  from_state: AlertState | null;
  to_state: AlertState | null;
  comment: string | null;
  details: Record<string, unknown>;
}

export interface AlertDetail extends StoredAlert {
  history: AlertHistoryEntry[];
}

/** A state change done: the alert after it and its history row. */
export interface AlertUpdate {
  alert: StoredAlert;
  history: AlertHistoryEntry;
}

export class AlertNotFoundError extends Error {
  constructor(readonly id: string) {
    super(`no alert ${id}`);
    this.name = 'AlertNotFoundError';
  }
}

export class ShelveError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ShelveError';
  }
}

export interface AlertFilter {
  state?: AlertState | AlertState[];
  severity?: Severity | Severity[];
  /** Event kind (any of the alert's kinds), or `alert_flood`. */
  kind?: string;
  rule?: string;
  camera?: string;
  zone?: string;
  berth?: string;
  mmsi?: number;
  view?: string;
  active?: boolean;
  /** Alerts whose incident started at or after. */
  since?: Date;
  /** … and before. */
  until?: Date;
  /** Members of a flood are hidden unless asked for (their flood alert stands for them). */
  includeFlooded?: boolean;
  /** Page size, 1 to 500; default 50. */
  limit?: number;
  /** `next` of the previous page. */
  cursor?: string | null;
}

export interface AlertPage {
  alerts: StoredAlert[];
  /** Pass as `cursor` for the next page; null on the last. */
  next: string | null;
}

const SEVERITY_SET = new Set(['info', 'low', 'medium', 'high', 'critical']);
const ISO = (d: unknown) => (d instanceof Date ? d : d === null || d === undefined ? null : new Date(String(d)));

/** What people did to an alert (and what the store set), from its row. */
function peopleColumns(r: Row, now: number) {
  const shelvedUntil = ISO(r.shelved_until);
  return {
    priority: Number(r.priority),
    state: r.state as AlertState,
    escalations: Number(r.escalations),
    acknowledged_at: ISO(r.acknowledged_at),
    acknowledged_by: (r.acknowledged_by as string | null) ?? null,
    dispatched_at: ISO(r.dispatched_at),
    closed_at: ISO(r.closed_at),
    closed_by: (r.closed_by as string | null) ?? null,
    shelved_until: shelvedUntil,
    shelved_by: (r.shelved_by as string | null) ?? null,
    shelved_reason: (r.shelved_reason as string | null) ?? null,
    shelved: shelvedUntil !== null && shelvedUntil.getTime() > now,
    clip: (r.clip as string | null) ?? null,
    created_at: ISO(r.created_at)!,
    updated_at: ISO(r.updated_at)!,
  };
}

function rowToAlert(r: Row, now = Date.now()): StoredAlert {
  const json = (v: unknown) => (typeof v === 'string' ? JSON.parse(v) : v);
  return {
    id: r.id,
    rule: r.rule,
    kind: r.kind,
    kinds: r.kinds ?? [],
    severity: r.severity,
    camera: r.camera ?? null,
    zone: r.zone ?? null,
    berth: r.berth ?? null,
    mmsi: r.mmsi ?? null,
    view: r.view,
    objects: (json(r.objects) as Array<AlertObject & { first: string; last: string }>).map((o) => ({ ...o, first: new Date(o.first), last: new Date(o.last) })),
    first: ISO(r.first_at)!,
    last: ISO(r.last_at)!,
    active: r.active,
    cleared_at: ISO(r.cleared_at),
    procedure: json(r.procedure) ?? [],
    routes: r.routes ?? [],
    flood: r.flood_id ?? null,
    flood_count: r.flood_count ?? null,
    merged_into: r.merged_into ?? null,
    ...peopleColumns(r, now),
  };
}

function rowToHistory(r: Row): AlertHistoryEntry {
  return {
    id: r.id,
    time: ISO(r.time)!,
    alert: r.alert,
    actor: r.actor,
    action: r.action,
    from_state: r.from_state ?? null,
    to_state: r.to_state ?? null,
    comment: r.comment ?? null,
    details: (typeof r.details === 'string' ? JSON.parse(r.details) : r.details) ?? {},
  };
}

const DERIVED_COLUMNS = [
  'id', 'rule', 'kind', 'kinds', 'severity', 'priority', 'active', 'camera', 'zone', 'berth', 'mmsi', 'view',
  'first_at', 'last_at', 'cleared_at', 'objects', 'procedure', 'routes', 'flood_id', 'flood_count', 'merged_into', 'created_at', 'updated_at',
] as const;

/** What the events decided, as the columns of one alerts row in JSON (the objects' JSON is each built once). */
function derivedRowJson(a: DerivedAlert, now: Date): string {
  const row: Record<Exclude<(typeof DERIVED_COLUMNS)[number], 'objects'>, unknown> = {
    id: a.id, rule: a.rule, kind: a.kind, kinds: a.kinds, severity: a.severity, priority: a.priority, active: a.active,
    camera: a.camera, zone: a.zone, berth: a.berth, mmsi: a.mmsi, view: a.view, first_at: a.first, last_at: a.last,
    cleared_at: a.cleared_at, procedure: a.procedure, routes: a.routes, flood_id: a.flood,
    flood_count: a.flood_count, merged_into: a.merged_into, created_at: now, updated_at: now,
  };
  return `${JSON.stringify(row).slice(0, -1)},"objects":${alertObjectsJson(a.objects)}}`;
}

/** The columns people change (and the store sets); the rest of a stored alert is what the events derived. */
const PEOPLE_COLUMNS = [
  'id', 'priority', 'state', 'escalations', 'acknowledged_at', 'acknowledged_by', 'dispatched_at', 'closed_at', 'closed_by',
  'shelved_until', 'shelved_by', 'shelved_reason', 'clip', 'created_at', 'updated_at',
] as const;

/**
 * One statement for the whole batch, whatever its size: the rows travel as
 * one JSON parameter (parsed by the server, not bound value by value), so the
 * text is the same every time and is planned once per connection. Only the
 * columns people change come back: the derived ones are what was sent.
 */
const UPSERT_SQL =
  `INSERT INTO alerts (${DERIVED_COLUMNS.join(',')}) ` +
  `SELECT ${DERIVED_COLUMNS.join(',')} FROM json_populate_recordset(NULL::alerts, $1::json) ` +
  `ON CONFLICT (id) DO UPDATE SET ${DERIVED_COLUMNS.filter((c) => c !== 'id' && c !== 'created_at' && c !== 'priority')
    .map((c) => `${c} = EXCLUDED.${c}`)
    .join(', ')}, ` +
  // Escalation lowers the priority number: a rewrite from events keeps it.
  `priority = GREATEST(1, EXCLUDED.priority - alerts.escalations) ` +
  `RETURNING ${PEOPLE_COLUMNS.join(',')}, (xmax = 0) AS inserted`;

/** The stored alert from what was derived and the people's columns the upsert returned. */
function storedFrom(a: DerivedAlert, r: Row, now: number): StoredAlert {
  return { ...a, ...peopleColumns(r, now) };
}

/** What a rewrite from events could change, as one comparable string (derived alert or stored row). */
function derivedSignature(x: { last: number; active: boolean; cleared: number | null; flood: string | null; floodCount: number | null; merged: string | null; objects: ReadonlyArray<{ event: string; last: number; active: boolean }> }): string {
  return [x.last, x.active, x.cleared, x.flood, x.floodCount, x.merged, ...x.objects.map((o) => `${o.event}/${o.last}/${o.active}`)].join('|');
}

/**
 * Of these alerts (as the engine derives them), those the store does not hold
 * as derived: missing, or with other times, objects, flood or merge. A worker
 * rebuilt from the events table writes only these, so a restart announces
 * what a crash left unwritten and nothing else.
 */
export async function alertsNotStored(q: Queryable, alerts: readonly DerivedAlert[]): Promise<DerivedAlert[]> {
  if (alerts.length === 0) return [];
  const r = await q.query('SELECT id::text AS id, last_at, active, cleared_at, flood_id::text AS flood_id, flood_count, merged_into::text AS merged_into, objects FROM alerts WHERE id = ANY($1::uuid[])', [alerts.map((a) => a.id)]);
  const stored = new Map<string, string>();
  for (const row of r.rows) {
    const objects = (typeof row.objects === 'string' ? JSON.parse(row.objects) : row.objects) as Array<{ event: string; last: string; active: boolean }>;
    stored.set(
      row.id,
      derivedSignature({
        last: ISO(row.last_at)!.getTime(),
        active: row.active,
        cleared: ISO(row.cleared_at)?.getTime() ?? null,
        flood: row.flood_id ?? null,
        floodCount: row.flood_count ?? null,
        merged: row.merged_into ?? null,
        objects: objects.map((o) => ({ event: o.event, last: Date.parse(o.last), active: o.active })),
      }),
    );
  }
  return alerts.filter(
    (a) =>
      stored.get(a.id) !==
      derivedSignature({
        last: a.last.getTime(),
        active: a.active,
        cleared: a.cleared_at?.getTime() ?? null,
        flood: a.flood,
        floodCount: a.flood_count,
        merged: a.merged_into,
        objects: a.objects.map((o) => ({ event: o.event, last: o.last.getTime(), active: o.active })),
      }),
  );
}

export interface AppliedChange {
  alert: StoredAlert;
  /** The row did not exist before: the alert was opened now. */
  opened: boolean;
}

/**
 * Writes what the engine derived (many changes, one transaction). New alerts
 * get an `opened` history row; state and people's columns are never touched,
 * so a re-delivered event cannot undo an acknowledgement.
 */
export async function applyAlertChanges(store: Pick<Store, 'transaction'>, changes: readonly AlertChange[], at = new Date()): Promise<AppliedChange[]> {
  if (changes.length === 0) return [];
  // One row per id (the last change wins): ON CONFLICT cannot touch a row twice in one statement.
  const latest = new Map<string, AlertChange>();
  for (const c of changes) latest.set(c.alert.id, c);
  const list = [...latest.values()];
  return store.transaction(async (tx) => {
    const out: AppliedChange[] = [];
    const r = await tx.query(UPSERT_SQL, [`[${list.map((c) => derivedRowJson(c.alert, at)).join(',')}]`]);
    const derived = new Map(list.map((c) => [c.alert.id, c.alert]));
    for (const row of r.rows) out.push({ alert: storedFrom(derived.get(row.id)!, row, at.getTime()), opened: row.inserted === true });
    const opened = out.filter((o) => o.opened);
    if (opened.length > 0) {
      await insertHistory(
        tx,
        opened.map((o) => ({
          id: eventId('alert-history', o.alert.id, 'opened'),
          time: o.alert.first,
          alert: o.alert.id,
          actor: 'system',
          action: 'opened',
          from_state: null,
          to_state: 'open',
          comment: null,
          details: { rule: o.alert.rule, severity: o.alert.severity, ...(o.alert.flood_count !== null ? { flood_count: o.alert.flood_count } : {}) },
        })),
      );
    }
    return out;
  });
}

async function insertHistory(q: Queryable, entries: readonly AlertHistoryEntry[]): Promise<void> {
  if (entries.length === 0) return;
  const cols = ['id', 'time', 'alert', 'actor', 'action', 'from_state', 'to_state', 'comment', 'details'];
  const tuples: string[] = [];
  const params: unknown[] = [];
  for (const e of entries) {
    tuples.push(`(${cols.map((_, c) => `$${params.length + c + 1}`).join(',')})`);
    params.push(e.id, e.time, e.alert, e.actor, e.action, e.from_state, e.to_state, e.comment, JSON.stringify(e.details));
  }
  await q.query(`INSERT INTO alert_history (${cols.join(',')}) VALUES ${tuples.join(',')} ON CONFLICT DO NOTHING`, params);
}

function encodeCursor(a: StoredAlert): string {
  return Buffer.from(`${a.first.toISOString()}|${a.id}`).toString('base64url');
}

function decodeCursor(c: string): [Date, string] {
  const [t, id] = Buffer.from(c, 'base64url').toString().split('|');
  const d = new Date(t ?? '');
  if (!id || Number.isNaN(d.getTime())) throw new Error('cursor: not one this list returned');
  return [d, id];
}

/** Alerts newest first (by incident start), filtered and paged. */
export async function listAlerts(q: Queryable, filter: AlertFilter = {}): Promise<AlertPage> {
  const where: string[] = ['merged_into IS NULL'];
  const params: unknown[] = [];
  const p = (v: unknown) => {
    params.push(v);
    return `$${params.length}`;
  };
  const many = <T>(v: T | T[] | undefined) => (v === undefined ? undefined : Array.isArray(v) ? v : [v]);
  const states = many(filter.state);
  if (states) {
    for (const s of states) if (!(ALERT_STATES as readonly string[]).includes(s)) throw new Error(`state: "${s}" is not one of ${ALERT_STATES.join(', ')}`);
    where.push(`state = ANY(${p(states)}::text[])`);
  }
  const severities = many(filter.severity);
  if (severities) {
    for (const s of severities) if (!SEVERITY_SET.has(s)) throw new Error(`severity: "${s}" is not one of info, low, medium, high, critical`);
    where.push(`severity = ANY(${p(severities)}::text[])`);
  }
  if (filter.kind !== undefined) where.push(`(kind = ${p(filter.kind)} OR ${p(filter.kind)} = ANY(kinds))`);
  if (filter.rule !== undefined) where.push(`rule = ${p(filter.rule)}`);
  if (filter.camera !== undefined) where.push(`camera = ${p(filter.camera)}`);
  if (filter.zone !== undefined) where.push(`zone = ${p(filter.zone)}`);
  if (filter.berth !== undefined) where.push(`berth = ${p(filter.berth)}`);
  if (filter.mmsi !== undefined) where.push(`mmsi = ${p(filter.mmsi)}`);
  if (filter.view !== undefined) where.push(`view = ${p(filter.view)}`);
  if (filter.active !== undefined) where.push(`active = ${p(filter.active)}`);
  if (filter.since) where.push(`first_at >= ${p(filter.since)}`);
  if (filter.until) where.push(`first_at < ${p(filter.until)}`);
  if (!filter.includeFlooded) where.push('flood_id IS NULL');
  if (filter.cursor) {
    const [t, id] = decodeCursor(filter.cursor);
    where.push(`(first_at, id) < (${p(t)}, ${p(id)}::uuid)`);
  }
  const limit = Math.max(1, Math.min(500, Math.trunc(filter.limit ?? 50)));
  const r = await q.query(`SELECT * FROM alerts WHERE ${where.join(' AND ')} ORDER BY first_at DESC, id DESC LIMIT ${limit + 1}`, params);
  const now = Date.now();
  const alerts = r.rows.slice(0, limit).map((row) => rowToAlert(row, now));
  return { alerts, next: r.rows.length > limit ? encodeCursor(alerts.at(-1)!) : null };
}

/** One alert with its objects, snapshots, clip, procedure and history (oldest first); null when there is none. */
export async function getAlert(q: Queryable, id: string): Promise<AlertDetail | null> {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) return null;
  const r = await q.query('SELECT * FROM alerts WHERE id = $1', [id]);
  if (r.rows.length === 0) return null;
  const h = await q.query('SELECT * FROM alert_history WHERE alert = $1 ORDER BY time, action', [id]);
  const alert = rowToAlert(r.rows[0]!);
  return { ...alert, clip: alert.clip ?? (await eventClip(q, alert.objects)), history: h.rows.map(rowToHistory) };
}

/** The clip the camera worker wrote for the alert's first object (event) that has one (table event_clips). */
async function eventClip(q: Queryable, objects: readonly AlertObject[]): Promise<string | null> {
  const events = objects.map((o) => o.event).filter((e) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(e));
  if (events.length === 0) return null;
  const r = await q.query<{ event: string; path: string }>('SELECT event::text AS event, path FROM event_clips WHERE event = ANY($1::uuid[])', [events]);
  const byEvent = new Map(r.rows.map((row) => [row.event, row.path]));
  for (const e of events) {
    const path = byEvent.get(e.toLowerCase());
    if (path) return path;
  }
  return null;
}

interface ActorInput {
  by: string;
  comment?: string | null;
  /** Default now. */
  at?: Date;
}

async function change(
  store: Pick<Store, 'transaction'>,
  id: string,
  input: ActorInput,
  apply: (a: StoredAlert, at: Date) => { set: Record<string, unknown>; action: string; to: AlertState | null; details?: Record<string, unknown> } | null,
): Promise<AlertUpdate> {
  const by = input.by?.trim();
  if (!by) throw new Error('by: say who does this (an operator name or id)');
  const at = input.at ?? new Date();
  return store.transaction(async (tx) => {
    const r = await tx.query('SELECT * FROM alerts WHERE id = $1 FOR UPDATE', [id]);
    if (r.rows.length === 0) throw new AlertNotFoundError(id);
    const before = rowToAlert(r.rows[0]!, at.getTime());
    const plan = apply(before, at);
    if (!plan) throw new Error('nothing to change');
    const set: Record<string, unknown> = { ...plan.set, updated_at: at };
    const keys = Object.keys(set);
    const u = await tx.query(`UPDATE alerts SET ${keys.map((k, i) => `${k} = $${i + 2}`).join(', ')} WHERE id = $1 RETURNING *`, [id, ...keys.map((k) => set[k])]);
    const history: AlertHistoryEntry = {
      id: eventId('alert-history', id, plan.action, at.toISOString(), by),
      time: at,
      alert: id,
      actor: by,
      action: plan.action,
      from_state: before.state,
      to_state: plan.to,
      comment: input.comment?.trim() || null,
      details: plan.details ?? {},
    };
    await insertHistory(tx, [history]);
    // The audit trail holds every state change and shelving, chained with the rest of the port's record.
    await appendAuditInTransaction(tx, {
      kind: `alert.${plan.action}`,
      actor: by,
      subject: id,
      time: at,
      payload: { from: before.state, to: plan.to, ...(history.comment ? { comment: history.comment } : {}), ...history.details },
    });
    return { alert: rowToAlert(u.rows[0]!, at.getTime()), history };
  });
}

function transition(a: StoredAlert, action: AlertAction): AlertState {
  return nextAlertState(a.state, action);
}

export function acknowledgeAlert(store: Pick<Store, 'transaction'>, id: string, input: ActorInput): Promise<AlertUpdate> {
  return change(store, id, input, (a, at) => {
    const to = transition(a, 'acknowledge');
    return { set: { state: to, acknowledged_at: a.acknowledged_at ?? at, acknowledged_by: a.acknowledged_by ?? input.by }, action: 'acknowledged', to };
  });
}

/** Resolves, or closes as a false alarm. */
export function resolveAlert(store: Pick<Store, 'transaction'>, id: string, input: ActorInput & { falseAlarm?: boolean }): Promise<AlertUpdate> {
  return change(store, id, input, (a, at) => {
    const to = transition(a, input.falseAlarm ? 'false_alarm' : 'resolve');
    // Closing an alert acknowledges it too.
    return {
      set: { state: to, closed_at: at, closed_by: input.by, acknowledged_at: a.acknowledged_at ?? at, acknowledged_by: a.acknowledged_by ?? input.by },
      action: to,
      to,
    };
  });
}

/** The dispatch route drew an inspection for the alert (called by dispatch). */
export function markAlertDispatched(store: Pick<Store, 'transaction'>, id: string, input: ActorInput & { inspection?: string }): Promise<AlertUpdate> {
  return change(store, id, input, (a, at) => {
    const to = transition(a, 'dispatch');
    return { set: { state: to, dispatched_at: at }, action: 'dispatched', to, details: input.inspection ? { inspection: input.inspection } : {} };
  });
}

export interface ShelveInput extends ActorInput {
  reason: string;
  /** How long; refused above `maxMs`. */
  forMs: number;
  maxMs: number;
}

function checkShelve(input: ShelveInput): void {
  if (!input.reason?.trim()) throw new ShelveError('reason: say why the alert is shelved');
  if (!(input.forMs > 0)) throw new ShelveError('for: must be above zero');
  if (input.forMs > input.maxMs) throw new ShelveError(`for: at most ${Math.round(input.maxMs / 60_000)} minutes (alerts.max_shelve_minutes)`);
}

/** Silences an alert until `at + forMs`; it unshelves itself then (`unshelveAlert` from the timer records it). */
export async function shelveAlert(store: Pick<Store, 'transaction'>, id: string, input: ShelveInput): Promise<AlertUpdate> {
  checkShelve(input);
  return change(store, id, input, (a, at) => {
    if (isClosedState(a.state)) throw new ShelveError(`the alert is ${a.state}: nothing to shelve`);
    const until = new Date(at.getTime() + input.forMs);
    return {
      set: { shelved_until: until, shelved_by: input.by, shelved_reason: input.reason.trim() },
      action: 'shelved',
      to: null,
      details: { until: until.toISOString(), reason: input.reason.trim() },
    };
  });
}

/**
 * Ends a shelving. With `onlyIfDue` (the expiry timer) it does nothing unless
 * the shelving has run out: a re-shelved alert keeps its new time. Null when nothing changed.
 */
export async function unshelveAlert(store: Pick<Store, 'transaction'>, id: string, input: ActorInput & { onlyIfDue?: boolean }): Promise<AlertUpdate | null> {
  try {
    return await change(store, id, input, (a, at) => {
      if (!a.shelved_until) return null;
      if (input.onlyIfDue && a.shelved_until.getTime() > at.getTime()) return null;
      return { set: { shelved_until: null }, action: 'unshelved', to: null, details: { was_until: a.shelved_until.toISOString() } };
    });
  } catch (err) {
    if ((err as Error).message === 'nothing to change') return null;
    throw err;
  }
}

/**
 * Escalates an alert still unacknowledged: priority up one step (1 is the
 * top), escalations + 1. Null when it was acknowledged, closed or shelved meanwhile.
 */
export async function escalateAlert(store: Pick<Store, 'transaction'>, id: string, input: { at?: Date; step: number }): Promise<AlertUpdate | null> {
  try {
    return await change(store, id, { by: 'system', ...(input.at ? { at: input.at } : {}) }, (a) => {
      if (a.state !== 'open' || a.acknowledged_at || a.merged_into || a.escalations >= input.step || a.shelved) return null;
      const priority = Math.max(1, a.priority - 1);
      return { set: { escalations: input.step, priority }, action: 'escalated', to: null, details: { priority, step: input.step } };
    });
  } catch (err) {
    if ((err as Error).message === 'nothing to change') return null;
    throw err;
  }
}

/** Records the evidence clip's path on the alert. */
export async function setAlertClip(q: Queryable, id: string, clip: string): Promise<void> {
  await q.query('UPDATE alerts SET clip = $2 WHERE id = $1', [id, clip]);
}

export interface RuleShelf {
  rule: string;
  /** '' for every camera. */
  camera: string;
  until: Date;
  reason: string;
  shelved_by: string;
  shelved_at: Date;
}

/** Shelves a whole rule (optionally on one camera): its new alerts are stored but not announced until then. */
export async function shelveRule(q: Queryable, rule: string, input: ShelveInput & { camera?: string }): Promise<RuleShelf> {
  checkShelve(input);
  const at = input.at ?? new Date();
  const until = new Date(at.getTime() + input.forMs);
  const r = await q.query(
    `INSERT INTO alert_rule_shelves (rule, camera, until, reason, shelved_by, shelved_at) VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (rule, camera) DO UPDATE SET until = EXCLUDED.until, reason = EXCLUDED.reason, shelved_by = EXCLUDED.shelved_by, shelved_at = EXCLUDED.shelved_at
     RETURNING *`,
    [rule, input.camera ?? '', until, input.reason.trim(), input.by, at],
  );
  const row = r.rows[0]!;
  return { rule: row.rule, camera: row.camera, until: ISO(row.until)!, reason: row.reason, shelved_by: row.shelved_by, shelved_at: ISO(row.shelved_at)! };
}

/** Rule shelves still running at `at`; expired ones are deleted on the way. */
export async function activeRuleShelves(q: Queryable, at = new Date()): Promise<RuleShelf[]> {
  await q.query('DELETE FROM alert_rule_shelves WHERE until <= $1', [at]);
  const r = await q.query('SELECT * FROM alert_rule_shelves ORDER BY rule, camera');
  return r.rows.map((row) => ({ rule: row.rule, camera: row.camera, until: ISO(row.until)!, reason: row.reason, shelved_by: row.shelved_by, shelved_at: ISO(row.shelved_at)! }));
}

export async function unshelveRule(q: Queryable, rule: string, camera = ''): Promise<boolean> {
  const r = await q.query('DELETE FROM alert_rule_shelves WHERE rule = $1 AND camera = $2', [rule, camera]);
  return r.rowCount > 0;
}

/** Alerts still open and unacknowledged (for escalation timers after a restart). */
export async function unacknowledgedAlerts(q: Queryable, limit = 10_000): Promise<StoredAlert[]> {
  const r = await q.query(`SELECT * FROM alerts WHERE state = 'open' AND acknowledged_at IS NULL AND merged_into IS NULL AND flood_id IS NULL ORDER BY first_at LIMIT $1`, [limit]);
  return r.rows.map((row) => rowToAlert(row));
}

/** Alerts with a shelving set (for expiry timers after a restart). */
export async function shelvedAlerts(q: Queryable): Promise<StoredAlert[]> {
  const r = await q.query('SELECT * FROM alerts WHERE shelved_until IS NOT NULL ORDER BY shelved_until');
  return r.rows.map((row) => rowToAlert(row));
}
