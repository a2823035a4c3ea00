import { useEffect, useState } from 'preact/hooks';
import { ApiError, get } from '../api.js';
import { useI18n, type MessageKey } from '../i18n.js';
import { vesselsStore } from '../live.js';
import { useStore } from '../store.js';
import { TimePlot } from '../time-plot.js';
import { riskColour } from './chart.js';

/** A vessel's latest score as GET /api/risk lists it. */
export interface RiskScore {
  mmsi: number;
  imo: number | null;
  name: string | null;
  time: string;
  level: string;
  score: number;
  model: string | null;
}

/** One indicator's share of a score: points, the rule that gave them, the evidence it rests on. */
export interface RiskIndicator {
  indicator: string;
  group: string | null;
  factor: string | null;
  points: number;
  rule: string | null;
  why: string | null;
  evidence: string[];
}

/** GET /api/risk/:mmsi: the latest score with its breakdown, and the history. */
export interface RiskDetail extends RiskScore {
  profile_reason: string | null;
  breakdown: RiskIndicator[];
  history: { time: string; level: string; score: number }[];
}

/** A level's name in the page's language (SRP profiles and the older four levels), or the level itself. */
export function levelName(t: (k: MessageKey) => string, level: string): string {
  const key = `risk.level.${level}` as MessageKey;
  const text = t(key);
  return text === key ? level : text;
}

/**
 * Vessel risk as pipeline/risk recorded it: each vessel's latest score, and
 * for one vessel its score broken down by indicator (points, rule, evidence)
 * and its earlier scores.
 */
export function RiskView({ mmsi }: { mmsi: string | null }) {
  return mmsi ? <RiskOfVessel mmsi={mmsi} /> : <RiskList />;
}

function RiskList() {
  const { t, dateTime } = useI18n();
  const [scores, setScores] = useState<RiskScore[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    get<{ scores: RiskScore[] }>('/api/risk')
      .then((r) => setScores([...r.scores].sort((a, b) => b.score - a.score || a.mmsi - b.mmsi)))
      .catch((e: Error) => setError(e.message));
  }, []);
  return (
    <section aria-labelledby="risk-title">
      <h1 id="risk-title">{t('risk.title')}</h1>
      {!scores ? (
        <p>{error ?? t('loading')}</p>
      ) : scores.length === 0 ? (
        <p class="empty">{t('risk.no_scores')}</p>
      ) : (
        <ul class="risk-list" data-testid="risk-list">
          {scores.map((r) => (
            <li key={r.mmsi}>
              <a href={`#/risk/${r.mmsi}`}>
                <span class="dot" style={{ background: riskColour(r.level) }} /> {r.name ?? r.mmsi} · {t('risk.score_level', { score: r.score, level: levelName(t, r.level) })}
              </a>{' '}
              <time dateTime={r.time}>{dateTime(r.time)}</time>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function RiskOfVessel({ mmsi }: { mmsi: string }) {
  const { t, dateTime } = useI18n();
  const vessel = useStore(vesselsStore).get(Number(mmsi));
  const [detail, setDetail] = useState<RiskDetail | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    setDetail(null);
    setError(null);
    get<RiskDetail>(`/api/risk/${encodeURIComponent(mmsi)}`)
      .then(setDetail)
      .catch((e: Error) => setError(e instanceof ApiError && e.status === 404 ? t('risk.none') : e.message));
  }, [mmsi]);
  const name = detail?.name ?? vessel?.name ?? mmsi;
  return (
    <section aria-labelledby="risk-title" class="risk-detail">
      <p>
        <a href="#/risk">{t('back')}</a>
      </p>
      <h1 id="risk-title">
        {name}{' '}
        {detail && (
          <span style={{ color: riskColour(detail.level) }} data-testid="risk-score">
            {t('risk.score_level', { score: detail.score, level: levelName(t, detail.level) })}
          </span>
        )}
      </h1>
      {!detail && <p>{error ?? t('loading')}</p>}
      {detail && (
        <>
          <dl>
            <dt>{t('vessel.mmsi')}</dt>
            <dd>{detail.mmsi}</dd>
            {detail.imo != null && (
              <>
                <dt>IMO</dt>
                <dd>{detail.imo}</dd>
              </>
            )}
            <dt>{t('risk.scored_at')}</dt>
            <dd>{dateTime(detail.time)}</dd>
            {detail.model && (
              <>
                <dt>{t('risk.model')}</dt>
                <dd>{detail.model}</dd>
              </>
            )}
            {detail.profile_reason && (
              <>
                <dt>{t('risk.reason')}</dt>
                <dd data-testid="risk-reason">{detail.profile_reason}</dd>
              </>
            )}
            {vessel && (
              <>
                <dt>{t('vessel.berth_visit')}</dt>
                <dd>{vessel.berth ? t('vessel.visit', { berth: vessel.berth, from: dateTime(vessel.berth_since) }) : t('vessel.no_visit')}</dd>
              </>
            )}
          </dl>
          <h2>{t('risk.breakdown')}</h2>
          {detail.breakdown.length === 0 ? (
            <p class="empty">{t('risk.no_indicator')}</p>
          ) : (
            <div class="table-wrap">
              <table class="board" data-testid="risk-breakdown">
                <thead>
                  <tr>
                    <th scope="col">{t('risk.indicator')}</th>
                    <th scope="col">{t('risk.points')}</th>
                    <th scope="col">{t('risk.evidence')}</th>
                  </tr>
                </thead>
                <tbody>
                  {detail.breakdown.map((b) => (
                    <tr key={b.indicator} data-indicator={b.indicator}>
                      <th scope="row">
                        {b.indicator}
                        {b.rule && <div class="muted">{b.rule}</div>}
                      </th>
                      <td class="num">{b.points}</td>
                      <td>
                        {b.why}
                        {b.evidence.length > 0 && (
                          <ul class="evidence">
                            {b.evidence.map((e) => (
                              <li>
                                <code>{e}</code>
                              </li>
                            ))}
                          </ul>
                        )}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          <h2>{t('risk.history')}</h2>
          {detail.history.length > 1 && (
            <TimePlot
              title={t('risk.history_plot')}
              timeLabel={t('risk.scored_at')}
              testId="risk-plot"
              steps
              times={[...detail.history].reverse().map((h) => h.time)}
              series={[{ label: t('risk.points'), values: [...detail.history].reverse().map((h) => h.score) }]}
            />
          )}
          <ol class="history" data-testid="risk-history">
            {detail.history.map((h) => (
              <li>
                <time dateTime={h.time}>{dateTime(h.time)}</time> <span style={{ color: riskColour(h.level) }}>{t('risk.score_level', { score: h.score, level: levelName(t, h.level) })}</span>
              </li>
            ))}
          </ol>
        </>
      )}
    </section>
  );
}
