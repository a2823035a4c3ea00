import { useEffect, useState } from 'preact/hooks';
import { blobUrl, get, send, sessionStore } from '../api.js';
import { useI18n, type MessageKey } from '../i18n.js';
import { alertsStore, arrivedStore, siteStore, upsertAlert } from '../live.js';
import { may } from '../roles.js';
import { useStore } from '../store.js';
import type { Alert, Point } from '../types.js';

const SOUND_KEY = 'portwatch.sound';

/** A short two-tone chime made on the spot: no sound file to fetch. */
function chime(): void {
  try {
    const ctx = new AudioContext();
    const o = ctx.createOscillator();
    const g = ctx.createGain();
    o.frequency.setValueAtTime(880, ctx.currentTime);
    o.frequency.setValueAtTime(660, ctx.currentTime + 0.18);
    g.gain.setValueAtTime(0.15, ctx.currentTime);
    g.gain.exponentialRampToValueAtTime(0.001, ctx.currentTime + 0.5);
    o.connect(g).connect(ctx.destination);
    o.start();
    o.stop(ctx.currentTime + 0.5);
    o.onended = () => void ctx.close();
  } catch {
    /* no audio device: the colour is still there */
  }
}

export function AlertsView() {
  const { t, dateTime } = useI18n();
  const alerts = useStore(alertsStore);
  const arrived = useStore(arrivedStore);
  const [sound, setSound] = useState(localStorage.getItem(SOUND_KEY) === 'on');
  const [show, setShow] = useState<'active' | 'all'>('active');
  useEffect(() => {
    if (sound && arrived && arrived.severity === 'critical') chime();
  }, [arrived]);
  const shown = alerts.filter((a) => show === 'all' || a.state === 'open' || a.state === 'acknowledged' || a.state === 'dispatched');
  return (
    <section class="alerts" aria-labelledby="alerts-title">
      <div class="toolbar">
        <h1 id="alerts-title">{t('alerts.title', { n: shown.length })}</h1>
        <label>
          <input type="checkbox" checked={show === 'all'} onChange={(e) => setShow((e.target as HTMLInputElement).checked ? 'all' : 'active')} /> {t('alerts.show_all')}
        </label>
        <label>
          <input
            type="checkbox"
            checked={sound}
            onChange={(e) => {
              const on = (e.target as HTMLInputElement).checked;
              localStorage.setItem(SOUND_KEY, on ? 'on' : 'off');
              setSound(on);
            }}
          />{' '}
          {t('alerts.sound')}
        </label>
      </div>
      {shown.length === 0 ? (
        <p class="empty">{t('alerts.none')}</p>
      ) : (
        <ol class="alert-list" data-testid="alert-list" aria-live="polite">
          {shown.map((a) => (
            <li key={a.id} class={`alert prio-${a.severity} state-${a.state}`} data-alert-id={a.id}>
              <a href={`#/alerts/${encodeURIComponent(a.id)}`} class="alert-main">
                <span class="prio">{t(`prio.${a.severity}` as MessageKey)}</span>
                <span class="what">{alertTitle(a, t)}</span>
                <span class="where">{[a.camera, a.zone, a.berth, a.mmsi].filter(Boolean).join(' · ')}</span>
                <time dateTime={a.created_at}>{dateTime(a.created_at)}</time>
                <span class="state">
                  {t(`state.${a.state}` as MessageKey)}
                  {a.shelved ? ` · ${t('state.shelved')}` : ''}
                </span>
              </a>
              <AlertActions alert={a} compact />
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}

export function alertTitle(a: Alert, t: (k: MessageKey, p?: Record<string, string | number>) => string): string {
  return t(`kind.${a.kind}` as MessageKey);
}

export function AlertActions({ alert, compact = false }: { alert: Alert; compact?: boolean }) {
  const { t } = useI18n();
  const session = useStore(sessionStore);
  const [mode, setMode] = useState<null | 'shelve' | 'resolve'>(null);
  const [reason, setReason] = useState('');
  const [minutes, setMinutes] = useState(60);
  const [comment, setComment] = useState('');
  const [outcome, setOutcome] = useState<'resolved' | 'false_alarm'>('resolved');
  const [error, setError] = useState<string | null>(null);
  if (!may(session?.role, 'alert.act')) return null;
  const act = async (path: string, body: unknown) => {
    setError(null);
    try {
      const updated = await send<Alert | { alert: Alert }>('POST', `/api/alerts/${encodeURIComponent(alert.id)}/${path}`, body);
      const a = updated && 'alert' in updated ? updated.alert : updated;
      if (a && (a as Alert).id) upsertAlert({ ...alert, ...(a as Alert) });
      setMode(null);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  };
  const closed = alert.state === 'resolved' || alert.state === 'false_alarm';
  if (closed) return null;
  return (
    <div class={`actions${compact ? ' compact' : ''}`}>
      {alert.state === 'open' && (
        <button type="button" class="primary" onClick={() => act('ack', {})} data-testid="ack" aria-label={t('alerts.ack_one', { what: t(`kind.${alert.kind}` as MessageKey) })}>
          {t('alerts.ack')}
        </button>
      )}
      <button type="button" onClick={() => setMode(mode === 'shelve' ? null : 'shelve')} aria-expanded={mode === 'shelve'}>
        {t('alerts.shelve')}
      </button>
      <button type="button" onClick={() => setMode(mode === 'resolve' ? null : 'resolve')} aria-expanded={mode === 'resolve'}>
        {t('alerts.close')}
      </button>
      {mode === 'shelve' && (
        <form
          class="inline-form"
          onSubmit={(e) => {
            e.preventDefault();
            void act('shelve', { reason, minutes });
          }}
        >
          <label>
            {t('alerts.reason')} <input required value={reason} onInput={(e) => setReason((e.target as HTMLInputElement).value)} data-testid="shelve-reason" />
          </label>
          <label>
            {t('alerts.minutes')}{' '}
            <select value={String(minutes)} onChange={(e) => setMinutes(Number((e.target as HTMLSelectElement).value))}>
              {[15, 60, 120, 240, 480].map((m) => (
                <option value={String(m)}>{t('alerts.for_minutes', { n: m })}</option>
              ))}
            </select>
          </label>
          <button type="submit" data-testid="shelve-submit">{t('alerts.shelve')}</button>
        </form>
      )}
      {mode === 'resolve' && (
        <form
          class="inline-form"
          onSubmit={(e) => {
            e.preventDefault();
            void act('resolve', { false_alarm: outcome === 'false_alarm', comment });
          }}
        >
          <label>
            <input type="radio" name={`o-${alert.id}`} checked={outcome === 'resolved'} onChange={() => setOutcome('resolved')} /> {t('state.resolved')}
          </label>
          <label>
            <input type="radio" name={`o-${alert.id}`} checked={outcome === 'false_alarm'} onChange={() => setOutcome('false_alarm')} /> {t('state.false_alarm')}
          </label>
          <label>
            {t('alerts.comment')} <input required value={comment} onInput={(e) => setComment((e.target as HTMLInputElement).value)} data-testid="close-comment" />
          </label>
          <button type="submit" data-testid="close-submit">{t('alerts.close')}</button>
        </form>
      )}
      {error && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
    </div>
  );
}

export function AlertDetail({ id }: { id: string }) {
  const { t, dateTime } = useI18n();
  const site = useStore(siteStore);
  const fromList = useStore(alertsStore).find((a) => a.id === id);
  const [alert, setAlert] = useState<Alert | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    get<Alert | { alert: Alert }>(`/api/alerts/${encodeURIComponent(id)}`)
      .then((r) => setAlert('alert' in r ? r.alert : r))
      .catch((e: Error) => setError(e.message));
  }, [id, fromList?.state]);
  const a = alert ? { ...alert, ...(fromList ? { state: fromList.state } : {}) } : fromList;
  if (!a) return <p>{error ?? t('loading')}</p>;
  const camera = site?.cameras.find((c) => c.id === a.camera);
  const zone = camera?.zones?.find((z) => z.id === a.zone)?.polygon ?? null;
  const tripwire = camera?.tripwires?.find((w) => w.id === a.zone)?.line ?? null;
  const objects = a.objects ?? [];
  const scores = objects.map((o) => o.score).filter((x): x is number => x != null);
  const score = scores.length ? Math.max(...scores) : null;
  // Each object's snapshot, with that object's track path drawn over it; an
  // alert read from the live list (no objects yet) still shows its snapshots.
  const snapshots = objects.some((o) => o.snapshot) ? objects.filter((o) => o.snapshot) : (a.snapshots ?? []).map((s) => ({ snapshot: s, event: '' }));
  return (
    <article class={`alert-detail prio-${a.severity}`} aria-labelledby="alert-title">
      <p>
        <a href="#/alerts">{t('back')}</a>
      </p>
      <h1 id="alert-title">
        <span class="prio">{t(`prio.${a.severity}` as MessageKey)}</span> {alertTitle(a, t)} <span class="state">{t(`state.${a.state}` as MessageKey)}</span>
      </h1>
      <AlertActions alert={a} />
      <div class="detail-grid">
        <section aria-labelledby="why">
          <h2 id="why">{t('alert.why')}</h2>
          <dl>
            <dt>{t('alert.rule')}</dt>
            <dd data-testid="alert-rule">{a.rule}</dd>
            <dt>{t('alert.event')}</dt>
            <dd>{t(`kind.${a.kind}` as MessageKey)}</dd>
            {a.camera && (
              <>
                <dt>{t('alert.camera')}</dt>
                <dd>{camera?.name ?? a.camera}</dd>
              </>
            )}
            {a.zone && (
              <>
                <dt>{t('alert.zone')}</dt>
                <dd>{camera?.zones?.find((z) => z.id === a.zone)?.name ?? a.zone}</dd>
              </>
            )}
            {score != null && (
              <>
                <dt>{t('alert.score')}</dt>
                <dd data-testid="alert-score">{score.toFixed(2)}</dd>
              </>
            )}
            {objects.length > 0 && (
              <>
                <dt>{t('alert.objects')}</dt>
                <dd>{objects.map((o) => [o.class, o.track != null ? `#${o.track}` : null].filter(Boolean).join(' ')).join(', ')}</dd>
              </>
            )}
            {a.mmsi != null && (
              <>
                <dt>{t('vessel.mmsi')}</dt>
                <dd>
                  <a href={`#/risk/${a.mmsi}`}>{a.mmsi}</a>
                </dd>
              </>
            )}
            <dt>{t('alert.raised')}</dt>
            <dd>{dateTime(a.created_at)}</dd>
            {a.shelved && a.shelved_until && (
              <>
                <dt>{t('alert.shelved_until')}</dt>
                <dd>
                  {dateTime(a.shelved_until)} {a.shelved_reason ? `(${a.shelved_reason})` : ''}
                </dd>
              </>
            )}
          </dl>
        </section>
        <section aria-labelledby="evidence">
          <h2 id="evidence">{t('alert.evidence')}</h2>
          {snapshots.length === 0 && <p class="empty">{t('alert.no_snapshot')}</p>}
          {snapshots.map((o, i) => (
            <Snapshot key={`${o.event}:${i}`} src={o.snapshot!} zone={zone} line={tripwire} path={a.track_paths?.find((p) => p.event === o.event)?.points ?? null} label={t('alert.snapshot', { n: i + 1 })} />
          ))}
          {a.clip && <Clip src={a.clip} label={t('alert.clip')} />}
        </section>
        <section aria-labelledby="procedure">
          <h2 id="procedure">{t('alert.procedure')}</h2>
          <Checklist id={a.id} steps={a.procedure ?? []} />
        </section>
        <section aria-labelledby="history">
          <h2 id="history">{t('alert.history')}</h2>
          <ol class="history">
            {(a.history ?? []).map((h) => (
              <li>
                <time dateTime={h.at}>{dateTime(h.at)}</time> {t(`action.${h.action}` as MessageKey)}
                {h.to_state ? ` → ${t(`state.${h.to_state}` as MessageKey)}` : ''}
                {h.by ? ` · ${h.by}` : ''}
                {h.comment ? ` — ${h.comment}` : ''}
              </li>
            ))}
          </ol>
        </section>
      </div>
    </article>
  );
}

function useBlob(src: string): string | null {
  const [url, setUrl] = useState<string | null>(null);
  useEffect(() => {
    let made: string | null = null;
    blobUrl(src)
      .then((u) => setUrl((made = u)))
      .catch(() => setUrl(null));
    return () => {
      if (made) URL.revokeObjectURL(made);
    };
  }, [src]);
  return url;
}

/**
 * The snapshot (its boxes are drawn into the JPEG by pipeline/snapshot) with
 * the zone or tripwire that raised the alert and the object's track path
 * (where its feet went, ending in a dot) drawn over it, in the image's
 * normalised coordinates.
 */
function Snapshot({ src, zone, line, path, label }: { src: string; zone: Point[] | null; line: [Point, Point] | null; path: Point[] | null; label: string }) {
  const url = useBlob(src);
  const [size, setSize] = useState<[number, number]>([16, 9]);
  return (
    <figure class="snapshot">
      <div class="overlay-box">
        {url && <img src={url} alt={label} data-testid="snapshot" onLoad={(e) => setSize([(e.target as HTMLImageElement).naturalWidth, (e.target as HTMLImageElement).naturalHeight])} />}
        <svg viewBox={`0 0 ${size[0]} ${size[1]}`} preserveAspectRatio="none" aria-hidden="true">
          {zone && <polygon class="zone" data-testid="snapshot-zone" points={zone.map(([x, y]) => `${x * size[0]},${y * size[1]}`).join(' ')} />}
          {line && <polyline class="zone" points={line.map(([x, y]) => `${x * size[0]},${y * size[1]}`).join(' ')} />}
          {path && path.length > 1 && (
            <>
              <polyline class="track" data-testid="snapshot-track" points={path.map(([x, y]) => `${x * size[0]},${y * size[1]}`).join(' ')} />
              <circle class="track-end" cx={path[path.length - 1]![0] * size[0]} cy={path[path.length - 1]![1] * size[1]} r={Math.max(3, size[0] / 160)} />
            </>
          )}
        </svg>
      </div>
      <figcaption>{label}</figcaption>
    </figure>
  );
}

/** A protected clip (alert evidence, a body-worn recording) in a player. */
export function Clip({ src, label }: { src: string; label: string }) {
  const url = useBlob(src);
  return (
    <figure class="clip">
      {url ? <video src={url} controls muted playsInline preload="auto" data-testid="clip" aria-label={label} /> : null}
      <figcaption>{label}</figcaption>
    </figure>
  );
}

/** The procedure as a checklist; ticks are the operator's own notes, kept in this browser. */
function Checklist({ id, steps }: { id: string; steps: string[] }) {
  const { t } = useI18n();
  const key = `portwatch.checklist.${id}`;
  const [done, setDone] = useState<number[]>(() => JSON.parse(localStorage.getItem(key) ?? '[]') as number[]);
  if (steps.length === 0) return <p class="empty">{t('alert.no_procedure')}</p>;
  return (
    <ol class="checklist">
      {steps.map((s, i) => (
        <li>
          <label>
            <input
              type="checkbox"
              checked={done.includes(i)}
              onChange={(e) => {
                const next = (e.target as HTMLInputElement).checked ? [...done, i] : done.filter((x) => x !== i);
                localStorage.setItem(key, JSON.stringify(next));
                setDone(next);
              }}
            />{' '}
            {s}
          </label>
        </li>
      ))}
    </ol>
  );
}
