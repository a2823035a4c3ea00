import { useEffect, useState } from 'preact/hooks';
import { get, send, sessionStore } from '../api.js';
import { useI18n, type MessageKey } from '../i18n.js';
import { LivePlayer } from '../live-player.js';
import { dispatchTick, siteStore } from '../live.js';
import { may } from '../roles.js';
import { useStore } from '../store.js';
import { riskColour } from './chart.js';
import { Clip } from './alerts.js';
import { levelName } from './risk.js';

/** An inspection as GET /api/dispatch and /api/inspector/jobs carry it. */
export interface Inspection {
  id: string;
  created_at: string;
  target_kind: string;
  target: string;
  mmsi?: number | null;
  vessel_name?: string | null;
  berth?: string | null;
  risk_level?: string | null;
  alert_id?: string | null;
  severity?: string | null;
  state: string;
  inspector?: string | null;
  ack_deadline?: string | null;
  acknowledged_at?: string | null;
  result?: string | null;
  outcome?: string | null;
  findings?: { code?: string; text: string }[];
  photos?: string[];
  /** The inspector's body-worn recording while the job was open, kept with the result. */
  clips?: string[];
  completed_at?: string | null;
  /** The draws that chose the target and the inspector, verifiable at /api/public/draws/:id. */
  target_draw_id?: string | null;
  inspector_draw_id?: string | null;
}

/** Open jobs: drawn or assigned and not yet acknowledged or done. */
export const awaitingAck = (j: Inspection) => j.state === 'assigned';
export const targetLabel = (j: Inspection) => j.vessel_name ?? j.target;

export function useNow(periodMs = 1000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const i = setInterval(() => setNow(Date.now()), periodMs);
    return () => clearInterval(i);
  }, [periodMs]);
  return now;
}

export function Countdown({ until }: { until: string | null | undefined }) {
  const { t } = useI18n();
  const now = useNow();
  if (!until) return <span>—</span>;
  const s = Math.round((Date.parse(until) - now) / 1000);
  const abs = Math.abs(s);
  const text = `${Math.floor(abs / 60)}:${String(abs % 60).padStart(2, '0')}`;
  return <span class={s < 0 ? 'overdue' : s < 120 ? 'due-soon' : ''}>{s < 0 ? t('dispatch.overdue', { t: text }) : text}</span>;
}

/** Links to the draws that chose this job, each shown with its record and recomputed (the record itself is public). */
function DrawLinks({ job }: { job: Inspection }) {
  const { t } = useI18n();
  const links = [
    job.target_draw_id ? { id: job.target_draw_id, label: t('dispatch.verify_target') } : null,
    job.inspector_draw_id ? { id: job.inspector_draw_id, label: t('dispatch.verify_inspector') } : null,
  ].filter((x): x is { id: string; label: string } => x !== null);
  if (links.length === 0) return <span>—</span>;
  return (
    <>
      {links.map((l, i) => (
        <>
          {i > 0 && ' · '}
          <a href={`#/dispatch/draws/${encodeURIComponent(l.id)}`} data-testid="draw-link">
            {l.label}
          </a>
        </>
      ))}
    </>
  );
}

export function DispatchView() {
  const { t } = useI18n();
  const tick = useStore(dispatchTick);
  const session = useStore(sessionStore);
  const site = useStore(siteStore);
  const [jobs, setJobs] = useState<Inspection[] | null>(null);
  const [open, setOpen] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    get<{ inspections: Inspection[] }>('/api/dispatch')
      .then((r) => setJobs(r.inspections))
      .catch((e: Error) => setError(e.message));
  }, [tick]);
  if (!jobs) return <p>{error ?? t('loading')}</p>;
  const job = jobs.find((j) => j.id === open);
  const inspectorName = (id: string | null | undefined) => (id ? (site?.inspectors?.find((i) => i.id === id)?.name ?? id) : '—');
  // The body-worn recorder of the job's inspector, while the job is open.
  const bodyWorn = job && (job.state === 'assigned' || job.state === 'acknowledged') ? site?.cameras.find((c) => c.kind === 'body_worn' && c.inspector === job.inspector) : undefined;
  return (
    <section aria-labelledby="dispatch-title">
      <h1 id="dispatch-title">{t('dispatch.title', { n: jobs.length })}</h1>
      <div class="table-wrap">
        <table class="board" data-testid="dispatch-board">
          <thead>
            <tr>
              <th scope="col">{t('dispatch.target')}</th>
              <th scope="col">{t('dispatch.risk')}</th>
              <th scope="col">{t('dispatch.draw')}</th>
              <th scope="col">{t('dispatch.inspector')}</th>
              <th scope="col">{t('dispatch.deadline')}</th>
              <th scope="col">{t('dispatch.status')}</th>
            </tr>
          </thead>
          <tbody>
            {jobs.map((j) => (
              <tr key={j.id} aria-selected={j.id === open}>
                <td>
                  <button type="button" class="link" onClick={() => setOpen(j.id === open ? null : j.id)}>
                    {targetLabel(j)}
                  </button>
                </td>
                <td>
                  {j.mmsi != null ? (
                    <a href={`#/risk/${j.mmsi}`} style={{ color: riskColour(j.risk_level) }} data-testid="job-risk">
                      {j.risk_level ? levelName(t, j.risk_level) : t('risk.none')}
                    </a>
                  ) : (
                    <span style={{ color: riskColour(j.risk_level) }}>{j.risk_level ? levelName(t, j.risk_level) : '—'}</span>
                  )}
                </td>
                <td>
                  <DrawLinks job={j} />
                </td>
                <td>{inspectorName(j.inspector)}</td>
                <td>{awaitingAck(j) ? <Countdown until={j.ack_deadline} /> : '—'}</td>
                <td>{t(`job.${j.state}` as MessageKey)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {job && (
        <section class="job" aria-labelledby="job-title">
          <h2 id="job-title">{t('dispatch.job', { target: targetLabel(job) })}</h2>
          <p>
            {t(`job.${job.state}` as MessageKey)} · {inspectorName(job.inspector)}
            {job.mmsi != null && (
              <>
                {' · '}
                <a href={`#/risk/${job.mmsi}`}>{t('dispatch.view_risk')}</a>
              </>
            )}
            {job.alert_id && (
              <>
                {' · '}
                <a href={`#/alerts/${job.alert_id}`}>{t('dispatch.alert')}</a>
              </>
            )}
          </p>
          {bodyWorn && may(session?.role, 'camera.live') && <LivePlayer camera={bodyWorn.id} label={t('dispatch.body_worn', { name: inspectorName(job.inspector) })} />}
          {(job.clips ?? []).length > 0 && (
            <section aria-labelledby="job-clips" data-testid="job-clips">
              <h3 id="job-clips">{t('dispatch.body_worn_clips')}</h3>
              {job.clips!.map((c, n) => (
                <Clip key={c} src={c} label={t('dispatch.body_worn_clip', { name: inspectorName(job.inspector), n: n + 1 })} />
              ))}
            </section>
          )}
          {(job.findings ?? []).length > 0 && (
            <ul>
              {job.findings!.map((f) => (
                <li>{f.code ? `${f.code}: ${f.text}` : f.text}</li>
              ))}
            </ul>
          )}
        </section>
      )}
    </section>
  );
}
