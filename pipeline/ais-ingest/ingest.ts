import { AisLineDecoder, type AisDecoderOptions, type AisRecord, type DecodeStats, type FeedRecord, type RejectReason } from '../ais/index.js';
import { AisAnomalyDetector, type AisAnomalyOptions } from '../anomalies/index.js';
import { BerthOccupancy, type BerthArea, type BerthOccupancyOptions, type BerthVisit, type VesselPosition } from '../berths/index.js';
import type { EventPublisher, PortEvent } from '../events/index.js';
import { EVENT_FLUSH_INTERVAL_MS } from '../events/event-sink.js';
import type { LineMeta } from '../feeds/index.js';
import type { Logger } from '../log/index.js';
import {
  aisPositionsTable,
  BackpressureError,
  createBatchWriter,
  eventsTable,
  upsertVessels,
  type AisPositionRecord,
  type BatchWriter,
  type BatchWriterStats,
  type Store,
  type VesselRecord,
} from '../store/index.js';
import { readPosition, readStatic, VESSEL_POSITION_TYPES, VESSEL_STATIC_TYPES } from './records.js';

export type { EventPublisher } from '../events/index.js';

export interface AisIngestOptions {
  store: Store;
  logger: Logger;
  berths?: readonly BerthArea[];
  occupancy?: BerthOccupancyOptions;
  anomalies?: AisAnomalyOptions;
  /** Publish every event here too (fire and forget; failures are counted and logged). */
  publisher?: EventPublisher | null;
  /** Called when an event is committed with its outbox entry: the spine's relay publishes it at once (EventSink.publishStored). */
  onEventStored?: () => void;
  /** ais_positions writer batch size (default 5000) and flush delay (default 250 ms). */
  batchSize?: number;
  flushIntervalMs?: number;
  /** Batches written at once on a server (default 2). */
  concurrency?: number;
  /** Vessel and berth-visit upserts are batched and written this often (default 1000 ms). */
  upsertIntervalMs?: number;
  /**
   * Sweep for silent vessels whenever the data clock (the latest receive time
   * seen) has moved this far (default 5000 ms), so a recorded replay finds
   * "dark" vessels on its own timeline. 0 turns it off (sweep() by hand).
   */
  dataSweepMs?: number;
  /** Passed to each feed's decoder (fragment timeouts, sampling). */
  decoder?: Pick<AisDecoderOptions, 'fragmentTimeoutMs' | 'fragmentMaxLines' | 'logEvery' | 'samplesPerReason' | 'clock'>;
}

export interface AisIngestStats {
  lines: number;
  /** AIS messages decoded (all types). */
  messages: number;
  /** Other NMEA sentences (GGA, RMC…): decoded, not stored. */
  nmea: number;
  /** Lines the decoder refused, and why. */
  rejected: number;
  rejects: Record<string, number>;
  /** Position reports of vessels (types 1-3, 18, 19, 27) handed to the positions writer. */
  positions: number;
  /** …of which without a usable position (gpsd 91/181): stored with null lat/lon, not used for berths or anomalies. */
  positions_without_fix: number;
  /** …of which had a lat/lon outside the globe (not the "not available" marker). */
  invalid_positions: number;
  /** Static reports (types 5, 19, 24) folded into vessel upserts. */
  static_reports: number;
  /** AIS messages of other types (base stations, binary, aids to navigation…): counted, not stored. */
  other_messages: number;
  vessels_upserted: number;
  visits_written: number;
  events: Record<string, number>;
  events_total: number;
  published: number;
  publish_failed: number;
  /** Records whose handling threw (a bug or an odd message); the stream went on. */
  record_errors: number;
  /** Positions dropped because the writer was full and the feed cannot wait (UDP). */
  backpressure_drops: number;
  upsert_errors: number;
  /** Fixes older than the vessel's latest (interleaved stations): stored, not used for berths. */
  out_of_order_fixes: number;
  writers: { ais_positions: BatchWriterStats; events: BatchWriterStats };
  /** The latest receive time seen (ISO), the clock replays run on. */
  data_time: string | null;
}

interface FeedState {
  decoder: AisLineDecoder;
  meta: LineMeta;
}

interface PendingVessel {
  first: Date;
  last: Date;
  fields: VesselRecord | null;
}

const VISIT_COLUMNS = ['id', 'berth', 'mmsi', 'arrived_at', 'departed_at', 'details'] as const;

/**
 * AIS lines (or decoded records) in, database rows and port events out:
 * - positions → `ais_positions` through the batched writer (COPY), one
 *   deterministic id per report, so a replayed file never duplicates rows;
 * - static data and last-seen → `vessels`, folded per MMSI and upserted in
 *   batches, never one query per message;
 * - berth occupancy → `berth_visits` (insert on arrival, departed_at on
 *   departure) and berth events; anomalies → events; events → `events` and
 *   optionally the queue.
 * Nothing in a record can stop the stream: every failure is counted.
 */
export class AisIngest {
  readonly positions: BatchWriter<AisPositionRecord>;
  readonly events: BatchWriter<PortEvent>;
  readonly occupancy: BerthOccupancy;
  readonly anomalies: AisAnomalyDetector;
  private readonly logger: Logger;
  private readonly store: Store;
  private readonly feeds = new Map<string, FeedState>();
  private current: LineMeta | null = null;
  private pendingVessels = new Map<number, PendingVessel>();
  private pendingVisits = new Map<string, BerthVisit>();
  private upsertChain: Promise<void> = Promise.resolve();
  private readonly publishing = new Set<Promise<unknown>>();
  private readonly timer: NodeJS.Timeout | null;
  private readonly dataSweepMs: number;
  private lastDataSweep = -Infinity;
  private sinceSweep = 0;
  private dataTime = -Infinity;
  private closed = false;
  private readonly c = {
    lines: 0,
    positions: 0,
    positions_without_fix: 0,
    invalid_positions: 0,
    static_reports: 0,
    other_messages: 0,
    vessels_upserted: 0,
    visits_written: 0,
    events_total: 0,
    published: 0,
    publish_failed: 0,
    record_errors: 0,
    backpressure_drops: 0,
    upsert_errors: 0,
  };
  private readonly eventCounts: Record<string, number> = {};

  constructor(private readonly options: AisIngestOptions) {
    this.store = options.store;
    this.logger = options.logger.child({ stage: 'ais-ingest' });
    this.positions = createBatchWriter(options.store, aisPositionsTable, {
      logger: this.logger,
      batchSize: options.batchSize ?? 5000,
      flushIntervalMs: options.flushIntervalMs ?? 250,
      ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
    });
    this.events = createBatchWriter(options.store, eventsTable, { logger: this.logger, batchSize: 500, flushIntervalMs: EVENT_FLUSH_INTERVAL_MS });
    this.occupancy = new BerthOccupancy(options.berths ?? [], options.occupancy);
    this.anomalies = new AisAnomalyDetector(options.anomalies);
    this.dataSweepMs = options.dataSweepMs ?? 5000;
    const every = options.upsertIntervalMs ?? 1000;
    this.timer = every > 0 ? setInterval(() => void this.flushUpserts(), every) : null;
    this.timer?.unref();
  }

  /**
   * A feed's line handler: pass it to `LineFeed.start`. Returns a promise only
   * when the positions writer is full, which pauses a TCP or file feed until
   * there is room (backpressure).
   */
  handleLine = (line: string, meta: LineMeta): void | Promise<void> => {
    this.c.lines++;
    let feed = this.feeds.get(meta.feed);
    if (!feed) {
      const state: FeedState = {
        meta,
        decoder: new AisLineDecoder({
          ...this.options.decoder,
          source: meta.feed,
          logger: this.logger.child({ feed: meta.feed }),
          onRecord: (rec) => this.onRecord(rec, state.meta),
        }),
      };
      feed = state;
      this.feeds.set(meta.feed, feed);
    }
    feed.meta = meta;
    feed.decoder.push(line, meta.line_number);
    if (this.positions.full) return this.positions.ready();
  };

  /**
   * Pick up the vessels still moored from the store (open `berth_visits`), so a
   * restarted worker neither forgets them (no departure would ever be written)
   * nor records their next still fixes as a second arrival. Call before the
   * feeds start. Returns the number of vessels restored.
   */
  async restoreOpenVisits(): Promise<number> {
    const rows = (
      await this.store.query<{ id: string; berth: string; mmsi: number; arrived_at: Date | string }>(
        // A vessel lies at one berth: its latest open visit (an older one was left open by a lost departure).
        'SELECT DISTINCT ON (mmsi) id, berth, mmsi, arrived_at FROM berth_visits WHERE departed_at IS NULL ORDER BY mmsi, arrived_at DESC',
      )
    ).rows;
    const restored = this.occupancy.restore(rows.map((r) => ({ id: r.id, berth: r.berth, mmsi: r.mmsi, arrived_at: new Date(r.arrived_at), departed_at: null })));
    if (rows.length > 0) this.logger.info({ open: rows.length, restored }, `restored ${restored} vessels moored at berths`);
    return restored;
  }

  /** End of a feed's input (a file at its end): incomplete multi-part messages are counted as orphans. */
  finishFeed(feedId: string): void {
    this.feeds.get(feedId)?.decoder.finish();
  }

  /** A record decoded elsewhere (the decode stream), with where and when it was received. */
  handleRecord(rec: FeedRecord, meta: LineMeta): void {
    this.onRecord(rec, meta);
  }

  private onRecord(rec: FeedRecord, meta: LineMeta): void {
    if (rec.kind !== 'ais') return;
    try {
      this.ingestAis(rec, meta);
    } catch (err) {
      this.c.record_errors++;
      if (this.c.record_errors <= 5 || this.c.record_errors % 1000 === 0) {
        this.logger.error(
          { err, feed: meta.feed, line: rec.line, type: rec.message.type, mmsi: rec.message.mmsi, count: this.c.record_errors },
          `AIS record could not be ingested (feed ${meta.feed}, line ${rec.line}): ${(err as Error).message}`,
        );
      }
    }
  }

  private ingestAis(rec: AisRecord, meta: LineMeta): void {
    const m = rec.message;
    const time = rec.receivedAt !== undefined ? new Date(Math.round(rec.receivedAt * 1000)) : meta.received;
    const t = time.getTime();
    if (Number.isNaN(t)) throw new Error('no usable receive time');
    const station = rec.station ?? meta.station ?? null;
    if (t > this.dataTime) this.dataTime = t;

    if (VESSEL_POSITION_TYPES.has(m.type)) {
      const fix = readPosition(m);
      this.c.positions++;
      if (fix.lat === null) this.c.positions_without_fix++;
      if (fix.invalidPosition) this.c.invalid_positions++;
      const row: AisPositionRecord = {
        id: positionId(fix.mmsi, t, fix.msgType, fix.lat, fix.lon, fix.speed, fix.course, fix.heading, fix.status),
        time,
        mmsi: fix.mmsi,
        lat: fix.lat,
        lon: fix.lon,
        speed: fix.speed,
        course: fix.course,
        heading: fix.heading,
        status: fix.status,
        station,
        msgType: fix.msgType,
        // Looked up once here: the row carries it to berth_occupancy_hourly and the occupancy stage reuses it.
        berth: fix.lat !== null && fix.lon !== null ? (this.occupancy.berthAt(fix.lat, fix.lon)?.id ?? null) : null,
      };
      try {
        this.positions.push(row);
      } catch (err) {
        if (!(err instanceof BackpressureError)) throw err;
        this.c.backpressure_drops++;
      }
      this.seen(fix.mmsi, time, null);
      if (fix.lat !== null && fix.lon !== null) {
        // The row has every field a VesselPosition has (berth included): one object less per report.
        const position = row as VesselPosition;
        const occ = this.occupancy.update(position);
        for (const v of occ.visits) this.visit(v);
        this.emit(occ.events);
        this.emit(this.anomalies.observePosition(position));
      }
      if (m.type === 19) this.staticReport(m, time);
    } else if (VESSEL_STATIC_TYPES.has(m.type)) {
      this.staticReport(m, time);
    } else {
      this.c.other_messages++;
    }

    // A sweep walks every vessel: on a fast replay (hours of data a second) sweep by the
    // data clock but at most once per 256 records, unless the data moved a minute.
    this.sinceSweep++;
    if (this.dataSweepMs > 0 && t - this.lastDataSweep >= this.dataSweepMs && (this.sinceSweep >= 256 || t - this.lastDataSweep >= 60_000)) {
      if (this.lastDataSweep !== -Infinity) this.emit(this.anomalies.sweep(time));
      this.lastDataSweep = t;
      this.sinceSweep = 0;
    }
  }

  private staticReport(m: AisRecord['message'], time: Date): void {
    const { vessel, identity } = readStatic(m, time);
    this.c.static_reports++;
    this.seen(m.mmsi, time, vessel);
    this.emit(this.anomalies.observeIdentity(identity));
  }

  /** Fold a sighting (and static fields) into the pending vessel upsert. */
  private seen(mmsi: number, time: Date, fields: VesselRecord | null): void {
    const p = this.pendingVessels.get(mmsi);
    if (!p) {
      this.pendingVessels.set(mmsi, { first: time, last: time, fields });
      return;
    }
    if (time < p.first) p.first = time;
    if (time > p.last) p.last = time;
    if (fields) p.fields = p.fields ? mergeVessel(p.fields, fields) : fields;
  }

  private visit(v: BerthVisit): void {
    const prev = this.pendingVisits.get(v.id);
    this.pendingVisits.set(v.id, prev && prev.departed_at && !v.departed_at ? prev : v);
  }

  private emit(events: readonly PortEvent[]): void {
    for (const e of events) {
      this.c.events_total++;
      this.eventCounts[e.kind] = (this.eventCounts[e.kind] ?? 0) + 1;
      try {
        const onStored = this.options.onEventStored;
        if (onStored) void this.events.write(e).then((r) => r.ok && onStored());
        else this.events.push(e);
      } catch (err) {
        if (!(err instanceof BackpressureError)) throw err;
        this.c.backpressure_drops++;
      }
      const publisher = this.options.publisher;
      if (publisher) {
        const p = publisher.publish(e).then(
          () => void this.c.published++,
          (err: unknown) => {
            this.c.publish_failed++;
            if (this.c.publish_failed <= 5 || this.c.publish_failed % 100 === 0) {
              this.logger.warn({ err, event: e.id, kind: e.kind, count: this.c.publish_failed }, `event ${e.kind} ${e.id} not queued: ${(err as Error).message}`);
            }
          },
        );
        this.publishing.add(p);
        void p.finally(() => this.publishing.delete(p));
      }
    }
  }

  /**
   * Raise `ais_dark` for vessels silent since before `now - dark_after_seconds`
   * and drop timed-out fragments. A live worker calls this every few seconds
   * with the wall clock; replays are swept on their own data clock.
   */
  sweep(now: Date): PortEvent[] {
    for (const f of this.feeds.values()) f.decoder.sweep();
    const events = this.anomalies.sweep(now);
    this.emit(events);
    return events;
  }

  /** The latest receive time seen, or null before the first record. */
  get clock(): Date | null {
    return Number.isFinite(this.dataTime) ? new Date(this.dataTime) : null;
  }

  /** Write the pending vessel and berth-visit upserts now (they are also written on a timer). */
  flushUpserts(): Promise<void> {
    const vessels = this.pendingVessels;
    const visits = this.pendingVisits;
    if (vessels.size === 0 && visits.size === 0) return this.upsertChain;
    this.pendingVessels = new Map();
    this.pendingVisits = new Map();
    this.upsertChain = this.upsertChain.then(() => this.writeUpserts(vessels, visits));
    return this.upsertChain;
  }

  private async writeUpserts(vessels: Map<number, PendingVessel>, visits: Map<string, BerthVisit>): Promise<void> {
    if (vessels.size > 0) {
      const rows: VesselRecord[] = [];
      for (const [mmsi, p] of vessels) {
        // upsertVessels folds these: first_seen from the earliest, last_seen from the latest.
        rows.push(p.fields ? { ...p.fields, seenAt: p.first } : { mmsi, seenAt: p.first });
        if (p.last > p.first) rows.push({ mmsi, seenAt: p.last });
      }
      try {
        await upsertVessels(this.store, rows);
        this.c.vessels_upserted += vessels.size;
      } catch (err) {
        this.upsertFailed('vessels', vessels.size, err, () => {
          for (const [mmsi, p] of vessels) {
            if (p.fields) this.seen(mmsi, p.first, { ...p.fields, seenAt: p.first });
            this.seen(mmsi, p.first, null);
            this.seen(mmsi, p.last, null);
          }
        });
      }
    }
    if (visits.size > 0) {
      const list = [...visits.values()];
      try {
        await this.upsertVisits(list);
        this.c.visits_written += list.length;
      } catch (err) {
        this.upsertFailed('berth_visits', list.length, err, () => {
          for (const v of list) this.visit(v);
        });
      }
    }
  }

  /** A row's own values at fault (SQLSTATE 22/23): drop and count. Anything else (connection): keep for the next round. */
  private upsertFailed(table: string, rows: number, err: unknown, requeue: () => void): void {
    const code = (err as { code?: string }).code;
    const rowFault = typeof code === 'string' && /^(22|23)/.test(code);
    this.c.upsert_errors++;
    if (!rowFault && !this.closed) requeue();
    this.logger.warn(
      { err, table, rows, code, kept: !rowFault && !this.closed },
      `${table}: upsert of ${rows} rows failed${!rowFault && !this.closed ? ', retrying on the next round' : ''}: ${(err as Error).message}`,
    );
  }

  private async upsertVisits(visits: readonly BerthVisit[]): Promise<void> {
    const params: unknown[] = [];
    const tuples = visits.map((v, i) => {
      params.push(v.id, v.berth, v.mmsi, v.arrived_at, v.departed_at, '{}');
      const b = i * VISIT_COLUMNS.length;
      return `(${VISIT_COLUMNS.map((_, c) => `$${b + c + 1}`).join(',')})`;
    });
    // A departure is the same row as its arrival (same id): it only fills departed_at.
    await this.store.query(
      `INSERT INTO berth_visits (${VISIT_COLUMNS.join(',')}) VALUES ${tuples.join(',')}
       ON CONFLICT (id) DO UPDATE SET departed_at = COALESCE(EXCLUDED.departed_at, berth_visits.departed_at)`,
      params,
    );
  }

  /** Everything accepted so far is committed when this resolves. */
  async flush(): Promise<void> {
    await Promise.all([this.positions.flush(), this.events.flush(), this.flushUpserts()]);
    await Promise.all([...this.publishing]);
  }

  /**
   * Stop: finish every feed's decoder, write everything held and stop the timer.
   * With `timeoutMs`, rows the database will not take by then are given up and counted.
   */
  async close(options: { timeoutMs?: number } = {}): Promise<AisIngestStats> {
    for (const f of this.feeds.values()) f.decoder.finish();
    if (this.timer) clearInterval(this.timer);
    await this.flushUpserts();
    this.closed = true;
    await Promise.all([this.positions.close(options), this.events.close(options)]);
    await Promise.all([...this.publishing]);
    return this.stats();
  }

  stats(): AisIngestStats {
    const decoders = [...this.feeds.values()].map((f) => f.decoder.stats());
    const rejects: Record<string, number> = {};
    let messages = 0;
    let nmea = 0;
    let rejected = 0;
    for (const d of decoders) {
      messages += d.messages;
      nmea += d.nmea;
      rejected += d.rejected;
      for (const [k, v] of Object.entries(d.rejects) as Array<[RejectReason, number]>) if (v > 0) rejects[k] = (rejects[k] ?? 0) + v;
    }
    return {
      ...this.c,
      messages,
      nmea,
      rejected,
      rejects,
      events: { ...this.eventCounts },
      out_of_order_fixes: this.occupancy.outOfOrderFixes,
      writers: { ais_positions: this.positions.stats, events: this.events.stats },
      data_time: Number.isFinite(this.dataTime) ? new Date(this.dataTime).toISOString() : null,
    };
  }

  /** Reject samples (file, line, reason) of every feed's decoder, for reports. */
  rejectSamples(): Array<DecodeStats['samples'][number] & { feed: string }> {
    return [...this.feeds.entries()].flatMap(([feed, f]) => f.decoder.stats().samples.map((s) => ({ ...s, feed })));
  }
}

/** Later non-null values win; nulls never erase (as upsertVessels does). */
function mergeVessel(a: VesselRecord, b: VesselRecord): VesselRecord {
  const out: VesselRecord = { ...a };
  for (const [k, v] of Object.entries(b)) if (v !== null && v !== undefined) (out as unknown as Record<string, unknown>)[k] = v;
  return out;
}

/**
 * The row id of a position report: the same report (vessel, receive time,
 * content) has the same id however often it is ingested or from however many
 * stations, so a replay or an overlapping receiver never duplicates a row.
 * A 128-bit non-cryptographic hash (cyrb128: four 32-bit lanes) because it is
 * an id, not a secret, and at 50k+ reports/s a crypto hash per row was the
 * largest single cost of the ingest. Events keep `eventId` (SHA-256): there are few.
 */
export function positionId(
  mmsi: number,
  timeMs: number,
  type: number,
  lat: number | null,
  lon: number | null,
  speed: number | null,
  course: number | null,
  heading: number | null,
  status: number | null,
): string {
  // Integers only (the fields' own resolution: 1/600000 degree, 0.1 kn, 0.1 degree):
  // formatting doubles as text for a string hash cost more than the rest of the row.
  const na = -1;
  return uuidOfInts(
    mmsi,
    Math.floor(timeMs / 4294967296),
    timeMs >>> 0,
    type,
    lat === null ? 0x7fffffff : Math.round(lat * 600_000),
    lon === null ? 0x7fffffff : Math.round(lon * 600_000),
    speed === null ? na : Math.round(speed * 10),
    course === null ? na : Math.round(course * 10),
    heading === null ? na : heading,
    status === null ? na : status,
  );
}

const hex8 = (n: number) => (n >>> 0).toString(16).padStart(8, '0');

function uuidOfInts(...values: number[]): string {
  let h1 = 1779033703;
  let h2 = 3144134277;
  let h3 = 1013904242;
  let h4 = 2773480762;
  for (let i = 0; i < values.length; i++) {
    const k = values[i]! | 0;
    h1 = h2 ^ Math.imul(h1 ^ k, 597399067);
    h2 = h3 ^ Math.imul(h2 ^ k, 2869860233);
    h3 = h4 ^ Math.imul(h3 ^ k, 951274213);
    h4 = h1 ^ Math.imul(h4 ^ k, 2716044179);
  }
  h1 = Math.imul(h3 ^ (h1 >>> 18), 597399067);
  h2 = Math.imul(h4 ^ (h2 >>> 22), 2869860233);
  h3 = Math.imul(h1 ^ (h3 >>> 17), 951274213);
  h4 = Math.imul(h2 ^ (h4 >>> 19), 2716044179);
  h1 ^= h2 ^ h3 ^ h4;
  h2 ^= h1;
  h3 ^= h1;
  h4 ^= h1;
  const a = hex8(h1);
  const b = hex8(h2);
  const c = hex8(h3);
  return `${a}-${b.slice(0, 4)}-${b.slice(4)}-${c.slice(0, 4)}-${c.slice(4)}${hex8(h4)}`;
}
