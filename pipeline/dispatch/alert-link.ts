import { markAlertDispatched, resolveAlert } from '../alerts/alert-store.js';
import type { Logger } from '../log/index.js';
import type { Store } from '../store/index.js';
import type { Inspection } from './inspection-store.js';

/**
 * The one place dispatch changes an alert's state (through the alert store,
 * which records the change in the audit trail): dispatched when its inspection
 * is created, resolved when the inspection's result is recorded. An alert
 * already in that state, or gone, is logged and left alone: the inspection stands.
 */
export async function markAlertInspected(store: Store, inspection: Inspection, by: string, logger: Logger): Promise<void> {
  if (!inspection.alert_id) return;
  try {
    await markAlertDispatched(store, inspection.alert_id, { by, inspection: inspection.id });
  } catch (err) {
    logger.warn({ alert: inspection.alert_id, inspection: inspection.id, err: (err as Error).message }, `alert ${inspection.alert_id} not marked dispatched: ${(err as Error).message}`);
  }
}

export async function closeAlertForInspection(store: Store, inspection: Inspection, logger: Logger): Promise<void> {
  if (!inspection.alert_id || !inspection.inspector) return;
  try {
    await resolveAlert(store, inspection.alert_id, { by: inspection.inspector, comment: `inspection ${inspection.id}: ${inspection.result}, target ${inspection.outcome}`, at: inspection.completed_at ?? new Date() });
  } catch (err) {
    logger.warn({ alert: inspection.alert_id, inspection: inspection.id, err: (err as Error).message }, `alert ${inspection.alert_id} not closed: ${(err as Error).message}`);
  }
}
