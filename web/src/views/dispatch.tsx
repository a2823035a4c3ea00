import { useEffect, useState } from 'preact/hooks';
import { get, send, sessionStore } from '../api.js';
import { useI18n, type MessageKey } from '../i18n.js';
import { LivePlayer } from '../live-player.js';
import { dispatchTick } from '../live.js';
import { may } from '../roles.js';
import { useStore } from '../store.js';
import { riskColour } from './chart.js';

export interface Inspection {
  id: string;
  target: string;
  target_name?: string | null;
  mmsi?: number | null;
  risk_level?: string | null;
  draw_id?: string | null;
  verify_url?: string | null;
  inspector?: string | null;
  inspector_name?: string | null;
  ack_deadline?: string | null;
  status: string;
  /** The inspector's body-worn camera, while the job is open. */
  body_worn_camera?: string | null;
  findings?: string | null;
  outcome?: string | null;
  photos?: string[];
}

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

export function DispatchView() {
  const { t } = useI18n();
  const tick = useStore(dispatchTick);
  const session = useStore(sessionStore);
  const [jobs, setJobs] = useState<Inspection[] | null>(null);
  const [open, setOpen] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    get<Inspection[] | { inspections: Inspection[] }>('/api/dispatch')
      .then((r) => setJobs(Array.isArray(r) ? r : r.inspections))
      .catch((e: Error) => setError(e.message));
  }, [tick]);
  if (!jobs) return <p>{error ?? t('loading')}</p>;
  const job = jobs.find((j) => j.id === open);
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
                    {j.target_name ?? j.target}
                  </button>
                </td>
                <td style={{ color: riskColour(j.risk_level) }}>{j.risk_level ? t(`risk.level.${j.risk_level}` as MessageKey) : '—'}</td>
                <td>{j.verify_url ? <a href={j.verify_url}>{t('dispatch.verify', { id: j.draw_id ?? '' })}</a> : (j.draw_id ?? '—')}</td>
                <td>{j.inspector_name ?? j.inspector ?? '—'}</td>
                <td>{j.status === 'drawn' || j.status === 'notified' ? <Countdown until={j.ack_deadline} /> : '—'}</td>
                <td>{t(`job.${j.status}` as MessageKey)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {job && (
        <section class="job" aria-labelledby="job-title">
          <h2 id="job-title">{t('dispatch.job', { target: job.target_name ?? job.target })}</h2>
          {job.body_worn_camera && may(session?.role, 'camera.live') && <LivePlayer camera={job.body_worn_camera} label={t('dispatch.body_worn', { name: job.inspector_name ?? job.inspector ?? '' })} />}
          {job.findings && <p>{job.findings}</p>}
        </section>
      )}
    </section>
  );
}
