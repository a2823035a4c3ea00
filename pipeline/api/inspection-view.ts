import { z } from 'zod';
import type { Inspection } from '../dispatch/index.js';

export const inspectionSchema = z.object({
  id: z.string(),
  created_at: z.string(),
  target_kind: z.string(),
  target: z.string(),
  mmsi: z.number().nullable(),
  imo: z.number().nullable(),
  vessel_name: z.string().nullable(),
  company: z.string().nullable(),
  berth: z.string().nullable(),
  risk_level: z.string().nullable(),
  alert_id: z.string().nullable(),
  severity: z.string().nullable(),
  priority: z.number(),
  skills: z.array(z.string()),
  state: z.string(),
  inspector: z.string().nullable(),
  assigned_at: z.string().nullable(),
  ack_deadline: z.string().nullable(),
  acknowledged_at: z.string().nullable(),
  result: z.string().nullable(),
  outcome: z.string().nullable(),
  findings: z.array(z.object({ code: z.string().optional(), text: z.string() })),
  photos: z.array(z.string()).describe('URLs of the photos, served by inspection and index'),
  clips: z.array(z.string()).describe("URLs of the inspector's body-worn recording while the job was open (MP4), kept with the result"),
  completed_at: z.string().nullable(),
  updated_at: z.string(),
  target_draw_id: z.string().nullable().describe('the draw that selected the target (null for an alert): its record at /api/public/draws/:id'),
  inspector_draw_id: z.string().nullable().describe('the draw that chose the inspector: its record at /api/public/draws/:id'),
});

/** The body-worn recording kept with the result (relative to the data folder). */
export const bodyWornClips = (i: Pick<Inspection, 'details'>): string[] => {
  const c = i.details?.body_worn_clips;
  return Array.isArray(c) ? c.filter((x): x is string => typeof x === 'string') : [];
};

const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);

/** An inspection for operators and its inspector: photos as URLs, never stored paths. */
export function inspectionView(i: Inspection): z.infer<typeof inspectionSchema> {
  return {
    id: i.id,
    created_at: new Date(i.created_at).toISOString(),
    target_kind: i.target_kind,
    target: i.target,
    mmsi: i.mmsi,
    imo: i.imo,
    vessel_name: i.vessel_name,
    company: i.company,
    berth: i.berth,
    risk_level: i.risk_level,
    alert_id: i.alert_id,
    severity: i.severity,
    priority: i.priority,
    skills: i.skills,
    state: i.state,
    inspector: i.inspector,
    assigned_at: iso(i.assigned_at),
    ack_deadline: iso(i.ack_deadline),
    acknowledged_at: iso(i.acknowledged_at),
    result: i.result,
    outcome: i.outcome,
    findings: i.findings.map((f) => ({ ...(f.code ? { code: f.code } : {}), text: f.text })),
    photos: i.photos.map((_, n) => `/api/inspections/${i.id}/photos/${n}`),
    clips: bodyWornClips(i).map((_, n) => `/api/inspections/${i.id}/clips/${n}`),
    completed_at: iso(i.completed_at),
    updated_at: new Date(i.updated_at).toISOString(),
    target_draw_id: i.target_draw_id,
    inspector_draw_id: i.inspector_draw_id,
  };
}
