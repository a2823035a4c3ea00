import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { get } from '../api.js';
import { bounds, metresPerPixel, project, scaleBar, unproject } from '../geo.js';
import { useI18n } from '../i18n.js';
import { siteStore, vesselsStore } from '../live.js';
import { useStore } from '../store.js';
import type { LatLon, Vessel } from '../types.js';

// SRP profiles (HRS, SRS, LRS) and the four-level scale of other models.
const RISK_COLOUR: Record<string, string> = { LRS: '#2e9d5b', SRS: '#d89a1c', HRS: '#d9412b', low: '#2e9d5b', medium: '#d89a1c', high: '#d9412b', critical: '#b0208f' };
export const riskColour = (level: string | null | undefined) => (level && RISK_COLOUR[level]) || '#3d7fc4';

interface View {
  cx: number;
  cy: number;
  /** Pixels per world unit. */
  k: number;
}

interface TrackPoint {
  time: string;
  lat: number | null;
  lon: number | null;
}

/** Hours of track drawn for the selected vessel. */
const TRACK_HOURS = 6;

function useSize(ref: { current: HTMLElement | null }): [number, number] {
  const [size, setSize] = useState<[number, number]>([800, 600]);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const ro = new ResizeObserver(() => setSize([el.clientWidth, el.clientHeight]));
    ro.observe(el);
    setSize([el.clientWidth, el.clientHeight]);
    return () => ro.disconnect();
  }, []);
  return size;
}

export function ChartView() {
  const { t, dateTime, time } = useI18n();
  const site = useStore(siteStore);
  const vessels = useStore(vesselsStore);
  const box = useRef<HTMLDivElement>(null);
  const [w, h] = useSize(box);
  const [view, setView] = useState<View | null>(null);
  const [selected, setSelected] = useState<number | null>(null);
  const [track, setTrack] = useState<LatLon[] | null>(null);
  const [filter, setFilter] = useState('');
  const drag = useRef<{ x: number; y: number; v: View } | null>(null);

  // Fit the port once its geometry (or the first vessels) is known.
  const fit = useMemo(() => {
    const pts: LatLon[] = [];
    if (site?.port_area) pts.push(...site.port_area);
    for (const b of site?.berths ?? []) pts.push(...b.polygon);
    for (const c of site?.channels ?? []) pts.push(...c.polygon);
    for (const c of site?.cameras ?? []) if (c.position) pts.push(c.position);
    if (pts.length === 0) for (const v of vessels.values()) pts.push([v.lat, v.lon]);
    return bounds(pts);
  }, [site, vessels.size === 0]);
  // Fit the port to the chart until the user pans or zooms (a phone turned, a window resized).
  const moved = useRef(false);
  useEffect(() => {
    if (!fit || (view && moved.current) || w <= 0 || h <= 0) return;
    const dx = Math.max(fit.max[0] - fit.min[0], 1e-7);
    const dy = Math.max(fit.max[1] - fit.min[1], 1e-7);
    setView({ cx: (fit.min[0] + fit.max[0]) / 2, cy: (fit.min[1] + fit.max[1]) / 2, k: Math.min(w / dx, h / dy) * 0.9 });
  }, [fit, w, h]);

  // The selected vessel's track, read again when its position changes.
  const selectedTime = selected !== null ? vessels.get(selected)?.time : undefined;
  useEffect(() => {
    if (selected === null) return setTrack(null);
    // The API keeps tracks of ships only (MMSI 2xxxxxxxx to 7xxxxxxxx); an invalid identity has none to ask for.
    if (selected < 200_000_000 || selected > 799_999_999) return setTrack([]);
    let live = true;
    // Up to the vessel's own last fix even when the station's clock runs ahead of this one.
    const to = new Date(Math.max(Date.now(), Date.parse(selectedTime ?? '') || 0) + 60_000);
    const from = new Date(to.getTime() - TRACK_HOURS * 3600_000);
    get<{ points: TrackPoint[] }>(`/api/vessels/${selected}/track?${new URLSearchParams({ from: from.toISOString(), to: to.toISOString() })}`)
      .then((d) => live && setTrack(d.points.filter((p) => p.lat !== null && p.lon !== null).map((p) => [p.lat!, p.lon!] as LatLon)))
      .catch(() => live && setTrack([]));
    return () => {
      live = false;
    };
  }, [selected, selectedTime]);

  const v = view ?? { cx: 0.5, cy: 0.5, k: 256 };
  const toScreen = (p: LatLon): [number, number] => {
    const [x, y] = project(p);
    return [(x - v.cx) * v.k + w / 2, (y - v.cy) * v.k + h / 2];
  };
  const path = (poly: LatLon[]) => poly.map((p, i) => `${i ? 'L' : 'M'}${toScreen(p).map((n) => n.toFixed(1)).join(',')}`).join('') + 'Z';
  const zoom = (f: number) => {
    moved.current = true;
    setView({ ...v, k: Math.max(1e3, Math.min(1e9, v.k * f)) });
  };
  const pan = (dx: number, dy: number) => {
    moved.current = true;
    setView({ ...v, cx: v.cx + dx / v.k, cy: v.cy + dy / v.k });
  };
  const centreLat = unproject([v.cx, v.cy])[0];
  const bar = scaleBar(metresPerPixel(centreLat, v.k));
  const list = [...vessels.values()]
    .filter((x) => !filter || `${x.name ?? ''} ${x.mmsi}`.toLowerCase().includes(filter.toLowerCase()))
    .sort((a, b) => (a.name ?? '').localeCompare(b.name ?? '') || a.mmsi - b.mmsi);
  const sel = selected !== null ? vessels.get(selected) : undefined;

  return (
    <section class="chart-view" aria-label={t('chart.title')}>
      <div
        class="chart"
        ref={box}
        tabIndex={0}
        aria-label={t('chart.keys')}
        onKeyDown={(e) => {
          const step = 60;
          if (e.key === '+' || e.key === '=') zoom(1.25);
          else if (e.key === '-') zoom(0.8);
          else if (e.key === 'ArrowLeft') pan(-step, 0);
          else if (e.key === 'ArrowRight') pan(step, 0);
          else if (e.key === 'ArrowUp') pan(0, -step);
          else if (e.key === 'ArrowDown') pan(0, step);
          else return;
          e.preventDefault();
        }}
        onWheel={(e) => {
          e.preventDefault();
          zoom(e.deltaY < 0 ? 1.2 : 1 / 1.2);
        }}
        onPointerDown={(e) => {
          if ((e.target as Element).closest('.vessel')) return;
          drag.current = { x: e.clientX, y: e.clientY, v };
          (e.currentTarget as HTMLElement).setPointerCapture(e.pointerId);
        }}
        onPointerMove={(e) => {
          const d = drag.current;
          if (d) moved.current = true;
          if (d) setView({ ...d.v, cx: d.v.cx - (e.clientX - d.x) / d.v.k, cy: d.v.cy - (e.clientY - d.y) / d.v.k });
        }}
        onPointerUp={() => (drag.current = null)}
      >
        <svg width={w} height={h} role="img" aria-label={t('chart.title')} data-testid="port-chart">
          <rect width={w} height={h} class="water" />
          {site?.chart?.tile_url && view && <Tiles url={site.chart.tile_url} v={v} w={w} h={h} />}
          {site?.port_area && <path d={path(site.port_area)} class="port-area" />}
          {site?.channels?.map((c) => (
            <g key={c.id}>
              <path d={path(c.polygon)} class="channel" />
              <text {...labelAt(toScreen(c.polygon[0]!))} class="label channel-label">
                {t('chart.channel', { id: c.id, limit: c.speed_limit_kn ?? '—' })}
              </text>
            </g>
          ))}
          {site?.berths.map((b) => (
            <g key={b.id}>
              <path d={path(b.polygon)} class="berth" />
              {screenWidth(b.polygon.map(toScreen)) > 60 && (
                <text {...labelAt(toScreen(b.polygon[0]!))} class="label">
                  {b.name}
                </text>
              )}
            </g>
          ))}
          {site?.cameras.filter((c) => c.position).map((c) => {
            const [x, y] = toScreen(c.position!);
            return (
              <g key={c.id} class="camera-mark" transform={`translate(${x},${y})`}>
                <title>{c.name}</title>
                <rect x={-5} y={-4} width={10} height={8} rx={1.5} />
                <path d="M5,-2 L9,-4 L9,4 L5,2Z" />
              </g>
            );
          })}
          {track && track.length > 1 && <polyline class="track" data-testid="vessel-track" points={track.map((p) => toScreen(p).join(',')).join(' ')} />}
          {[...vessels.values()].map((x) => {
            const [sx, sy] = toScreen([x.lat, x.lon]);
            const heading = x.heading != null && x.heading < 360 ? x.heading : (x.cog ?? 0);
            const moving = (x.sog ?? 0) >= 0.5;
            return (
              <g
                key={x.mmsi}
                class={`vessel${x.mmsi === selected ? ' selected' : ''}`}
                transform={`translate(${sx.toFixed(1)},${sy.toFixed(1)})`}
                onClick={() => setSelected(x.mmsi)}
                data-mmsi={x.mmsi}
              >
                <title>{x.name ?? x.mmsi}</title>
                {moving ? (
                  <path d="M0,-11 L6,7 L0,3 L-6,7Z" transform={`rotate(${heading})`} fill={riskColour(x.risk_level)} />
                ) : (
                  <circle r={5.5} fill={riskColour(x.risk_level)} />
                )}
                <text x={9} y={4} class="label vessel-label">
                  {x.name ?? x.mmsi} {t('chart.knots', { sog: (x.sog ?? 0).toFixed(1) })}
                </text>
              </g>
            );
          })}
          <g class="north" transform={`translate(${w - 36},40)`} aria-label={t('chart.north')}>
            <path d="M0,-22 L8,6 L0,0 L-8,6Z" />
            <text y={22} text-anchor="middle">
              {t('chart.north_letter')}
            </text>
          </g>
          {Number.isFinite(bar.px) && (
          <g class="scale" transform={`translate(16,${h - 22})`} data-testid="scale-bar">
            <path d={`M0,0 V8 H${bar.px.toFixed(1)} V0`} />
            <text x={bar.px / 2} y={-4} text-anchor="middle">
              {bar.metres >= 1000 ? t('chart.km', { n: bar.metres / 1000 }) : t('chart.m', { n: bar.metres })}
            </text>
          </g>
          )}
        </svg>
        <div class="zoom">
          <button type="button" onClick={() => zoom(1.25)} aria-label={t('chart.zoom_in')}>+</button>
          <button type="button" onClick={() => zoom(0.8)} aria-label={t('chart.zoom_out')}>−</button>
        </div>
      </div>
      <aside class="side">
        {sel && (
          <section class="vessel-card" aria-live="polite" data-testid="vessel-card">
            <h2>{sel.name ?? sel.mmsi}</h2>
            <dl>
              <dt>{t('vessel.mmsi')}</dt>
              <dd>{sel.mmsi}</dd>
              <dt>{t('vessel.speed')}</dt>
              <dd>{t('chart.knots', { sog: (sel.sog ?? 0).toFixed(1) })}</dd>
              <dt>{t('vessel.course')}</dt>
              <dd>{sel.cog != null ? `${sel.cog.toFixed(0)}°` : '—'}</dd>
              <dt>{t('vessel.seen')}</dt>
              <dd>{time(sel.time)}</dd>
              <dt>{t('vessel.berth_visit')}</dt>
              <dd>
                {sel.berth ? t('vessel.visit', { berth: site?.berths.find((b) => b.id === sel.berth)?.name ?? sel.berth, from: dateTime(sel.berth_since) }) : t('vessel.no_visit')}
              </dd>
              <dt>{t('vessel.risk')}</dt>
              <dd>
                <a href={`#/risk/${sel.mmsi}`} style={{ color: riskColour(sel.risk_level) }}>
                  {sel.risk_level && sel.risk_score != null ? t('risk.score_level', { score: sel.risk_score, level: t(`risk.level.${sel.risk_level}` as never) }) : t('risk.none')}
                </a>
              </dd>
              <dt>{t('vessel.track')}</dt>
              <dd>{t('vessel.track_points', { n: track?.length ?? 0, hours: TRACK_HOURS })}</dd>
            </dl>
            <button type="button" onClick={() => setSelected(null)}>{t('close')}</button>
          </section>
        )}
        <h2>{t('chart.vessels', { n: vessels.size })}</h2>
        <input type="search" placeholder={t('chart.filter')} aria-label={t('chart.filter')} value={filter} onInput={(e) => setFilter((e.target as HTMLInputElement).value)} />
        <ul class="vessel-list" data-testid="vessel-list">
          {list.map((x) => (
            <li key={x.mmsi}>
              <button type="button" aria-pressed={x.mmsi === selected} onClick={() => setSelected(x.mmsi)}>
                <span class="dot" style={{ background: riskColour(x.risk_level) }} />
                <span class="name">{x.name ?? x.mmsi}</span>
                <span class="num">{t('chart.knots', { sog: (x.sog ?? 0).toFixed(1) })}</span>
              </button>
            </li>
          ))}
        </ul>
      </aside>
    </section>
  );
}

function screenWidth(points: [number, number][]): number {
  const xs = points.map((p) => p[0]);
  return Math.max(...xs) - Math.min(...xs);
}

function labelAt([x, y]: [number, number]) {
  return { x: x + 4, y: y - 4 };
}

/** Raster tiles from the port's own XYZ tile server (never one on the internet). */
function Tiles({ url, v, w, h }: { url: string; v: View; w: number; h: number }) {
  const z = Math.max(0, Math.min(20, Math.round(Math.log2(v.k / 256))));
  const n = 2 ** z;
  const size = v.k / n;
  const x0 = Math.floor((v.cx - w / 2 / v.k) * n);
  const x1 = Math.floor((v.cx + w / 2 / v.k) * n);
  const y0 = Math.floor((v.cy - h / 2 / v.k) * n);
  const y1 = Math.floor((v.cy + h / 2 / v.k) * n);
  const tiles = [];
  for (let x = x0; x <= x1 && tiles.length < 200; x++)
    for (let y = y0; y <= y1 && tiles.length < 200; y++) {
      if (y < 0 || y >= n) continue;
      const tx = ((x % n) + n) % n;
      tiles.push(
        <image
          key={`${z}/${x}/${y}`}
          href={url.replace('{z}', String(z)).replace('{x}', String(tx)).replace('{y}', String(y))}
          x={(x / n - v.cx) * v.k + w / 2}
          y={(y / n - v.cy) * v.k + h / 2}
          width={size + 0.5}
          height={size + 0.5}
        />,
      );
    }
  return <g class="tiles">{tiles}</g>;
}
