import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { download, get } from '../api.js';
import { formatTime, useI18n } from '../i18n.js';
import { berthTick, siteStore } from '../live.js';
import { useStore } from '../store.js';

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
const COLOURS = ['#3d7fc4', '#2e9d5b', '#d9412b', '#d89a1c', '#7b5cc4', '#1b9aa8', '#b0208f'];

function query(berth: string, hours: number, bucket: string, format?: string): string {
  const to = new Date();
  const from = new Date(to.getTime() - hours * 3600_000);
  const p = new URLSearchParams({ from: from.toISOString(), to: to.toISOString(), bucket });
  if (format) p.set('format', format);
  return `/api/berths/${encodeURIComponent(berth)}/activity?${p}`;
}

export function BerthsView() {
  const { t, locale } = useI18n();
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
          <Plot
            title={t('berths.occupancy')}
            timeLabel={t('berths.time')}
            rows={rows}
            locale={locale}
            series={[
              { label: t('berths.occupancy_mean'), value: (r) => r.occupancy ?? null },
              { label: t('berths.arrivals'), value: (r) => r.arrivals ?? 0 },
              { label: t('berths.departures'), value: (r) => r.departures ?? 0 },
            ]}
          />
          {classes.length > 0 && <Plot title={t('berths.detections')} timeLabel={t('berths.time')} rows={rows} locale={locale} series={classes.map((c) => ({ label: t('berths.class', { name: c }), value: (r) => r.detections_by_class?.[c] ?? 0 }))} />}
        </>
      )}
    </section>
  );
}

function Plot({ title, rows, series, locale, timeLabel }: { title: string; rows: BerthBucket[]; series: { label: string; value: (r: BerthBucket) => number | null }[]; locale: string; timeLabel: string }) {
  const host = useRef<HTMLDivElement>(null);
  const tz = useStore(siteStore)?.site.timezone ?? 'UTC';
  useEffect(() => {
    const el = host.current!;
    const data: uPlot.AlignedData = [rows.map((r) => Date.parse(r.bucket) / 1000), ...series.map((s) => rows.map(s.value))];
    const plot = new uPlot(
      {
        title,
        width: Math.max(300, el.clientWidth),
        height: 260,
        tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), tz),
        series: [{ label: timeLabel, value: (_u, v) => (v == null ? '—' : formatTime(v * 1000, locale as never, tz, true)) }, ...series.map((s, i) => ({ label: s.label, stroke: COLOURS[i % COLOURS.length], width: 2 }))],
        // Times on the axis in the site's zone, 24-hour, as the rest of the page.
        axes: [{ values: (_u, splits) => splits.map((v) => formatTime(v * 1000, locale as never, tz, (splits[splits.length - 1]! - splits[0]!) > 2 * 86400).replace(/:\d\d$/, '')) }, {}],
      },
      data,
      el,
    );
    const ro = new ResizeObserver(() => plot.setSize({ width: Math.max(300, el.clientWidth), height: 260 }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      plot.destroy();
    };
  }, [rows, title, locale, tz, timeLabel]);
  return <div class="plot" ref={host} data-testid="berth-plot" />;
}
