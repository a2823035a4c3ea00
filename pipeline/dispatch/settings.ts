import { z } from 'zod';
import { INSPECTOR_SKILLS } from '../config/schema.js';

const level = z.string().regex(/^[A-Z][A-Z0-9_]{0,15}$/, 'a risk level is an upper-case name such as HRS');
const rate = z.number('a rate is a number from 0 to 1').min(0, 'a rate runs from 0 to 1').max(1, 'a rate runs from 0 to 1');
// Lazy: config/schema.ts imports this file, and the skills list lives there.
const skill = z.lazy(() => z.enum(INSPECTOR_SKILLS, { error: `a skill is one of ${INSPECTOR_SKILLS.join(', ')}` }));

export const DEFAULT_DISPATCH_RATES = { HRS: 1, SRS: 0.3, LRS: 0.05 };

const conflictSchema = z
  .strictObject({
    inspector: z.string().min(1),
    company: z.string().min(1).optional(),
    imo: z.int().optional(),
    mmsi: z.int().optional(),
    reason: z.string().optional(),
  })
  .refine((c) => c.company !== undefined || c.imo !== undefined || c.mmsi !== undefined, { message: 'a conflict names a company, an imo or an mmsi' });

/**
 * The site file's `dispatch:` section: "double random, one public". Every field
 * has a default, so a site without the section dispatches with these.
 */
export const dispatchSettingsSchema = z.strictObject({
  /** Share of each risk level drawn for inspection per period. */
  rates: z.record(level, rate).default(DEFAULT_DISPATCH_RATES),
  /** One target draw per this many hours over the vessels in port. */
  draw_every_hours: z.number().positive('draw_every_hours must be above 0').default(24),
  /** An inspector acknowledges within this, or the inspection is drawn again without them. */
  ack_deadline_minutes: z.number().positive('ack_deadline_minutes must be above 0').default(15),
  /** After this many reassignments the inspection is escalated to the command center. */
  max_reassignments: z.int().min(0).default(2),
  /** Skills an inspection needs: every vessel inspection, every alert, and a vessel with a health declaration issue. */
  skills: z
    .strictObject({
      vessel: z.array(skill).default(['vessel']),
      alert: z.array(skill).default([]),
      health: z.array(skill).default(['health_quarantine']),
    })
    .prefault({}),
  /** Inspectors who may not inspect a company's or a vessel's calls. */
  conflicts: z.array(conflictSchema).default([]),
  /** The same inspector is not drawn twice running for the same company or vessel. */
  no_repeat: z.boolean().default(true),
});

export type DispatchSettings = z.output<typeof dispatchSettingsSchema>;
export const DEFAULT_DISPATCH_SETTINGS: DispatchSettings = dispatchSettingsSchema.parse({});
