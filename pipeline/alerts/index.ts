export * from './types.js';
export { AlertEngine, occurrenceKey, groupKey, type AlertEngineOptions, type AlertEngineStats } from './alert-engine.js';
export { nextAlertState, isAlertState, isClosedState, AlertStateError, type AlertAction } from './states.js';
export { compileRule, indexSite, viewOf, eventBerth, type CompiledRule, type SiteIndex } from './rules.js';
export { parseEventLine, type EventLine } from './event-line.js';
export {
  alertsNotStored,
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
export { alertMessage, type AlertMessage, type AlertChangeReason } from './alert-message.js';
export { signWebhook, verifyWebhook, deliverWebhook, WebhookError, type WebhookDelivery } from './webhook.js';
export { MqttPublisher, type MqttPublisherOptions } from './mqtt-publisher.js';
export {
  AlertsService,
  ALERT_DISPATCH_QUEUE,
  ALERT_TIMERS_QUEUE,
  ALERT_WEBHOOK_QUEUE,
  MAX_ESCALATIONS,
  type AlertsServiceOptions,
  type AlertsServiceStats,
} from './alerts-service.js';
