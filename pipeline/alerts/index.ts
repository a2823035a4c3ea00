export * from './types.js';
export { AlertEngine, occurrenceKey, groupKey, type AlertEngineOptions, type AlertEngineStats } from './alert-engine.js';
export { nextAlertState, isAlertState, isClosedState, AlertStateError, type AlertAction } from './states.js';
export { compileRule, indexSite, viewOf, eventBerth, type CompiledRule, type SiteIndex } from './rules.js';
export { parseEventLine, type EventLine } from './event-line.js';
