export * from './types.js';
export { AlertEngine, occurrenceKey, groupKey, type AlertEngineOptions, type AlertEngineStats } from './alert-engine.js';
export { nextAlertState, isAlertState, isClosedState, AlertStateError, type AlertAction } from './states.js';
export { compileRule, indexSite, viewOf, eventBerth, type CompiledRule, type SiteIndex } from './rules.js';
export { parseEventLine, type EventLine } from './event-line.js';
export {
  applyAlertChanges,
  listAlerts,
  getAlert,
  acknowledgeAlert,
  resolveAlert,
  markAlertDispatched,
  shelveAlert,
  unshelveAlert,
  escalateAlert,
  setAlertClip,
  shelveRule,
  unshelveRule,
  activeRuleShelves,
  unacknowledgedAlerts,
  shelvedAlerts,
  AlertNotFoundError,
  ShelveError,
  type StoredAlert,
  type AlertDetail,
  type AlertHistoryEntry,
  type AlertUpdate,
  type AlertFilter,
  type AlertPage,
  type AppliedChange,
  type ShelveInput,
  type RuleShelf,
} from './alert-store.js';
