import type { InspectorConfig } from '../config/index.js';
import { scheduleArmed } from '../zones/schedule.js';
import type { DispatchSettings } from './settings.js';
import type { InspectorCandidate } from './draw.js';

export interface InspectionNeeds {
  skills: readonly string[];
  company?: string | null;
  imo?: number | null;
  mmsi?: number | null;
  /** Inspectors who let this inspection's acknowledgement deadline pass. */
  passedBy?: readonly string[];
  /** Who inspected this company / vessel last (excluded when no_repeat). */
  lastForCompany?: string | null;
  lastForVessel?: string | null;
}

/**
 * Who may be drawn for an inspection at `at`: on duty (shifts in site time),
 * with every required skill, no conflict of interest, not the last inspector of
 * the same company or vessel, not one who let this one pass. Pure: the draw's
 * published `excluded` list is this function's second half.
 */
export function eligibleInspectors(
  roster: readonly InspectorConfig[],
  settings: DispatchSettings,
  timeZone: string,
  at: Date,
  needs: InspectionNeeds,
  workloads: ReadonlyMap<string, number>,
): { candidates: InspectorCandidate[]; excluded: Array<{ id: string; reason: string }> } {
  const candidates: InspectorCandidate[] = [];
  const excluded: Array<{ id: string; reason: string }> = [];
  for (const i of roster) {
    const reason = exclusion(i, settings, timeZone, at, needs);
    if (reason) excluded.push({ id: i.id, reason });
    else candidates.push({ id: i.id, workload: workloads.get(i.id) ?? 0 });
  }
  return { candidates, excluded };
}

function exclusion(i: InspectorConfig, settings: DispatchSettings, timeZone: string, at: Date, needs: InspectionNeeds): string | null {
  if (!scheduleArmed(i.shifts, at, timeZone)) return 'off duty';
  const missing = needs.skills.filter((s) => !(i.skills as readonly string[]).includes(s));
  if (missing.length) return `lacks ${missing.join(', ')}`;
  for (const c of settings.conflicts) {
    if (c.inspector !== i.id) continue;
    if (c.company !== undefined && needs.company && c.company === needs.company) return `conflict of interest with company ${c.company}${c.reason ? ` (${c.reason})` : ''}`;
    if (c.imo !== undefined && needs.imo && c.imo === needs.imo) return `conflict of interest with IMO ${c.imo}${c.reason ? ` (${c.reason})` : ''}`;
    if (c.mmsi !== undefined && needs.mmsi && c.mmsi === needs.mmsi) return `conflict of interest with MMSI ${c.mmsi}${c.reason ? ` (${c.reason})` : ''}`;
  }
  if (needs.passedBy?.includes(i.id)) return 'let the acknowledgement deadline pass';
  if (settings.no_repeat) {
    if (needs.lastForVessel === i.id) return 'inspected this vessel last time';
    if (needs.lastForCompany === i.id) return 'inspected this company last time';
  }
  return null;
}
