import type { AlertRule, AlertView, SiteConfig } from '../config/schema.js';
import type { PortEvent } from '../events/index.js';
import { compileSchedule, isArmed, localTime, type CompiledWindow } from '../zones/index.js';

/** What a rule needs to know about the site: camera kinds and berths, berth schedules, the time zone. */
export interface CompiledRule {
  rule: AlertRule;
  cooldownMs: number;
  /** Static filters (everything but min_score, which applies to an event's best score). */
  matches(event: PortEvent): boolean;
  /** True when an event at `time` on `berth` is suppressed by design. */
  suppressed(time: Date, berth: string | null): boolean;
}

export interface SiteIndex {
  cameraKind: Map<string, string>;
  cameraBerth: Map<string, string>;
  /** Per berth, the scheduled stays as [from, to) in ms. */
  berthSchedule: Map<string, Array<[number, number]>>;
  timeZone: string;
}

export function indexSite(site: Pick<SiteConfig, 'cameras' | 'berths' | 'site'>): SiteIndex {
  const cameraKind = new Map<string, string>();
  const cameraBerth = new Map<string, string>();
  for (const c of site.cameras) {
    cameraKind.set(c.id, c.kind);
    if (c.berth) cameraBerth.set(c.id, c.berth);
  }
  const berthSchedule = new Map<string, Array<[number, number]>>();
  for (const b of site.berths) berthSchedule.set(b.id, b.schedule.map((a) => [a.from.getTime(), a.to.getTime()]));
  return { cameraKind, cameraBerth, berthSchedule, timeZone: site.site.timezone };
}

/** The berth an event concerns: its own, or its camera's. */
export function eventBerth(event: PortEvent, site: SiteIndex): string | null {
  return event.berth ?? (event.camera ? (site.cameraBerth.get(event.camera) ?? null) : null);
}

export function compileRule(rule: AlertRule, site: SiteIndex): CompiledRule {
  const kinds = new Set<string>(rule.kinds);
  const cameras = rule.cameras ? new Set(rule.cameras) : null;
  const cameraKinds = rule.camera_kinds ? new Set<string>(rule.camera_kinds) : null;
  const zones = rule.zones ? new Set(rule.zones) : null;
  const berths = rule.berths ? new Set(rule.berths) : null;
  const windows: CompiledWindow[] = compileSchedule(rule.suppress?.windows, `alerts.rules.${rule.id}.suppress.windows`);
  const byBerth = rule.suppress?.berth_scheduled ?? false;
  return {
    rule,
    cooldownMs: rule.cooldown_seconds * 1000,
    matches(e) {
      if (!kinds.has(e.kind)) return false;
      if (cameras && !(e.camera && cameras.has(e.camera))) return false;
      if (cameraKinds && !(e.camera && cameraKinds.has(site.cameraKind.get(e.camera) ?? ''))) return false;
      if (zones && !(e.zone && zones.has(e.zone))) return false;
      if (berths) {
        const b = eventBerth(e, site);
        if (!b || !berths.has(b)) return false;
      }
      return true;
    },
    suppressed(time, berth) {
      if (windows.length > 0 && isArmed(windows, localTime(time, site.timeZone))) return true;
      if (byBerth && berth) {
        const t = time.getTime();
        for (const [from, to] of site.berthSchedule.get(berth) ?? []) if (t >= from && t < to) return true;
      }
      return false;
    },
  };
}

/** The view an alert belongs to: the first listed view that takes it, else `site`. */
export function viewOf(views: readonly AlertView[], a: { rule: string; camera: string | null; berth: string | null }, site: SiteIndex): string {
  for (const v of views) {
    if (v.rules && !v.rules.includes(a.rule)) continue;
    if (v.cameras && !(a.camera && v.cameras.includes(a.camera))) continue;
    if (v.camera_kinds && !(a.camera && (v.camera_kinds as string[]).includes(site.cameraKind.get(a.camera) ?? ''))) continue;
    if (v.berths && !(a.berth && v.berths.includes(a.berth))) continue;
    return v.id;
  }
  return 'site';
}
