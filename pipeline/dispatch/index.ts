export * from './draw.js';
export { parseRates, readTargetCandidates, readInspectorCandidates, readDrawRecord, drawRecordSchema, targetCandidateSchema, DEFAULT_RATES } from './draw-files.js';
export { dispatchSettingsSchema, DEFAULT_DISPATCH_SETTINGS, DEFAULT_DISPATCH_RATES, type DispatchSettings } from './settings.js';
export { eligibleInspectors, type InspectionNeeds } from './on-duty.js';
export {
  createInspection,
  getInspection,
  listInspections,
  inspectorWorkloads,
  assignInspector,
  acknowledgeInspection,
  recordInspectionResult,
  passDeadline,
  publicInspections,
  inspectionPriority,
  DispatchError,
  INSPECTION_STATES,
  OPEN_STATES,
  type Inspection,
  type InspectionState,
  type InspectionFilter,
  type InspectionResultInput,
  type NewInspection,
  type Finding,
  type DispatchContext,
  type AssignResult,
  type PublicInspection,
} from './inspection-store.js';
export { runPeriodDraw, vesselCandidates, type VesselCandidate, type PeriodDrawResult, type PeriodDrawOptions } from './period-draw.js';
export { DispatchQueue, DISPATCH_QUEUE, ALERT_DISPATCH_QUEUE, type DispatchJob } from './dispatch-queue.js';
export { startDispatchService, dispatchAlertSchema, type DispatchService, type DispatchServiceOptions, type DispatchStats, type DispatchAlert } from './dispatch-service.js';
export { markAlertInspected, closeAlertForInspection } from './alert-link.js';
