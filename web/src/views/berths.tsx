import { useEffect, useState } from 'preact/hooks';
import { download, get } from '../api.js';
import { useI18n } from '../i18n.js';
import { berthTick, siteStore } from '../live.js';
import { useStore } from '../store.js';
import { TimePlot } from '../time-plot.js';

/** One bucket of GET /api/berths/:id/activity. */
export interface BerthBucket {
  bucket: string;
  vessels?: number;
  occupancy?: number | null;
  arrivals?: number;
  departures?: number;
  mean_dwell_hours?: number | null;
  camera_events?: number;
  alerts?: number;
  detections?: number;
  detections_by_class?: Record<string, number>;
}

const BUCKETS = ['1h', '3h', '6h', '12h', '1d', '7d'] as const;
const RANGES_H = [6, 24, 72, 168, 720] as const;

function query(berth: string, hours: number, bucket: string, format?: string): string {
  const to = new Date();
  const from = new Date(to.getTime() - hours * 3600_000);
  const p = new URLSearchParams({ from: from.toISOString(), to: to.toISOString(), bucket });
  if (format) p.set('format', format);
  return `/api/berths/${encodeURIComponent(berth)}/activity?${p}`;
}

export function BerthsView() {
  const { t } = useI18n();
  const site = useStore(siteStore);
  const berths = site?.berths ?? [];
  const [berth, setBerth] = useState<string | null>(null);
  const [hours, setHours] = useState<number>(24);
  const [bucket, setBucket] = useState<string>('1h');
  const tick = useStore(berthTick);
  const [rows, setRows] = useState<BerthBucket[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const b = berth ?? berths[0]?.id ?? null;
  useEffect(() => {
    if (!b) return;
    setError(null);
    get<{ rows: BerthBucket[] }>(query(b, hours, bucket))
      .then((r) => setRows(r.rows))
      .catch((e: Error) => setError(e.message));
  }, [b, hours, bucket, tick]);
  const classes = [...new Set((rows ?? []).flatMap((r) => Object.keys(r.detections_by_class ?? {})))].sort();
  const totals = (rows ?? []).reduce((s, r) => ({ arrivals: s.arrivals + (r.arrivals ?? 0), departures: s.departures + (r.departures ?? 0) }), { arrivals: 0, departures: 0 });
  const dwell = (rows ?? []).map((r) => r.mean_dwell_hours).filter((x): x is number => typeof x === 'number');
  return (
    <section aria-labelledby="berths-title">
      <div class="toolbar">
        <h1 id="berths-title">{t('berths.title')}</h1>
        <label>
          {t('berths.berth')}{' '}
          <select value={b ?? ''} onChange={(e) => setBerth((e.target as HTMLSelectElement).value)}>
            {berths.map((x) => (
              <option value={x.id}>{x.name}</option>
            ))}
          </select>
        </label>
        <label>
          {t('berths.range')}{' '}
          <select value={String(hours)} onChange={(e) => setHours(Number((e.target as HTMLSelectElement).value))} data-testid="berth-range">
            {RANGES_H.map((h) => (
              <option value={String(h)}>{h < 48 ? t('berths.hours', { n: h }) : t('berths.days', { n: h / 24 })}</option>
            ))}
          </select>
        </label>
        <label>
          {t('berths.bucket')}{' '}
          <select value={bucket} onChange={(e) => setBucket((e.target as HTMLSelectElement).value)}>
            {BUCKETS.map((x) => (
              <option value={x}>{t(`berths.bucket_${x}` as never)}</option>
            ))}
          </select>
        </label>
        <button type="button" disabled={!b} onClick={() => b && void download(query(b, hours, bucket, 'csv'), `berth-${b}.csv`)}>
          {t('berths.csv')}
        </button>
      </div>
      {error && <p role="alert" class="error">{error}</p>}
      {rows && (
        <>
          <p class="totals" data-testid="berth-totals">
            {t('berths.totals', { arrivals: totals.arrivals, departures: totals.departures, dwell: dwell.length ? (dwell.reduce((a, c) => a + c, 0) / dwell.length).toFixed(1) : '—' })}
          </p>
          <TimePlot
            title={t('berths.occupancy')}
            timeLabel={t('berths.time')}
            testId="berth-plot"
            times={rows.map((r) => r.bucket)}
            series={[
              { label: t('berths.occupancy_mean'), values: rows.map((r) => r.occupancy ?? null) },
              { label: t('berths.arrivals'), values: rows.map((r) => r.arrivals ?? 0) },
              { label: t('berths.departures'), values: rows.map((r) => r.departures ?? 0) },
            ]}
          />
          {classes.length > 0 && (
            <TimePlot
              title={t('berths.detections')}
              timeLabel={t('berths.time')}
              testId="berth-plot"
              times={rows.map((r) => r.bucket)}
              series={classes.map((c) => ({ label: t('berths.class', { name: c }), values: rows.map((r) => r.detections_by_class?.[c] ?? 0) }))}
            />
          )}
        </>
      )}
    </section>
  );
}
