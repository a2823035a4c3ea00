/** Alert states in which an alert no longer needs anyone (not counted as open). */
export const CLOSED_ALERT_STATES = ['resolved', 'false_alarm'];
