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

const iso = (d: Date | null) => (d === null ? null : d.toISOString());

type ObjectMessage = AlertMessage['objects'][number];
/** Objects never change once the engine built them, and reappear in every later change of their alert: converted once. */
const objectMessages = new WeakMap<StoredAlert['objects'][number], ObjectMessage>();

function objectMessage(o: StoredAlert['objects'][number]): ObjectMessage {
  let m = objectMessages.get(o);
  if (m === undefined) {
    m = { ...o, first: o.first.toISOString(), last: o.last.toISOString() };
    objectMessages.set(o, m);
  }
  return m;
}

/** Built field by field (not a JSON round trip): it runs for every alert change the worker announces. */
export function alertMessage(a: StoredAlert, change: AlertChangeReason): AlertMessage {
  return {
    ...a,
    change,
    first: a.first.toISOString(),
    last: a.last.toISOString(),
    cleared_at: iso(a.cleared_at),
    acknowledged_at: iso(a.acknowledged_at),
    dispatched_at: iso(a.dispatched_at),
    closed_at: iso(a.closed_at),
    shelved_until: iso(a.shelved_until),
    created_at: a.created_at.toISOString(),
    updated_at: a.updated_at.toISOString(),
    objects: a.objects.map(objectMessage),
  };
}
