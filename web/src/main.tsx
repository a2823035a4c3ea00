import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { get, sessionStore, signIn, signOut, streamState, type Role } from './api.js';
import { setLocale, timeZoneStore, useI18n, type MessageKey } from './i18n.js';
import { startLive, siteStore } from './live.js';
import { viewsFor, type View } from './roles.js';
import { useStore } from './store.js';
import type { SiteGeometry } from './types.js';
import { AlertDetail, AlertsView } from './views/alerts.js';
import { BerthsView } from './views/berths.js';
import { CamerasView, LiveCameraView } from './views/cameras.js';
import { ChartView } from './views/chart.js';
import { DispatchView } from './views/dispatch.js';
import { DrawView } from './views/draw.js';
import { InspectorView } from './views/inspector.js';
import { RiskView } from './views/risk.js';
import './style.css';

function useRoute(): string[] {
  const read = () => location.hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  const [route, setRoute] = useState(read);
  useEffect(() => {
    const on = () => setRoute(read());
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return route;
}

function SignIn() {
  const { t } = useI18n();
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const me = await get<{ role: Role; name?: string; inspector_id?: string | null }>('/api/me', token.trim());
      signIn({ token: token.trim(), role: me.role, name: me.name ?? me.role, inspector_id: me.inspector_id ?? null });
    } catch (err) {
      setError(t('signin.refused', { reason: err instanceof Error ? err.message : String(err) }));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="signin">
      <form onSubmit={submit} aria-labelledby="signin-title">
        <h1 id="signin-title">{t('app.title')}</h1>
        <label for="token">{t('signin.token')}</label>
        <input id="token" type="password" autoComplete="off" value={token} onInput={(e) => setToken((e.target as HTMLInputElement).value)} required />
        <p class="hint">{t('signin.hint')}</p>
        {error && <p role="alert" class="error">{error}</p>}
        <button type="submit" disabled={busy || !token.trim()}>{t('signin.submit')}</button>
        <LanguageSwitch />
      </form>
    </main>
  );
}

function LanguageSwitch() {
  const { locale, t } = useI18n();
  return (
    <button type="button" class="lang" onClick={() => setLocale(locale === 'zh-CN' ? 'en' : 'zh-CN')} aria-label={t('lang.switch')} data-testid="lang-switch">
      {locale === 'zh-CN' ? 'English' : '中文'}
    </button>
  );
}

const VIEW_LABEL: Record<View, MessageKey> = {
  chart: 'nav.chart',
  alerts: 'nav.alerts',
  cameras: 'nav.cameras',
  berths: 'nav.berths',
  dispatch: 'nav.dispatch',
  risk: 'nav.risk',
  inspector: 'nav.inspector',
};

function Shell() {
  const session = useStore(sessionStore)!;
  const site = useStore(siteStore);
  const stream = useStore(streamState);
  const { t } = useI18n();
  const route = useRoute();
  const views = viewsFor(session.role);
  const view = (views.includes(route[0] as View) ? route[0] : views[0]) as View | undefined;

  useEffect(() => {
    let stop: (() => void) | null = null;
    get<SiteGeometry>('/api/site')
      .then((s) => {
        siteStore.set(s);
        timeZoneStore.set(s.site.timezone);
      })
      .catch(() => undefined);
    stop = startLive(session.role);
    return () => stop?.();
  }, [session.token]);

  return (
    <div class="shell">
      <a class="skip" href="#main">{t('nav.skip')}</a>
      <header>
        <strong class="brand">{site?.site.name ?? t('app.title')}</strong>
        <nav aria-label={t('nav.label')}>
          {views.map((v) => (
            <a key={v} href={`#/${v}`} aria-current={v === view ? 'page' : undefined}>
              {t(VIEW_LABEL[v])}
            </a>
          ))}
        </nav>
        {session.role !== 'inspector' && session.role !== 'enterprise' && (
          <span class={`stream stream-${stream}`} title={t(`stream.${stream}` as MessageKey)} aria-live="polite">
            {t(`stream.${stream}` as MessageKey)}
          </span>
        )}
        <span class="who">{t('who', { name: session.name, role: t(`role.${session.role}` as MessageKey) })}</span>
        <LanguageSwitch />
        <button type="button" onClick={signOut}>{t('signout')}</button>
      </header>
      <main id="main" tabIndex={-1}>
        {!view ? <p>{t('nav.nothing')}</p> : <Page view={view} args={route.slice(1)} />}
      </main>
    </div>
  );
}

function Page({ view, args }: { view: View; args: string[] }) {
  switch (view) {
    case 'chart':
      return <ChartView />;
    case 'alerts':
      return args[0] ? <AlertDetail id={args[0]} /> : <AlertsView />;
    case 'cameras':
      return args[0] ? <LiveCameraView id={args[0]} /> : <CamerasView />;
    case 'berths':
      return <BerthsView />;
    case 'dispatch':
      return args[0] === 'draws' && args[1] ? <DrawView id={args[1]} /> : <DispatchView />;
    case 'risk':
      return <RiskView mmsi={args[0] ?? null} />;
    case 'inspector':
      return <InspectorView job={args[0] ?? null} />;
  }
}

function App() {
  const session = useStore(sessionStore);
  useI18n();
  return session ? <Shell /> : <SignIn />;
}

document.documentElement.lang = localStorage.getItem('portwatch.locale') ?? 'zh-CN';
render(<App />, document.getElementById('app')!);
