import type { AggregateSpec, TimeSeriesSpec } from './target.js';

/**
 * The migrations, oldest first. An applied migration is frozen: its checksum is
 * recorded and a later change is refused. To change the schema, append one.
 *
 * A step is plain SQL (the same on every target) or a declarative time-series /
 * aggregate step that the target's capabilities turn into a hypertable or BRIN
 * index, a continuous aggregate or a view. The checksum covers the declaration,
 * not the rendered SQL, so the same migration is the same on every target.
 */
export type MigrationStep = { sql: string } | { timeSeries: TimeSeriesSpec } | { aggregate: AggregateSpec };

export interface Migration {
  version: number;
  name: string;
  steps: MigrationStep[];
}

const tables = `
CREATE TABLE IF NOT EXISTS detections (
  id        uuid        NOT NULL,
  time      timestamptz NOT NULL,
  camera    text        NOT NULL,
  frame_id  bigint,
  class     text        NOT NULL,
  score     real        NOT NULL CHECK (score >= 0 AND score <= 1),
  bbox      real[]      NOT NULL CHECK (cardinality(bbox) = 4),
  track     integer,
  PRIMARY KEY (id, time)
);
CREATE INDEX IF NOT EXISTS detections_camera_time ON detections (camera, time DESC);

CREATE TABLE IF NOT EXISTS events (
  id        uuid        NOT NULL,
  time      timestamptz NOT NULL,
  kind      text        NOT NULL,
  phase     text        NOT NULL CHECK (phase IN ('start', 'update', 'end', 'instant')),
  camera    text,
  zone      text,
  track     integer,
  class     text,
  score     real,
  bbox      real[]      CHECK (bbox IS NULL OR cardinality(bbox) = 4),
  snapshot  text,
  berth     text,
  mmsi      integer,
  details   jsonb       NOT NULL DEFAULT '{}',
  PRIMARY KEY (id, time)
);
CREATE INDEX IF NOT EXISTS events_kind_time ON events (kind, time DESC);
CREATE INDEX IF NOT EXISTS events_camera_time ON events (camera, time DESC) WHERE camera IS NOT NULL;
CREATE INDEX IF NOT EXISTS events_berth_time ON events (berth, time DESC) WHERE berth IS NOT NULL;
CREATE INDEX IF NOT EXISTS events_mmsi_time ON events (mmsi, time DESC) WHERE mmsi IS NOT NULL;

CREATE TABLE IF NOT EXISTS alerts (
  id          uuid        PRIMARY KEY,
  time        timestamptz NOT NULL,
  event_id    uuid,
  kind        text        NOT NULL,
  severity    text        NOT NULL CHECK (severity IN ('info', 'low', 'medium', 'high', 'critical')),
  state       text        NOT NULL DEFAULT 'new' CHECK (state IN ('new', 'acknowledged', 'dispatched', 'resolved', 'dismissed')),
  camera      text,
  zone        text,
  berth       text,
  mmsi        integer,
  title       text,
  details     jsonb       NOT NULL DEFAULT '{}',
  updated_at  timestamptz NOT NULL DEFAULT now(),
  updated_by  text
);
CREATE INDEX IF NOT EXISTS alerts_state_time ON alerts (state, time DESC);
CREATE INDEX IF NOT EXISTS alerts_time ON alerts (time DESC);
CREATE INDEX IF NOT EXISTS alerts_event ON alerts (event_id);

CREATE TABLE IF NOT EXISTS ais_positions (
  id        uuid             NOT NULL,
  time      timestamptz      NOT NULL,
  mmsi      integer          NOT NULL,
  lat       double precision CHECK (lat BETWEEN -90 AND 90),
  lon       double precision CHECK (lon BETWEEN -180 AND 180),
  speed     real,
  course    real,
  heading   smallint,
  status    smallint,
  station   text,
  msg_type  smallint         NOT NULL,
  PRIMARY KEY (id, time)
);
CREATE INDEX IF NOT EXISTS ais_positions_mmsi_time ON ais_positions (mmsi, time DESC);

CREATE TABLE IF NOT EXISTS vessels (
  mmsi         integer     PRIMARY KEY,
  imo          integer,
  name         text,
  callsign     text,
  ship_type    smallint,
  length       real,
  beam         real,
  draught      real,
  destination  text,
  eta          timestamptz,
  flag         text,
  first_seen   timestamptz NOT NULL,
  last_seen    timestamptz NOT NULL,
  details      jsonb       NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS vessels_imo ON vessels (imo) WHERE imo IS NOT NULL;

CREATE TABLE IF NOT EXISTS berth_visits (
  id           uuid        PRIMARY KEY,
  berth        text        NOT NULL,
  mmsi         integer     NOT NULL,
  arrived_at   timestamptz NOT NULL,
  departed_at  timestamptz CHECK (departed_at IS NULL OR departed_at >= arrived_at),
  details      jsonb       NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS berth_visits_berth_arrived ON berth_visits (berth, arrived_at DESC);
CREATE INDEX IF NOT EXISTS berth_visits_mmsi_arrived ON berth_visits (mmsi, arrived_at DESC);
CREATE INDEX IF NOT EXISTS berth_visits_open ON berth_visits (berth) WHERE departed_at IS NULL;

CREATE TABLE IF NOT EXISTS camera_health (
  id       uuid        NOT NULL,
  time     timestamptz NOT NULL,
  camera   text        NOT NULL,
  state    text        NOT NULL,
  reason   text,
  metrics  jsonb       NOT NULL DEFAULT '{}',
  PRIMARY KEY (id, time)
);
CREATE INDEX IF NOT EXISTS camera_health_camera_time ON camera_health (camera, time DESC);

CREATE TABLE IF NOT EXISTS risk_scores (
  id       uuid        NOT NULL,
  time     timestamptz NOT NULL,
  mmsi     integer     NOT NULL,
  imo      integer,
  score    real        NOT NULL,
  level    text        NOT NULL,
  model    text,
  factors  jsonb       NOT NULL DEFAULT '[]',
  PRIMARY KEY (id, time)
);
CREATE INDEX IF NOT EXISTS risk_scores_mmsi_time ON risk_scores (mmsi, time DESC);

CREATE TABLE IF NOT EXISTS inspections (
  id          uuid        PRIMARY KEY,
  created_at  timestamptz NOT NULL DEFAULT now(),
  mmsi        integer,
  imo         integer,
  target      text        NOT NULL,
  inspector   text,
  state       text        NOT NULL DEFAULT 'drawn' CHECK (state IN ('drawn', 'dispatched', 'in_progress', 'completed', 'cancelled')),
  risk_level  text,
  alert_id    uuid,
  result      text,
  updated_at  timestamptz NOT NULL DEFAULT now(),
  details     jsonb       NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS inspections_state_created ON inspections (state, created_at DESC);
CREATE INDEX IF NOT EXISTS inspections_inspector_created ON inspections (inspector, created_at DESC);

CREATE TABLE IF NOT EXISTS audit_log (
  seq        bigserial   PRIMARY KEY,
  time       timestamptz NOT NULL DEFAULT now(),
  kind       text        NOT NULL,
  actor      text        NOT NULL,
  payload    jsonb       NOT NULL DEFAULT '{}',
  prev_hash  text,
  hash       text        NOT NULL UNIQUE
);
`;

/**
 * Per berth and hour, from berth_occupancy_hourly: vessels seen at the berth,
 * vessels moored (at least half their fixes below 0.5 kn), fixes, and
 * approximate vessel-hours. A vessel also at the berth in the hour before
 * (after) counts from the hour's start (to its end), otherwise from its first
 * (to its last) fix in the hour: exact for the inner hours of a stay, short by
 * up to one report interval at its ends. A plain view on every target.
 */
const berthOccupancyTotals = `
CREATE OR REPLACE VIEW berth_occupancy_hourly_totals AS
SELECT bucket, berth,
       count(*) AS vessels,
       count(*) FILTER (WHERE moored_fixes * 2 >= fixes) AS vessels_moored,
       sum(fixes)::bigint AS fixes,
       (sum(extract(epoch FROM stay_end - stay_start)) / 3600.0)::double precision AS vessel_hours
FROM (
  SELECT o.bucket, o.berth, o.fixes, o.moored_fixes,
         CASE WHEN lag(o.bucket) OVER w = o.bucket - interval '1 hour' THEN o.bucket ELSE o.first_seen END AS stay_start,
         CASE WHEN lead(o.bucket) OVER w = o.bucket + interval '1 hour' THEN o.bucket + interval '1 hour' ELSE o.last_seen END AS stay_end
  FROM berth_occupancy_hourly o
  WINDOW w AS (PARTITION BY o.berth, o.mmsi ORDER BY o.bucket)
) stays
GROUP BY bucket, berth
`;

/**
 * Migration 5. audit_log, inspections (unused in v1) are replaced: the chain needs
 * a writer-assigned gapless seq and the dispatch loop more columns than v1 had.
 */
const riskDispatchAuditTables = `
DROP TABLE IF EXISTS audit_log;
CREATE TABLE audit_log (
  seq        bigint      PRIMARY KEY CHECK (seq > 0),
  time       timestamptz NOT NULL,
  kind       text        NOT NULL,
  actor      text        NOT NULL,
  subject    text,
  payload    jsonb       NOT NULL DEFAULT '{}',
  prev_hash  text        NOT NULL UNIQUE,
  hash       text        NOT NULL UNIQUE
);
CREATE INDEX audit_log_subject ON audit_log (subject, seq) WHERE subject IS NOT NULL;
CREATE INDEX audit_log_kind_time ON audit_log (kind, time DESC);

CREATE TABLE IF NOT EXISTS vessel_calls (
  id             uuid        PRIMARY KEY,
  declared_at    timestamptz NOT NULL,
  imo            integer,
  mmsi           integer,
  name           text        NOT NULL,
  eta            timestamptz NOT NULL,
  berth          text,
  company        text,
  agent          text,
  cargo_classes  text[]      NOT NULL DEFAULT '{}',
  crew_count     integer,
  health         jsonb       NOT NULL DEFAULT '{}',
  vessel         jsonb       NOT NULL DEFAULT '{}',
  berth_visit_id uuid,
  CHECK (imo IS NOT NULL OR mmsi IS NOT NULL)
);
CREATE INDEX IF NOT EXISTS vessel_calls_imo ON vessel_calls (imo, eta DESC) WHERE imo IS NOT NULL;
CREATE INDEX IF NOT EXISTS vessel_calls_mmsi ON vessel_calls (mmsi, eta DESC) WHERE mmsi IS NOT NULL;
CREATE INDEX IF NOT EXISTS vessel_calls_company ON vessel_calls (company, eta DESC) WHERE company IS NOT NULL;

CREATE TABLE IF NOT EXISTS draws (
  id                uuid        PRIMARY KEY,
  kind              text        NOT NULL CHECK (kind IN ('target', 'inspector')),
  opened_at         timestamptz NOT NULL,
  closed_at         timestamptz,
  seed_sha256       text        NOT NULL,
  candidates_sha256 text,
  record            jsonb
);
CREATE INDEX IF NOT EXISTS draws_opened ON draws (opened_at DESC);

DROP TABLE IF EXISTS inspections;
CREATE TABLE inspections (
  id                uuid        PRIMARY KEY,
  created_at        timestamptz NOT NULL,
  target_kind       text        NOT NULL CHECK (target_kind IN ('vessel', 'alert')),
  target            text        NOT NULL,
  mmsi              integer,
  imo               integer,
  vessel_name       text,
  company           text,
  berth             text,
  risk_level        text,
  alert_id          uuid,
  severity          text,
  priority          integer     NOT NULL DEFAULT 5,
  skills            text[]      NOT NULL DEFAULT '{}',
  state             text        NOT NULL CHECK (state IN ('drawn', 'assigned', 'acknowledged', 'completed', 'escalated', 'cancelled')),
  inspector         text,
  assigned_at       timestamptz,
  ack_deadline      timestamptz,
  acknowledged_at   timestamptz,
  reassignments     integer     NOT NULL DEFAULT 0,
  passed_by         text[]      NOT NULL DEFAULT '{}',
  target_draw_id    uuid,
  inspector_draw_id uuid,
  result            text        CHECK (result IS NULL OR result IN ('pass', 'fail')),
  outcome           text        CHECK (outcome IS NULL OR outcome IN ('released', 'held')),
  findings          jsonb       NOT NULL DEFAULT '[]',
  photos            jsonb       NOT NULL DEFAULT '[]',
  completed_at      timestamptz,
  updated_at        timestamptz NOT NULL,
  details           jsonb       NOT NULL DEFAULT '{}'
);
CREATE INDEX inspections_state_created ON inspections (state, created_at DESC);
CREATE INDEX inspections_inspector_state ON inspections (inspector, state);
CREATE INDEX inspections_company_created ON inspections (company, created_at DESC) WHERE company IS NOT NULL;
CREATE INDEX inspections_imo_created ON inspections (imo, created_at DESC) WHERE imo IS NOT NULL;
CREATE INDEX inspections_completed ON inspections (completed_at DESC) WHERE completed_at IS NOT NULL;
`;

/**
 * The audit trail is append-only. A trigger refuses UPDATE, DELETE and TRUNCATE on
 * every target (the table owner can still disable it; the hash chain catches that).
 * On a server the role portwatch_app, which the application's login role is made a
 * member of, gets INSERT and SELECT on audit_log and nothing else there.
 * Roles are per cluster: two databases migrating at once may race to create it.
 */
const auditAppendOnly = `
CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END
$fn$;
DROP TRIGGER IF EXISTS audit_log_no_update ON audit_log;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log;
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
DO $do$
BEGIN
  BEGIN
    CREATE ROLE portwatch_app NOLOGIN;
  EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
  END;
END
$do$;
GRANT USAGE ON SCHEMA public TO portwatch_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO portwatch_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO portwatch_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO portwatch_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO portwatch_app;
REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM portwatch_app;
GRANT SELECT, INSERT ON audit_log TO portwatch_app;
`;

/**
 * Migration 7. One audit entry appended by one call: the lock, the head, the
 * hash and the INSERT in a PL/pgSQL function, whose statements are planned once
 * per session (a single INSERT … SELECT with CTEs was planned on every call,
 * which cost the embedded store more than the INSERT itself). Each statement
 * in the function reads a new snapshot, so the head read after the lock sees
 * the previous writer's committed entry. The lock key and the genesis hash come
 * from pipeline/audit, their one home.
 */
const auditAppendFunction = `
CREATE OR REPLACE FUNCTION audit_append(lock_key bigint, genesis text, entry_time timestamptz, entry_kind text, entry_actor text,
                                        entry_subject text, entry_payload jsonb, hash_before text, hash_after text)
RETURNS TABLE (new_seq bigint, new_prev_hash text, new_hash text) LANGUAGE plpgsql AS $fn$
DECLARE
  head_seq bigint;
  head_hash text;
BEGIN
  PERFORM pg_advisory_xact_lock(lock_key);
  SELECT a.seq, a.hash INTO head_seq, head_hash FROM audit_log a ORDER BY a.seq DESC LIMIT 1;
  new_seq := coalesce(head_seq, 0) + 1;
  new_prev_hash := coalesce(head_hash, genesis);
  new_hash := encode(sha256(convert_to(hash_before || new_prev_hash || hash_after, 'UTF8')), 'hex');
  INSERT INTO audit_log (seq, time, kind, actor, subject, payload, prev_hash, hash)
  VALUES (new_seq, entry_time, entry_kind, entry_actor, entry_subject, entry_payload, new_prev_hash, new_hash);
  RETURN NEXT;
END
$fn$;
`;

/**
 * Migration 4. The v1 `alerts` table was never written and its states do not
 * match alarm management (open → acknowledged → resolved | false_alarm, plus
 * dispatched); it is replaced. What the events make of an alert (objects,
 * times, active/cleared, flood) is rewritten by the alerts worker; what people
 * do (state, acknowledgement, shelving) only by the actions, each with a row in
 * alert_history.
 */
const alertTables = `
DROP TABLE IF EXISTS alerts;
CREATE TABLE alerts (
  id               uuid        PRIMARY KEY,
  rule             text        NOT NULL,
  kind             text        NOT NULL,
  kinds            text[]      NOT NULL DEFAULT '{}',
  severity         text        NOT NULL CHECK (severity IN ('info', 'low', 'medium', 'high', 'critical')),
  priority         smallint    NOT NULL CHECK (priority BETWEEN 1 AND 5),
  state            text        NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'acknowledged', 'dispatched', 'resolved', 'false_alarm')),
  active           boolean     NOT NULL,
  camera           text,
  zone             text,
  berth            text,
  mmsi             integer,
  view             text        NOT NULL DEFAULT 'site',
  first_at         timestamptz NOT NULL,
  last_at          timestamptz NOT NULL,
  cleared_at       timestamptz,
  objects          jsonb       NOT NULL DEFAULT '[]',
  procedure        jsonb       NOT NULL DEFAULT '[]',
  routes           text[]      NOT NULL DEFAULT '{}',
  clip             text,
  flood_id         uuid,
  flood_count      integer,
  merged_into      uuid,
  escalations      smallint    NOT NULL DEFAULT 0,
  acknowledged_at  timestamptz,
  acknowledged_by  text,
  dispatched_at    timestamptz,
  closed_at        timestamptz,
  closed_by        text,
  shelved_until    timestamptz,
  shelved_by       text,
  shelved_reason   text,
  created_at       timestamptz NOT NULL,
  updated_at       timestamptz NOT NULL
);
CREATE INDEX alerts_first ON alerts (first_at DESC, id DESC);
CREATE INDEX alerts_state_first ON alerts (state, first_at DESC);
CREATE INDEX alerts_camera_first ON alerts (camera, first_at DESC) WHERE camera IS NOT NULL;
CREATE INDEX alerts_berth_first ON alerts (berth, first_at DESC) WHERE berth IS NOT NULL;
CREATE INDEX alerts_mmsi_first ON alerts (mmsi, first_at DESC) WHERE mmsi IS NOT NULL;
CREATE INDEX alerts_rule_first ON alerts (rule, first_at DESC);

CREATE TABLE IF NOT EXISTS alert_history (
  id          uuid        NOT NULL,
  time        timestamptz NOT NULL,
  alert       uuid        NOT NULL,
  actor       text        NOT NULL,
  action      text        NOT NULL,
  from_state  text,
  to_state    text,
  comment     text,
  details     jsonb       NOT NULL DEFAULT '{}',
  PRIMARY KEY (id, time)
);
CREATE INDEX IF NOT EXISTS alert_history_alert_time ON alert_history (alert, time);

CREATE TABLE IF NOT EXISTS alert_rule_shelves (
  rule        text        NOT NULL,
  camera      text        NOT NULL DEFAULT '',
  until       timestamptz NOT NULL,
  reason      text        NOT NULL,
  shelved_by  text        NOT NULL,
  shelved_at  timestamptz NOT NULL,
  PRIMARY KEY (rule, camera)
);
`;

const everyHalfHour = { startOffset: '3 days', endOffset: '1 hour', every: '30 minutes' };

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'initial schema',
    steps: [
      { sql: tables },
      { timeSeries: { table: 'detections', time: 'time', segmentBy: 'camera', orderBy: 'time DESC' } },
      { timeSeries: { table: 'events', time: 'time', segmentBy: 'kind', orderBy: 'time DESC' } },
      { timeSeries: { table: 'ais_positions', time: 'time', segmentBy: 'mmsi', orderBy: 'time DESC' } },
      { timeSeries: { table: 'camera_health', time: 'time', segmentBy: 'camera', orderBy: 'time DESC' } },
      { timeSeries: { table: 'risk_scores', time: 'time', segmentBy: 'mmsi', orderBy: 'time DESC' } },
      {
        aggregate: {
          name: 'detections_hourly',
          bucket: { width: '1 hour', column: 'time' },
          select:
            'SELECT {{bucket}} AS bucket, camera, class, count(*) AS detections, avg(score) AS mean_score, max(score) AS max_score ' +
            'FROM detections GROUP BY 1, camera, class',
          refresh: everyHalfHour,
        },
      },
      {
        // Berth activity comes from the events hypertable: berth arrivals/departures
        // (AIS) and camera events on berth cameras both carry the berth. berth_visits
        // is a mutable table (a visit gets its departure later), which a continuous
        // aggregate cannot follow.
        aggregate: {
          name: 'berth_activity_hourly',
          bucket: { width: '1 hour', column: 'time' },
          select:
            'SELECT {{bucket}} AS bucket, berth, ' +
            "count(*) FILTER (WHERE kind = 'berth_arrival') AS arrivals, " +
            "count(*) FILTER (WHERE kind = 'berth_departure') AS departures, " +
            'count(*) FILTER (WHERE camera IS NOT NULL) AS camera_events, ' +
            'count(*) AS events, count(DISTINCT mmsi) AS vessels ' +
            'FROM events WHERE berth IS NOT NULL GROUP BY 1, berth',
          refresh: everyHalfHour,
        },
      },
    ],
  },
  {
    version: 2,
    name: 'berth occupancy per hour',
    steps: [
      // The berth a fix lies in, filled by the AIS ingest. Nullable without a default:
      // the one column change TimescaleDB allows on a hypertable with compressed chunks,
      // and old rows need no rewrite (they read as null: at no known berth).
      { sql: 'ALTER TABLE ais_positions ADD COLUMN IF NOT EXISTS berth text' },
      {
        // Occupancy is built on the append-only positions, not on berth_visits: a visit is
        // one mutable row spanning hours, which a continuous aggregate cannot follow. One row
        // per berth, hour and vessel; "moored" uses the occupancy stage's default 0.5 kn.
        aggregate: {
          name: 'berth_occupancy_hourly',
          bucket: { width: '1 hour', column: 'time' },
          select:
            'SELECT {{bucket}} AS bucket, berth, mmsi, count(*) AS fixes, ' +
            'count(*) FILTER (WHERE speed < 0.5) AS moored_fixes, min(time) AS first_seen, max(time) AS last_seen ' +
            'FROM ais_positions WHERE berth IS NOT NULL GROUP BY 1, berth, mmsi',
          refresh: everyHalfHour,
        },
      },
      { sql: berthOccupancyTotals },
    ],
  },
  {
    version: 3,
    name: 'event outbox',
    steps: [
      {
        // The event spine: a row stored in `events` and its outbox entry commit in the
        // same transaction (a trigger, so every writer of events is covered, COPY too);
        // the relay publishes outbox entries to the queue and deletes them after. An
        // event is never published unless stored, and a stored one is published even
        // when the process died or Redis was away in between. A duplicate row refused by
        // ON CONFLICT DO NOTHING inserts nothing, so it fires nothing.
        sql: `
CREATE TABLE IF NOT EXISTS event_outbox (
  seq        bigserial   PRIMARY KEY,
  event      jsonb       NOT NULL,
  stored_at  timestamptz NOT NULL DEFAULT now()
);
CREATE OR REPLACE FUNCTION portwatch_event_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO event_outbox (event) VALUES (to_jsonb(NEW));
  RETURN NULL;
END
$$;
DROP TRIGGER IF EXISTS events_outbox ON events;
CREATE TRIGGER events_outbox AFTER INSERT ON events FOR EACH ROW EXECUTE FUNCTION portwatch_event_outbox();
`,
      },
    ],
  },
  {
    version: 4,
    name: 'alerts, alert history, rule shelves',
    steps: [
      { sql: alertTables },
      { timeSeries: { table: 'alert_history', time: 'time', segmentBy: 'alert', orderBy: 'time DESC' } },
    ],
  },
  {
    version: 5,
    name: 'risk, draws, inspections, audit trail, declarations',
    steps: [
      { sql: riskDispatchAuditTables },
      // Nullable without a default: the column change a hypertable with compressed chunks allows.
      { sql: 'ALTER TABLE risk_scores ADD COLUMN IF NOT EXISTS call_id uuid' },
      { sql: auditAppendOnly },
    ],
  },
  {
    version: 6,
    name: 'API tokens',
    steps: [
      {
        // Only the SHA-256 of a token is kept: a database dump does not hand out access.
        // An enterprise token is bound to its company, an inspector's to the inspector.
        sql: `
CREATE TABLE IF NOT EXISTS api_tokens (
  id            uuid        PRIMARY KEY,
  name          text        NOT NULL,
  role          text        NOT NULL CHECK (role IN ('admin', 'operator', 'analyst', 'inspector', 'enterprise')),
  company       text,
  inspector     text,
  hash          text        NOT NULL UNIQUE,
  created_at    timestamptz NOT NULL DEFAULT now(),
  expires_at    timestamptz,
  revoked_at    timestamptz,
  last_used_at  timestamptz,
  CHECK ((role = 'enterprise') = (company IS NOT NULL)),
  CHECK (role = 'inspector' OR inspector IS NULL)
);
`,
      },
    ],
  },
  {
    version: 7,
    name: 'audit append function',
    steps: [{ sql: auditAppendFunction }],
  },
  {
    version: 8,
    name: 'evidence clips by event',
    steps: [
      {
        // The camera worker writes a clip per zone event without knowing the alerts made of it;
        // an alert finds the clip of its first event that has one.
        sql: `
CREATE TABLE IF NOT EXISTS event_clips (
  event       uuid        PRIMARY KEY,
  camera      text        NOT NULL,
  path        text        NOT NULL,
  from_at     timestamptz NOT NULL,
  to_at       timestamptz NOT NULL,
  duration_s  double precision NOT NULL,
  bytes       bigint      NOT NULL,
  truncated   boolean     NOT NULL DEFAULT false,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS event_clips_from_at ON event_clips (from_at);
`,
      },
    ],
  },
];

/** The hypertables (time-series tables) the migrations create, with their time column. */
export const TIME_SERIES_TABLES = ['detections', 'events', 'ais_positions', 'camera_health', 'risk_scores'] as const;
export const AGGREGATES = ['detections_hourly', 'berth_activity_hourly', 'berth_occupancy_hourly'] as const;
