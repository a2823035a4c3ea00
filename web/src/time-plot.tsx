import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { formatTime, useI18n } from './i18n.js';
import { siteStore } from './live.js';
import { useStore } from './store.js';

const COLOURS = ['#3d7fc4', '#2e9d5b', '#d9412b', '#d89a1c', '#7b5cc4', '#1b9aa8', '#b0208f'];

export interface PlotSeries {
  label: string;
  /** One value per time (null: a gap). */
  values: (number | null)[];
}

/**
 * A time series chart (uPlot): times on the axis in the site's zone, 24-hour,
 * as the rest of the page; resized with its box.
 */
export function TimePlot({ title, times, series, timeLabel, testId, steps = false }: { title: string; times: string[]; series: PlotSeries[]; timeLabel: string; testId: string; steps?: boolean }) {
  const host = useRef<HTMLDivElement>(null);
  const { locale } = useI18n();
  const tz = useStore(siteStore)?.site.timezone ?? 'UTC';
  // Drawn again only when the data change, not on every render of the view holding it.
  const dataKey = JSON.stringify([times, series]);
  useEffect(() => {
    const el = host.current!;
    const data: uPlot.AlignedData = [times.map((t) => Date.parse(t) / 1000), ...series.map((s) => s.values)];
    const plot = new uPlot(
      {
        title,
        width: Math.max(300, el.clientWidth),
        height: 260,
        tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), tz),
        series: [
          { label: timeLabel, value: (_u, v) => (v == null ? '—' : formatTime(v * 1000, locale, tz, true)) },
          ...series.map((s, i) => ({ label: s.label, stroke: COLOURS[i % COLOURS.length], width: 2, ...(steps ? { paths: uPlot.paths.stepped!({ align: 1 }) } : {}) })),
        ],
        axes: [{ values: (_u, splits) => splits.map((v) => formatTime(v * 1000, locale, tz, splits[splits.length - 1]! - splits[0]! > 2 * 86400).replace(/:\d\d$/, '')) }, {}],
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
  }, [dataKey, title, locale, tz, timeLabel, steps]);
  return <div class="plot" ref={host} data-testid={testId} />;
}
