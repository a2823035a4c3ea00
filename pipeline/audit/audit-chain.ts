import { canonicalJson, sha256Hex } from './canonical-json.js';

/** The prev_hash of the first entry: there is nothing before it. */
export const GENESIS_HASH = '0'.repeat(64);

/** What a caller records. `subject` names what the entry is about (an alert, an inspection, a draw). */
export interface AuditEntryInput {
  kind: string;
  actor: string;
  subject?: string | null;
  payload?: Record<string, unknown>;
  /** Default: now. */
  time?: Date;
}

export interface AuditEntry {
  seq: number;
  time: Date;
  kind: string;
  actor: string;
  subject: string | null;
  payload: Record<string, unknown>;
  prevHash: string;
  hash: string;
}

const KIND = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$/;

/**
 * The hash of an entry: SHA-256 of the canonical JSON of
 * `{actor, kind, payload, prev_hash, subject, time}` (time as ISO 8601, milliseconds).
 * `seq` is left out on purpose: it is where the row is stored, and the chain
 * (prev_hash) is what says where it belongs, so a moved row is told apart
 * from an edited one.
 */
export function auditEntryHash(e: Pick<AuditEntry, 'time' | 'kind' | 'actor' | 'subject' | 'payload' | 'prevHash'>): string {
  return sha256Hex(
    canonicalJson({ actor: e.actor, kind: e.kind, payload: e.payload, prev_hash: e.prevHash, subject: e.subject, time: e.time.toISOString() }),
  );
}

/**
 * The hashed text split around the previous hash: `before + prev_hash + after`
 * is exactly the canonical JSON auditEntryHash hashes (keys in sorted order:
 * actor, kind, payload, prev_hash, subject, time), so the database can hash an
 * entry once it knows the head.
 */
export function auditHashText(e: Pick<AuditEntry, 'time' | 'kind' | 'actor' | 'subject' | 'payload'>): { before: string; after: string } {
  return {
    before: `{"actor":${canonicalJson(e.actor)},"kind":${canonicalJson(e.kind)},"payload":${canonicalJson(e.payload)},"prev_hash":"`,
    after: `","subject":${canonicalJson(e.subject)},"time":${canonicalJson(e.time.toISOString())}}`,
  };
}

/** Validate and complete one input; the error says which field is wrong. */
export function normaliseAuditInput(input: AuditEntryInput): Omit<AuditEntry, 'seq' | 'prevHash' | 'hash'> {
  if (!KIND.test(input.kind)) throw new Error(`audit entry kind "${input.kind}" is not a dotted lower-case name such as "inspection.assigned"`);
  if (!input.actor) throw new Error('audit entry needs an actor (a user, an inspector id, or the worker that acted)');
  const time = input.time ?? new Date();
  if (Number.isNaN(time.getTime())) throw new Error('audit entry time is not a valid date');
  // Round-trip through canonical JSON now: what is stored (jsonb) must hash the same when read back.
  const payload = JSON.parse(canonicalJson(input.payload ?? {})) as Record<string, unknown>;
  return { time: new Date(time.getTime()), kind: input.kind, actor: input.actor, subject: input.subject ?? null, payload };
}
