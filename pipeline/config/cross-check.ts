import type { Path } from './env.js';
import { isPlainObject, type Finding } from './expand.js';

/**
 * Checks that span sections: unique ids and references between sections.
 * They run on the expanded tree even when the schema found errors elsewhere,
 * so one `config check` reports everything at once; hence every access here is
 * defensive. Paths are on the expanded config.
 */

const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const idOf = (v: unknown): string | undefined => (isPlainObject(v) && typeof v.id === 'string' ? v.id : undefined);

/** `where(path)` describes a place for a message, e.g. "line 12". */
export function crossCheck(tree: unknown, where: (path: Path) => string): Finding[] {
  const out: Finding[] = [];
  if (!isPlainObject(tree)) return out;
  const err = (path: Path, message: string, code: Finding['code']) => out.push({ path, message, severity: 'error', code });

  const unique = (items: unknown[], base: Path, what: string): Map<string, number> => {
    const seen = new Map<string, number>();
    items.forEach((item, i) => {
      const id = idOf(item);
      if (id === undefined) return;
      const first = seen.get(id);
      if (first === undefined) seen.set(id, i);
      else err([...base, i, 'id'], `duplicate ${what} id "${id}" (first used at ${where([...base, first, 'id'])})`, 'duplicate');
    });
    return seen;
  };

  const cameras = list(tree.cameras);
  const berths = list(tree.berths);
  const alerts = isPlainObject(tree.alerts) ? tree.alerts : {};
  const cameraIds = unique(cameras, ['cameras'], 'camera');
  const berthIds = unique(berths, ['berths'], 'berth');
  unique(list(tree.feeds), ['feeds'], 'feed');
  const inspectorIds = unique(list(tree.inspectors), ['inspectors'], 'inspector');
  const routeIds = unique(list(alerts.routes), ['alerts', 'routes'], 'route');
  unique(list(alerts.rules), ['alerts', 'rules'], 'rule');

  // Zones and tripwires share one id space per camera: events name either as their `zone`.
  const rulesById = new Map<string, Set<string>>();
  cameras.forEach((camera, c) => {
    if (!isPlainObject(camera)) return;
    const seen = new Map<string, Path>();
    const ruleIds = new Set<string>();
    for (const section of ['zones', 'tripwires'] as const) {
      list(camera[section]).forEach((rule, i) => {
        const id = idOf(rule);
        if (id === undefined) return;
        const path: Path = ['cameras', c, section, i, 'id'];
        const first = seen.get(id);
        if (first) err(path, `duplicate zone/tripwire id "${id}" in camera "${idOf(camera) ?? c}" (first used at ${where(first)})`, 'duplicate');
        else seen.set(id, path);
        ruleIds.add(id);
      });
    }
    const id = idOf(camera);
    if (id !== undefined && !rulesById.has(id)) rulesById.set(id, ruleIds);
    const berth = camera.berth;
    if (typeof berth === 'string' && !berthIds.has(berth)) {
      err(['cameras', c, 'berth'], `berth "${berth}" is not defined in berths`, 'reference');
    }
    // A body-worn recorder belongs to an inspector: its live view opens from that inspector's job.
    const inspector = camera.inspector;
    if (camera.kind === 'body_worn' && inspector === undefined) err(['cameras', c, 'inspector'], 'a body_worn camera names the inspector who wears it (inspector: <id>)', 'reference');
    if (camera.kind !== 'body_worn' && inspector !== undefined) err(['cameras', c, 'inspector'], 'only a body_worn camera is linked to an inspector', 'reference');
    if (typeof inspector === 'string' && !inspectorIds.has(inspector)) err(['cameras', c, 'inspector'], `inspector "${inspector}" is not defined in inspectors`, 'reference');
  });

  const anyZone = new Set<string>();
  for (const ids of rulesById.values()) for (const z of ids) anyZone.add(z);

  list(alerts.rules).forEach((rule, r) => {
    if (!isPlainObject(rule)) return;
    const base: Path = ['alerts', 'rules', r];
    const listed = (key: string) => list(rule[key]).map((v, i) => ({ v, i })).filter((e): e is { v: string; i: number } => typeof e.v === 'string');
    const ruleCameras = listed('cameras');
    for (const { v, i } of ruleCameras) if (!cameraIds.has(v)) err([...base, 'cameras', i], `camera "${v}" is not defined`, 'reference');
    const scope = ruleCameras.filter(({ v }) => rulesById.has(v));
    for (const { v, i } of listed('zones')) {
      if (scope.length > 0) {
        if (!scope.some((c) => rulesById.get(c.v)!.has(v))) err([...base, 'zones', i], `zone or tripwire "${v}" is not defined on any of this rule's cameras`, 'reference');
      } else if (ruleCameras.length === 0 && !anyZone.has(v)) err([...base, 'zones', i], `zone or tripwire "${v}" is not defined on any camera`, 'reference');
    }
    for (const { v, i } of listed('berths')) if (!berthIds.has(v)) err([...base, 'berths', i], `berth "${v}" is not defined in berths`, 'reference');
    for (const { v, i } of listed('routes')) if (!routeIds.has(v)) err([...base, 'routes', i], `route "${v}" is not defined in alerts.routes`, 'reference');
  });

  return out;
}
