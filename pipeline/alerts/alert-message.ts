import type { StoredAlert } from './alert-store.js';

/** Why an alert is being announced. */
export type AlertChangeReason =
  | 'opened'
  | 'updated'
  | 'cleared'
  | 'escalated'
  | 'acknowledged'
  | 'dispatched'
  | 'resolved'
  | 'false_alarm'
  | 'shelved'
  | 'unshelved'
  | 'merged'
  | 'flooded';

/**
 * The alert as every route carries it (board `alert` messages, MQTT
 * `portwatch/alerts`, webhook bodies, `alert-dispatch` job data): the stored
 * alert with ISO times, plus `change` saying what happened and, from the
 * worker, `cause`: the event phase (its queue job id) that made the change.
 */
export type AlertMessage = { cause?: string } & Omit<StoredAlert, 'first' | 'last' | 'cleared_at' | 'acknowledged_at' | 'dispatched_at' | 'closed_at' | 'shelved_until' | 'created_at' | 'updated_at' | 'objects'> & {
  change: AlertChangeReason;
  first: string;
  last: string;
  cleared_at: string | null;
  acknowledged_at: string | null;
  dispatched_at: string | null;
  closed_at: string | null;
  shelved_until: string | null;
  created_at: string;
  updated_at: string;
  objects: Array<Omit<StoredAlert['objects'][number], 'first' | 'last'> & { first: string; last: string }>;
};

export function alertMessage(a: StoredAlert, change: AlertChangeReason): AlertMessage {
  return JSON.parse(JSON.stringify({ ...a, change })) as AlertMessage;
}
