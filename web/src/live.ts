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

export async function loadAlerts(): Promise<void> {
  const list = await get<Alert[] | { alerts: Alert[] }>('/api/alerts?limit=200');
  const alerts = Array.isArray(list) ? list : list.alerts;
  alertsStore.set(alerts.slice().sort((x, y) => (x.created_at < y.created_at ? 1 : -1)));
}

export async function loadVessels(): Promise<void> {
  const list = await get<Vessel[] | { vessels: Vessel[] }>('/api/vessels');
  const vessels = Array.isArray(list) ? list : list.vessels;
  vesselsStore.set(new Map(vessels.map((v) => [v.mmsi, v])));
}

export function startLive(role: Role): () => void {
  const views = viewsFor(role);
  if (views.includes('alerts')) void loadAlerts().catch(() => undefined);
  if (views.includes('chart')) void loadVessels().catch(() => undefined);
  return followStream((m) => {
    const data = m.data as Record<string, unknown>;
    switch (m.event) {
      case 'alert':
        upsertAlert((data.alert ?? data) as Alert, true);
        break;
      case 'vessel':
      case 'position':
        upsertVessel((data.vessel ?? data) as Vessel);
        break;
      case 'dispatch':
      case 'inspection':
        dispatchTick.update((n) => n + 1);
        break;
      case 'camera':
      case 'camera_health':
        cameraTick.update((n) => n + 1);
        break;
    }
  });
}
