import { useEffect, useState } from 'preact/hooks';
import { blobUrl, get, sessionStore } from '../api.js';
import { useI18n, type MessageKey } from '../i18n.js';
import { LivePlayer } from '../live-player.js';
import { cameraTick, siteStore } from '../live.js';
import { may } from '../roles.js';
import { useStore } from '../store.js';

export interface CameraStatus {
  id: string;
  name?: string;
  kind?: string;
  health?: string | null;
  health_since?: string | null;
  still?: string | null;
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
  const shown = cams.filter((c) => !filter || `${c.id} ${c.name ?? ''}`.toLowerCase().includes(filter.toLowerCase()));
  return (
    <section aria-labelledby="cams-title">
      <div class="toolbar">
        <h1 id="cams-title">{t('cameras.title', { n: cams.length })}</h1>
        <input type="search" placeholder={t('cameras.filter')} aria-label={t('cameras.filter')} value={filter} onInput={(e) => setFilter((e.target as HTMLInputElement).value)} />
      </div>
      <ul class="camera-grid" data-testid="camera-grid">
        {shown.map((c) => (
          <li key={c.id} class={`camera health-${c.health ?? 'unknown'}`}>
            <a href={`#/cameras/${encodeURIComponent(c.id)}`}>
              <Still src={c.still ?? `/api/cameras/${encodeURIComponent(c.id)}/still`} alt={c.name ?? c.id} />
              <span class="name">{c.name ?? c.id}</span>
              <span class="health">
                {t(`health.${c.health ?? 'unknown'}` as MessageKey)}
                {c.health_since ? ` · ${time(c.health_since)}` : ''}
              </span>
            </a>
          </li>
        ))}
      </ul>
    </section>
  );
}

function Still({ src, alt }: { src: string; alt: string }) {
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
  return url ? <img src={url} alt={alt} loading="lazy" /> : <div class="no-still" aria-hidden="true" />;
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
