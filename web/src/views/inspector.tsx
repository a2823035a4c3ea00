import { useEffect, useState } from 'preact/hooks';
import { get, send, sessionStore } from '../api.js';
import { useI18n, type MessageKey } from '../i18n.js';
import { dispatchTick } from '../live.js';
import { may } from '../roles.js';
import { useStore } from '../store.js';
import { Countdown, type Inspection } from './dispatch.js';

/** The inspector's page, laid out for a phone: my jobs, acknowledge, record the result. */
export function InspectorView({ job }: { job: string | null }) {
  const { t } = useI18n();
  const tick = useStore(dispatchTick);
  const [jobs, setJobs] = useState<Inspection[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [reload, setReload] = useState(0);
  useEffect(() => {
    get<Inspection[] | { inspections: Inspection[] }>('/api/inspector/jobs')
      .then((r) => setJobs(Array.isArray(r) ? r : r.inspections))
      .catch((e: Error) => setError(e.message));
  }, [tick, reload]);
  if (!jobs) return <p>{error ?? t('loading')}</p>;
  const one = job ? jobs.find((j) => j.id === job) : null;
  if (one) return <JobView job={one} done={() => setReload((n) => n + 1)} />;
  return (
    <section class="inspector" aria-labelledby="jobs-title">
      <h1 id="jobs-title">{t('inspector.title', { n: jobs.length })}</h1>
      {jobs.length === 0 && <p class="empty">{t('inspector.none')}</p>}
      <ul class="jobs" data-testid="jobs">
        {jobs.map((j) => (
          <li key={j.id}>
            <a href={`#/inspector/${encodeURIComponent(j.id)}`}>
              <strong>{j.target_name ?? j.target}</strong>
              <span>{t(`job.${j.status}` as MessageKey)}</span>
              {(j.status === 'drawn' || j.status === 'notified') && <Countdown until={j.ack_deadline} />}
            </a>
          </li>
        ))}
      </ul>
    </section>
  );
}

function JobView({ job, done }: { job: Inspection; done: () => void }) {
  const { t } = useI18n();
  const session = useStore(sessionStore);
  const [findings, setFindings] = useState('');
  const [outcome, setOutcome] = useState<'release' | 'hold'>('release');
  const [photos, setPhotos] = useState<File[]>([]);
  const [busy, setBusy] = useState(false);
  const [msg, setMsg] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const base = `/api/inspector/jobs/${encodeURIComponent(job.id)}`;
  const acknowledge = async () => {
    setError(null);
    try {
      await send('POST', `${base}/ack`, {});
      done();
    } catch (e) {
      setError((e as Error).message);
    }
  };
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const form = new FormData();
      form.set('outcome', outcome);
      form.set('findings', findings);
      for (const p of photos) form.append('photos', p, p.name);
      await send('POST', `${base}/result`, form);
      setMsg(t('inspector.saved'));
      done();
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  const canRecord = may(session?.role, 'inspection.record');
  return (
    <section class="inspector job" aria-labelledby="job-title">
      <p>
        <a href="#/inspector">{t('back')}</a>
      </p>
      <h1 id="job-title">{job.target_name ?? job.target}</h1>
      <p>
        {t(`job.${job.status}` as MessageKey)} {(job.status === 'drawn' || job.status === 'notified') && <Countdown until={job.ack_deadline} />}
      </p>
      {canRecord && (job.status === 'drawn' || job.status === 'notified') && (
        <button type="button" class="primary big" onClick={acknowledge} data-testid="job-ack">
          {t('inspector.ack')}
        </button>
      )}
      {canRecord && (job.status === 'acknowledged' || job.status === 'in_progress') && (
        <form onSubmit={submit} class="result-form">
          <label for="photos">{t('inspector.photos')}</label>
          <input id="photos" type="file" accept="image/*" capture="environment" multiple onChange={(e) => setPhotos([...((e.target as HTMLInputElement).files ?? [])])} />
          {photos.length > 0 && <p>{t('inspector.photo_count', { n: photos.length })}</p>}
          <label for="findings">{t('inspector.findings')}</label>
          <textarea id="findings" rows={5} value={findings} onInput={(e) => setFindings((e.target as HTMLTextAreaElement).value)} required />
          <fieldset>
            <legend>{t('inspector.outcome')}</legend>
            <label>
              <input type="radio" name="outcome" checked={outcome === 'release'} onChange={() => setOutcome('release')} /> {t('inspector.release')}
            </label>
            <label>
              <input type="radio" name="outcome" checked={outcome === 'hold'} onChange={() => setOutcome('hold')} /> {t('inspector.hold')}
            </label>
          </fieldset>
          <button type="submit" class="primary big" disabled={busy}>
            {t('inspector.submit')}
          </button>
        </form>
      )}
      {job.outcome && <p data-testid="job-outcome">{t(`inspector.${job.outcome}` as MessageKey)}</p>}
      {msg && <p role="status">{msg}</p>}
      {error && <p role="alert" class="error">{error}</p>}
    </section>
  );
}
