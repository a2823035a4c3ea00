import { useEffect, useState } from 'preact/hooks';
import { get, send, sessionStore } from '../api.js';
import { useI18n, type MessageKey } from '../i18n.js';
import { dispatchTick } from '../live.js';
import { may } from '../roles.js';
import { useStore } from '../store.js';
import { awaitingAck, Countdown, targetLabel, type Inspection } from './dispatch.js';

/** The inspector's page, laid out for a phone: my jobs, acknowledge, record the result. */
export function InspectorView({ job }: { job: string | null }) {
  const { t } = useI18n();
  const tick = useStore(dispatchTick);
  const [jobs, setJobs] = useState<Inspection[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [reload, setReload] = useState(0);
  useEffect(() => {
    get<{ inspections: Inspection[] }>('/api/inspector/jobs')
      .then((r) => setJobs(r.inspections))
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
              <strong>{targetLabel(j)}</strong>
              <span>
                {t(`job.${j.state}` as MessageKey)}
                {j.berth ? ` · ${j.berth}` : ''}
              </span>
              {awaitingAck(j) && <Countdown until={j.ack_deadline} />}
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
  const [result, setResult] = useState<'pass' | 'fail'>('pass');
  const [outcome, setOutcome] = useState<'released' | 'held'>('released');
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
      form.set('result', result);
      form.set('outcome', outcome);
      // One finding per line of the text box.
      form.set('findings', JSON.stringify(findings.split('\n').map((l) => l.trim()).filter(Boolean).map((text) => ({ text }))));
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
      <h1 id="job-title">{targetLabel(job)}</h1>
      <p data-testid="job-state">
        {t(`job.${job.state}` as MessageKey)} {awaitingAck(job) && <Countdown until={job.ack_deadline} />}
      </p>
      {job.berth && <p>{t('inspector.berth', { berth: job.berth })}</p>}
      {canRecord && awaitingAck(job) && (
        <button type="button" class="primary big" onClick={acknowledge} data-testid="job-ack">
          {t('inspector.ack')}
        </button>
      )}
      {canRecord && job.state === 'acknowledged' && (
        <form onSubmit={submit} class="result-form">
          <label for="photos">{t('inspector.photos')}</label>
          <input id="photos" type="file" accept="image/*" capture="environment" multiple data-testid="photos" onChange={(e) => setPhotos([...((e.target as HTMLInputElement).files ?? [])])} />
          {photos.length > 0 && <p>{t('inspector.photo_count', { n: photos.length })}</p>}
          <label for="findings">{t('inspector.findings')}</label>
          <textarea id="findings" rows={5} value={findings} placeholder={t('inspector.findings_hint')} onInput={(e) => setFindings((e.target as HTMLTextAreaElement).value)} />
          <fieldset>
            <legend>{t('inspector.result')}</legend>
            <label>
              <input type="radio" name="result" checked={result === 'pass'} onChange={() => setResult('pass')} /> {t('inspector.pass')}
            </label>
            <label>
              <input type="radio" name="result" checked={result === 'fail'} onChange={() => setResult('fail')} /> {t('inspector.fail')}
            </label>
          </fieldset>
          <fieldset>
            <legend>{t('inspector.outcome')}</legend>
            <label>
              <input type="radio" name="outcome" checked={outcome === 'released'} onChange={() => setOutcome('released')} /> {t('inspector.released')}
            </label>
            <label>
              <input type="radio" name="outcome" checked={outcome === 'held'} onChange={() => setOutcome('held')} data-testid="outcome-held" /> {t('inspector.held')}
            </label>
          </fieldset>
          <button type="submit" class="primary big" disabled={busy} data-testid="submit-result">
            {t('inspector.submit')}
          </button>
        </form>
      )}
      {job.state === 'completed' && (
        <p data-testid="job-outcome">
          {job.result ? t(`inspector.${job.result}` as MessageKey) : ''}
          {job.outcome ? ` · ${t(`inspector.${job.outcome}` as MessageKey)}` : ''}
          {(job.photos ?? []).length > 0 ? ` · ${t('inspector.photo_count', { n: job.photos!.length })}` : ''}
        </p>
      )}
      {msg && <p role="status">{msg}</p>}
      {error && <p role="alert" class="error">{error}</p>}
    </section>
  );
}
