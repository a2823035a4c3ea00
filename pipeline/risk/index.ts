export { loadRiskModel, RiskModelError } from './load-risk-model.js';
export { riskModelFileSchema, FACT_ROOTS, type RiskModel, type RiskModelFile, type RiskIndicator, type RiskLevel, type Rule } from './risk-model-schema.js';
export { scoreVessel, describeRule, windowStart, type VesselScore, type IndicatorScore } from './score-vessel.js';
export {
  vesselLineSchema,
  describeLineIssues,
  imoSchema,
  imoCheckDigit,
  PERFORMANCES,
  FLAG_LISTS,
  FLAG_RISKS,
  type VesselFacts,
  type VesselLine,
  type InspectionFact,
  type EventFact,
  type Performance,
} from './vessel-facts.js';
export { readJsonLines, formatRejection, type LineRejection } from './read-jsonl.js';
export { gatherVesselFacts, recordRiskScore, rescoreVessel, latestRiskScores, riskHistory, type VesselRef, type StoredRiskScore } from './risk-store.js';
