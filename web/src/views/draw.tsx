import { useEffect, useState } from 'preact/hooks';
import { get } from '../api.js';
import { useI18n } from '../i18n.js';

/** GET /api/public/draws/:id: the closed draw's public record, and the server's recomputation of it. */
interface PublishedDraw {
  id: string;
  kind: 'target' | 'inspector' | string;
  opened_at: string;
  closed_at: string;
  seed_sha256: string;
  candidates_sha256: string | null;
  record: {
    algorithm?: string;
    seed?: string;
    subject?: string;
    rates?: Record<string, number>;
    selected?: string[];
    /** Target draws: the list the seed was run over. Inspector draws: eligible inspectors with their workload. */
    candidate_list?: { id: string; profile?: string }[];
    candidates?: number | { id: string; workload: number }[];
    excluded?: { id: string; reason: string }[];
  } | null;
  verification: { ok: boolean; problems: string[] };
}

/**
 * How a draw was made, for anyone to check: the seed's commitment published
 * before the list closed, the seed revealed after, the candidates, what the
 * seed selected, and whether all of it recomputes (the server runs the same
 * algorithm over the record; `portwatch draw verify` does it offline).
 */
export function DrawView({ id }: { id: string }) {
  const { t, dateTime } = useI18n();
  const [draw, setDraw] = useState<PublishedDraw | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    get<PublishedDraw>(`/api/public/draws/${encodeURIComponent(id)}`)
      .then(setDraw)
      .catch((e: Error) => setError(e.message));
  }, [id]);
  if (!draw) return <p>{error ?? t('loading')}</p>;
  const rec = draw.record ?? {};
  const selected = new Set(rec.selected ?? []);
  const targets = rec.candidate_list ?? [];
  const inspectors = Array.isArray(rec.candidates) ? rec.candidates : [];
  return (
    <section aria-labelledby="draw-title" class="draw">
      <p>
        <a href="#/dispatch">{t('back')}</a>
      </p>
      <h1 id="draw-title">{t(draw.kind === 'inspector' ? 'draw.title_inspector' : 'draw.title_target')}</h1>
      <p class={draw.verification.ok ? 'verified' : 'error'} role="status" data-testid="draw-verdict">
        {draw.verification.ok ? t('draw.verified') : t('draw.not_verified')}
      </p>
      {draw.verification.problems.length > 0 && (
        <ul class="error" data-testid="draw-problems">
          {draw.verification.problems.map((p) => (
            <li>{p}</li>
          ))}
        </ul>
      )}
      <dl class="draw-record">
        <dt>{t('draw.id')}</dt>
        <dd>
          <code>{draw.id}</code>
        </dd>
        <dt>{t('draw.committed')}</dt>
        <dd>
          {dateTime(draw.opened_at)} · SHA-256 <code data-testid="draw-commitment">{draw.seed_sha256}</code>
        </dd>
        <dt>{t('draw.revealed')}</dt>
        <dd>
          {dateTime(draw.closed_at)} · <code data-testid="draw-seed">{rec.seed ?? '—'}</code>
        </dd>
        <dt>{t('draw.candidates_hash')}</dt>
        <dd>
          <code>{draw.candidates_sha256 ?? '—'}</code>
        </dd>
        {rec.subject && (
          <>
            <dt>{t('draw.subject')}</dt>
            <dd>
              <code>{rec.subject}</code>
            </dd>
          </>
        )}
        {rec.rates && (
          <>
            <dt>{t('draw.rates')}</dt>
            <dd>
              {Object.entries(rec.rates)
                .map(([profile, rate]) => `${profile} ${Math.round(rate * 1000) / 10} %`)
                .join(' · ')}
            </dd>
          </>
        )}
        <dt>{t('draw.algorithm')}</dt>
        <dd class="muted">{rec.algorithm ?? '—'}</dd>
      </dl>
      <h2>{t('draw.candidates', { n: draw.kind === 'inspector' ? inspectors.length : targets.length })}</h2>
      <div class="table-wrap">
        <table class="board" data-testid="draw-candidates">
          <thead>
            <tr>
              <th scope="col">{t('draw.candidate')}</th>
              <th scope="col">{t(draw.kind === 'inspector' ? 'draw.workload' : 'draw.profile')}</th>
              <th scope="col">{t('draw.selection')}</th>
            </tr>
          </thead>
          <tbody>
            {(draw.kind === 'inspector' ? inspectors.map((c) => ({ id: c.id, value: String(c.workload) })) : targets.map((c) => ({ id: c.id, value: c.profile ?? '—' }))).map((c) => (
              <tr key={c.id} class={selected.has(c.id) ? 'selected' : ''} data-candidate={c.id}>
                <td>
                  <code>{c.id}</code>
                </td>
                <td>{c.value}</td>
                <td>{selected.has(c.id) ? t('draw.selected') : ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {(rec.excluded ?? []).length > 0 && (
        <>
          <h2>{t('draw.excluded')}</h2>
          <ul>
            {rec.excluded!.map((x) => (
              <li>
                <code>{x.id}</code>: {x.reason}
              </li>
            ))}
          </ul>
        </>
      )}
      <p>
        <a href={`/api/public/draws/${encodeURIComponent(draw.id)}`} download={`draw-${draw.id}.json`}>
          {t('draw.record')}
        </a>
      </p>
    </section>
  );
}
