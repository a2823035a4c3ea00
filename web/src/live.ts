import { followStream, get, type Role } from './api.js';
import { viewsFor } from './roles.js';
import { Store } from './store.js';
import type { Alert, SiteGeometry, Vessel } from './types.js';

/** Shared live state: loaded once after sign-in, then kept current by /api/stream. */
export const siteStore = new Store<SiteGeometry | null>(null);
export const alertsStore = new Store<Alert[]>([]);
export const vesselsStore = new Store<Map<number, Vessel>>(new Map());
/** Bumped when the stream says dispatch or inspections changed; views reload on it. */
export const dispatchTick = new Store<number>(0);
export const cameraTick = new Store<number>(0);
export const berthTick = new Store<number>(0);
/** The newest alert that arrived live (for the optional sound). */
export const arrivedStore = new Store<Alert | null>(null);

export function upsertAlert(a: Alert, live = false): void {
  alertsStore.update((list) => {
    const rest = list.filter((x) => x.id !== a.id);
    return [a, ...rest].sort((x, y) => (x.created_at < y.created_at ? 1 : x.created_at > y.created_at ? -1 : 0));
  });
  if (live && a.state === 'open') arrivedStore.set(a);
}

export function upsertVessel(v: Vessel): void {
  vesselsStore.update((m) => {
    const next = new Map(m);
    next.set(v.mmsi, { ...m.get(v.mmsi), ...v });
    return next;
  });
}

/** The API's alert as the page shows it (one place that knows the wire shape). */
export function normaliseAlert(a: Alert): Alert {
  return { ...a, created_at: a.created_at ?? a.first_at ?? '' };
}

export async function loadAlerts(): Promise<void> {
  const list = await get<Alert[] | { alerts: Alert[] }>('/api/alerts?limit=200');
  const alerts = (Array.isArray(list) ? list : list.alerts).map(normaliseAlert);
  alertsStore.set(alerts.sort((x, y) => (x.created_at < y.created_at ? 1 : -1)));
}

export async function loadVessels(): Promise<void> {
  const list = await get<Vessel[] | { vessels: Vessel[] }>('/api/vessels');
  const vessels = Array.isArray(list) ? list : list.vessels;
  vesselsStore.set(new Map(vessels.map((v) => [v.mmsi, v])));
}

/** How often vessel positions are read again: AIS reports every 2 to 10 s under way. */
const VESSEL_POLL_MS = 5000;
/** Roles without the board stream (inspectors) look for new jobs this often. */
const JOB_POLL_MS = 15_000;

export function startLive(role: Role): () => void {
  const views = viewsFor(role);
  const stops: Array<() => void> = [];
  if (views.includes('alerts')) void loadAlerts().catch(() => undefined);
  if (views.includes('chart')) {
    void loadVessels().catch(() => undefined);
    const i = setInterval(() => void loadVessels().catch(() => undefined), VESSEL_POLL_MS);
    stops.push(() => clearInterval(i));
  }
  if (role === 'inspector' || role === 'enterprise') {
    const i = setInterval(() => dispatchTick.update((n) => n + 1), JOB_POLL_MS);
    stops.push(() => clearInterval(i));
  } else {
    stops.push(
      followStream((m) => {
        const data = m.data as Record<string, unknown>;
        switch (m.event) {
          case 'alert':
            upsertAlert(normaliseAlert((data.alert ?? data) as Alert), true);
            break;
          case 'dispatch':
            dispatchTick.update((n) => n + 1);
            break;
          case 'camera':
            cameraTick.update((n) => n + 1);
            break;
          case 'berth':
            berthTick.update((n) => n + 1);
            break;
          case 'reset':
            // The stream was trimmed past what this page saw: reload the whole state.
            if (views.includes('alerts')) void loadAlerts().catch(() => undefined);
            dispatchTick.update((n) => n + 1);
            cameraTick.update((n) => n + 1);
            break;
        }
      }),
    );
  }
  return () => stops.forEach((s) => s());
}
