import { ALERT_STATES, type AlertState } from './types.js';

/** What an operator (or the dispatch route) does to an alert. */
export type AlertAction = 'acknowledge' | 'dispatch' | 'resolve' | 'false_alarm';

const NEXT: Record<AlertState, Partial<Record<AlertAction, AlertState>>> = {
  open: { acknowledge: 'acknowledged', dispatch: 'dispatched', resolve: 'resolved', false_alarm: 'false_alarm' },
  acknowledged: { dispatch: 'dispatched', resolve: 'resolved', false_alarm: 'false_alarm' },
  // A dispatched alert is acknowledged by being dispatched; acknowledging it again only records who.
  dispatched: { acknowledge: 'dispatched', resolve: 'resolved', false_alarm: 'false_alarm' },
  resolved: {},
  false_alarm: {},
};

export class AlertStateError extends Error {
  constructor(
    readonly from: AlertState,
    readonly action: AlertAction,
  ) {
    const allowed = Object.keys(NEXT[from]);
    super(
      allowed.length === 0
        ? `the alert is ${from}: it is closed and cannot be changed (${action} refused)`
        : `cannot ${action.replace('_', ' ')} an alert that is ${from}; allowed: ${allowed.join(', ')}`,
    );
    this.name = 'AlertStateError';
  }
}

/** The state after `action`, or an AlertStateError saying what is allowed instead. */
export function nextAlertState(from: AlertState, action: AlertAction): AlertState {
  const to = NEXT[from]?.[action];
  if (!to) throw new AlertStateError(from, action);
  return to;
}

export function isAlertState(v: unknown): v is AlertState {
  return typeof v === 'string' && (ALERT_STATES as readonly string[]).includes(v);
}

/** Closed alerts take no more operator actions and are never escalated. */
export function isClosedState(s: AlertState): boolean {
  return s === 'resolved' || s === 'false_alarm';
}
