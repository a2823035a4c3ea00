import { useEffect, useRef, useState } from 'preact/hooks';
import { blobUrl, get, sessionStore } from '../api.js';
import { useI18n, type MessageKey } from '../i18n.js';
import { LivePlayer } from '../live-player.js';
import { cameraTick, siteStore } from '../live.js';
import { may } from '../roles.js';
import { useStore } from '../store.js';

/** One camera of GET /api/cameras. */
export interface CameraStatus {
  id: string;
  name: string;
  kind: string;
  enabled: boolean;
  state: string;
  reason?: string | null;
  since?: string | null;
  last_frame_at?: string | null;
}

export function CamerasView() {
  const { t, time } = useI18n();
  const tick = useStore(cameraTick);
  const [cams, setCams] = useState<CameraStatus[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [filter, setFilter] = useState('');
  useEffect(() => {
    get<CameraStatus[] | { cameras: CameraStatus[] }>('/api/cameras')
      .then((r) => setCams(Array.isArray(r) ? r : r.cameras))
      .catch((e: Error) => setError(e.message));
  }, [tick]);
  if (!cams) return <p>{error ?? t('loading')}</p>;
  const shown = cams.filter((c) => !filter || `${c.id} ${c.name}`.toLowerCase().includes(filter.toLowerCase()));
  return (
    <section aria-labelledby="cams-title">
      <div class="toolbar">
        <h1 id="cams-title">{t('cameras.title', { n: cams.length })}</h1>
        <input type="search" placeholder={t('cameras.filter')} aria-label={t('cameras.filter')} value={filter} onInput={(e) => setFilter((e.target as HTMLInputElement).value)} />
      </div>
      <ul class="camera-grid" data-testid="camera-grid">
        {shown.map((c) => (
          <li key={c.id} class={`camera health-${c.state}`}>
            {c.kind === 'body_worn' ? (
              // A body-worn recorder is watched from its inspector's open job on the dispatch board, not from here.
              <div class="tile" data-camera={c.id}>
                <div class="no-still" aria-hidden="true" />
                <span class="name">{c.name}</span>
                <span class="health">{t('cameras.body_worn')}</span>
              </div>
            ) : (
              <a href={`#/cameras/${encodeURIComponent(c.id)}`}>
                {c.enabled ? <Still src={`/api/live/${encodeURIComponent(c.id)}/still`} alt={t('cameras.still', { name: c.name })} /> : <div class="no-still" aria-hidden="true" />}
                <span class="name">{c.name}</span>
                <span class="health" title={c.reason ?? ''}>
                  {t(`health.${c.state}` as MessageKey)}
                  {c.last_frame_at ? ` · ${t('cameras.last_frame', { t: time(c.last_frame_at) })}` : ''}
                </span>
              </a>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}

/** A recent still, fetched once the tile scrolls into view (a grid of 284 cameras must not ask for all at once). */
function Still({ src, alt }: { src: string; alt: string }) {
  const box = useRef<HTMLDivElement>(null);
  const [url, setUrl] = useState<string | null>(null);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    let made: string | null = null;
    let cancelled = false;
    const io = new IntersectionObserver((entries) => {
      if (!entries.some((e) => e.isIntersecting)) return;
      io.disconnect();
      blobUrl(src)
        .then((u) => (cancelled ? URL.revokeObjectURL(u) : setUrl((made = u))))
        .catch(() => !cancelled && setFailed(true));
    });
    io.observe(box.current!);
    return () => {
      cancelled = true;
      io.disconnect();
      if (made) URL.revokeObjectURL(made);
    };
  }, [src]);
  return <div ref={box} class="still">{url ? <img src={url} alt={alt} /> : <div class={`no-still${failed ? ' failed' : ''}`} aria-hidden="true" />}</div>;
}

export function LiveCameraView({ id }: { id: string }) {
  const { t } = useI18n();
  const site = useStore(siteStore);
  const session = useStore(sessionStore);
  const cam = site?.cameras.find((c) => c.id === id);
  return (
    <section aria-labelledby="live-title">
      <p>
        <a href="#/cameras">{t('back')}</a>
      </p>
      <h1 id="live-title">{cam?.name ?? id}</h1>
      {may(session?.role, 'camera.live') ? <LivePlayer camera={id} label={t('live.of', { name: cam?.name ?? id })} /> : <p>{t('live.not_allowed')}</p>}
    </section>
  );
}
