import { useEffect, useState } from 'preact/hooks';
import { get } from '../api.js';
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

export function RiskView({ mmsi }: { mmsi: string | null }) {
  const { t, dateTime } = useI18n();
  const [list, setList] = useState<RiskScore[] | null>(null);
  const [one, setOne] = useState<RiskScore | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    setError(null);
    if (mmsi)
      get<RiskScore>(`/api/risk/${encodeURIComponent(mmsi)}`)
        .then(setOne)
        .catch((e: Error) => setError(e.message));
    else
      get<RiskScore[] | { vessels: RiskScore[] }>('/api/risk')
        .then((r) => setList(Array.isArray(r) ? r : r.vessels))
        .catch((e: Error) => setError(e.message));
  }, [mmsi]);
  if (error) return <p role="alert" class="error">{error}</p>;
  if (!mmsi)
    return (
      <section aria-labelledby="risk-title">
        <h1 id="risk-title">{t('risk.title')}</h1>
        <ul class="risk-list">
          {(list ?? []).map((r) => (
            <li key={r.mmsi}>
              <a href={`#/risk/${r.mmsi}`}>
                <span class="dot" style={{ background: riskColour(r.level) }} /> {r.name ?? r.mmsi} · {t('risk.score_level', { score: r.score, level: t(`risk.level.${r.level}` as MessageKey) })}
              </a>
            </li>
          ))}
        </ul>
      </section>
    );
  if (!one) return <p>{t('loading')}</p>;
  return (
    <section aria-labelledby="risk-title">
      <p>
        <a href="#/risk">{t('back')}</a>
      </p>
      <h1 id="risk-title">
        {one.name ?? one.mmsi} <span style={{ color: riskColour(one.level) }}>{t('risk.score_level', { score: one.score, level: t(`risk.level.${one.level}` as MessageKey) })}</span>
      </h1>
      <table class="board">
        <thead>
          <tr>
            <th scope="col">{t('risk.indicator')}</th>
            <th scope="col">{t('risk.points')}</th>
            <th scope="col">{t('risk.evidence')}</th>
          </tr>
        </thead>
        <tbody>
          {(one.breakdown ?? []).map((b) => (
            <tr>
              <td>{b.indicator}</td>
              <td class="num">{b.points}</td>
              <td>{b.evidence ?? '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>{t('risk.history')}</h2>
      <ol class="history">
        {(one.history ?? []).map((h) => (
          <li>
            <time dateTime={h.at}>{dateTime(h.at)}</time> {h.score}
            {h.level ? ` · ${t(`risk.level.${h.level}` as MessageKey)}` : ''}
          </li>
        ))}
      </ol>
    </section>
  );
}
