import { vesselsStore } from '../live.js';
import { useStore } from '../store.js';
import { useI18n, type MessageKey } from '../i18n.js';
import { riskColour } from './chart.js';

export interface RiskScore {
  mmsi: number;
  name?: string | null;
  score: number;
  level: string;
  computed_at?: string | null;
  breakdown?: { indicator: string; points: number; evidence?: string | null }[];
  history?: { at: string; score: number; level?: string }[];
}

/**
 * Vessel risk as the API has it: each vessel's latest score and level (from
 * GET /api/vessels); the breakdown and history when the API serves them.
 */
export function RiskView({ mmsi }: { mmsi: string | null }) {
  const { t, dateTime } = useI18n();
  const vessels = useStore(vesselsStore);
  if (!mmsi) {
    const list = [...vessels.values()].sort((a, b) => (b.risk_score ?? -1) - (a.risk_score ?? -1));
    return (
      <section aria-labelledby="risk-title">
        <h1 id="risk-title">{t('risk.title')}</h1>
        <ul class="risk-list">
          {list.map((r) => (
            <li key={r.mmsi}>
              <a href={`#/risk/${r.mmsi}`}>
                <span class="dot" style={{ background: riskColour(r.risk_level) }} /> {r.name ?? r.mmsi} ·{' '}
                {r.risk_level && r.risk_score != null ? t('risk.score_level', { score: r.risk_score, level: t(`risk.level.${r.risk_level}` as MessageKey) }) : t('risk.none')}
              </a>
            </li>
          ))}
        </ul>
      </section>
    );
  }
  const one = vessels.get(Number(mmsi));
  return (
    <section aria-labelledby="risk-title">
      <p>
        <a href="#/risk">{t('back')}</a>
      </p>
      <h1 id="risk-title">
        {one?.name ?? mmsi}{' '}
        <span style={{ color: riskColour(one?.risk_level) }}>
          {one?.risk_level && one.risk_score != null ? t('risk.score_level', { score: one.risk_score, level: t(`risk.level.${one.risk_level}` as MessageKey) }) : t('risk.none')}
        </span>
      </h1>
      {one && (
        <dl>
          <dt>{t('vessel.mmsi')}</dt>
          <dd>{one.mmsi}</dd>
          <dt>{t('vessel.seen')}</dt>
          <dd>{dateTime(one.time)}</dd>
          <dt>{t('vessel.berth_visit')}</dt>
          <dd>{one.berth ? t('vessel.visit', { berth: one.berth, from: dateTime(one.berth_since) }) : t('vessel.no_visit')}</dd>
        </dl>
      )}
      <p class="empty">{t('risk.breakdown_missing')}</p>
    </section>
  );
}
