export { canonicalJson, sha256Hex } from './canonical-json.js';
export { auditEntryHash, GENESIS_HASH, type AuditEntry, type AuditEntryInput } from './audit-chain.js';
export { appendAudit, appendAuditInTransaction, listAudit, AuditTrail, AUDIT_LOCK, type AuditQuery } from './audit-trail.js';
export { verifyAuditChain, type AuditVerification, type AuditProblem, type AuditProblemKind } from './verify-audit-chain.js';
