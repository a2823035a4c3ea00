import { useEffect, useRef, useState } from 'preact/hooks';
import { sessionStore } from './api.js';
import { useI18n } from './i18n.js';

/**
 * The codec string MSE needs, read from the init segment's avcC box
 * (profile, compatibility, level): the camera's own H.264, whatever it is.
 */
export function codecFromInit(bytes: Uint8Array): string | null {
  for (let i = 4; i + 8 < bytes.length; i++) {
    if (bytes[i] === 0x61 && bytes[i + 1] === 0x76 && bytes[i + 2] === 0x63 && bytes[i + 3] === 0x43) {
      const hex = (n: number) => n.toString(16).padStart(2, '0');
      return `avc1.${hex(bytes[i + 5]!)}${hex(bytes[i + 6]!)}${hex(bytes[i + 7]!)}`;
    }
  }
  return null;
}

/** Plays a camera's live fragmented MP4 (pipeline/live) with Media Source Extensions. */
export function LivePlayer({ camera, label }: { camera: string; label: string }) {
  const { t } = useI18n();
  const video = useRef<HTMLVideoElement>(null);
  const [state, setState] = useState<'connecting' | 'playing' | 'ended' | 'error'>('connecting');
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const el = video.current!;
    const abort = new AbortController();
    const ms = new MediaSource();
    el.src = URL.createObjectURL(ms);
    let sb: SourceBuffer | null = null;
    const queue: Uint8Array<ArrayBuffer>[] = [];
    let pending: Uint8Array<ArrayBuffer> = new Uint8Array(0);
    const pump = () => {
      if (!sb || sb.updating || queue.length === 0 || ms.readyState !== 'open') return;
      // Keep half a minute: a wall screen left open all night must not fill memory.
      if (el.buffered.length && el.currentTime - el.buffered.start(0) > 30) {
        sb.remove(el.buffered.start(0), el.currentTime - 10);
        return;
      }
      sb.appendBuffer(queue.shift()!);
    };
    const run = async () => {
      await new Promise<void>((r) => ms.addEventListener('sourceopen', () => r(), { once: true }));
      const token = sessionStore.get()?.token ?? '';
      const res = await fetch(`/api/live/${encodeURIComponent(camera)}`, { headers: { authorization: `Bearer ${token}` }, signal: abort.signal });
      if (!res.ok || !res.body) throw new Error(`${res.status} ${res.statusText}`);
      const reader = res.body.getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        if (!sb) {
          const joined = new Uint8Array(pending.length + value.length);
          joined.set(pending);
          joined.set(value, pending.length);
          pending = joined;
          const codec = codecFromInit(pending);
          if (!codec) continue;
          const type = `video/mp4; codecs="${codec}"`;
          if (!MediaSource.isTypeSupported(type)) throw new Error(t('live.unsupported', { type }));
          sb = ms.addSourceBuffer(type);
          sb.addEventListener('updateend', () => {
            // Stay live: jump forward when the player has fallen behind what arrived.
            if (el.buffered.length) {
              const end = el.buffered.end(el.buffered.length - 1);
              if (end - el.currentTime > 3) el.currentTime = end - 0.5;
            }
            pump();
          });
          queue.push(pending);
        } else queue.push(value);
        pump();
        if (state !== 'playing' && el.paused) void el.play().then(() => setState('playing')).catch(() => undefined);
      }
      setState('ended');
    };
    run().catch((err: Error) => {
      if (abort.signal.aborted) return;
      setError(err.message);
      setState('error');
    });
    return () => {
      abort.abort();
      URL.revokeObjectURL(el.src);
    };
  }, [camera]);
  return (
    <figure class="live">
      <video ref={video} muted autoPlay playsInline aria-label={label} data-testid="live-video" />
      <figcaption>
        {label} · {t(`live.${state}`)}
        {error && (
          <span role="alert" class="error">
            {' '}
            {error}
          </span>
        )}
      </figcaption>
    </figure>
  );
}
