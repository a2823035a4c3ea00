export { AisAnomalyDetector, type AisAnomalyOptions, type Channel, type VesselIdentity } from './ais-anomalies.js';
export { checkMmsi, isValidImo, type MmsiCheck, type MmsiKind } from './identity.js';
