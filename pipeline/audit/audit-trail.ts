import type { Queryable, Store } from '../store/index.js';
import { auditEntryHash, auditHashText, GENESIS_HASH, normaliseAuditInput, type AuditEntry, type AuditEntryInput } from './audit-chain.js';

/**
 * The advisory lock every audit writer takes, in whichever process it runs:
 * appends are serialised through the database itself, so two writers can never
 * both chain onto the same head.
 */
export const AUDIT_LOCK = 7_230_815_005;

/**
 * Append entries inside a transaction the caller already holds (to record a state
 * change atomically with the change itself). Takes the audit lock until that
 * transaction ends: keep the transaction short.
 */
export async function appendAuditInTransaction(tx: Queryable, inputs: AuditEntryInput | readonly AuditEntryInput[]): Promise<AuditEntry[]> {
  const list = (Array.isArray(inputs) ? inputs : [inputs]) as readonly AuditEntryInput[];
  if (list.length === 0) return [];
  const prepared = list.map(normaliseAuditInput);
  await tx.query('SELECT pg_advisory_xact_lock($1)', [AUDIT_LOCK]);
  const head = (await tx.query<{ seq: number; hash: string }>('SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1')).rows[0];
  let seq = head ? Number(head.seq) : 0;
  let prevHash = head?.hash ?? GENESIS_HASH;
  const entries: AuditEntry[] = [];
  for (const p of prepared) {
    const e: AuditEntry = { ...p, seq: ++seq, prevHash, hash: '' };
    e.hash = auditEntryHash(e);
    prevHash = e.hash;
    entries.push(e);
  }
  const params: unknown[] = [];
  const tuples = entries.map((e, i) => {
    params.push(e.seq, e.time, e.kind, e.actor, e.subject, JSON.stringify(e.payload), e.prevHash, e.hash);
    const b = i * 8;
    return `($${b + 1},$${b + 2},$${b + 3},$${b + 4},$${b + 5},$${b + 6}::jsonb,$${b + 7},$${b + 8})`;
  });
  await tx.query(`INSERT INTO audit_log (seq, time, kind, actor, subject, payload, prev_hash, hash) VALUES ${tuples.join(',')}`, params);
  return entries;
}

/**
 * One entry in one call of the store's `audit_append` function (migration 7):
 * the advisory lock, the head, the hash computed by the database from the
 * entry's canonical JSON around the head's hash (the same text the verifier
 * hashes) and the INSERT. The lock is held until the call's own transaction
 * ends; two writers that still collide on seq / prev_hash (unique) append again.
 */
const APPEND_ONE = `SELECT new_seq AS seq, new_prev_hash AS prev_hash, new_hash AS hash FROM audit_append($1::bigint, $2, $3, $4, $5, $6, $7::jsonb, $8, $9)`;

async function appendOne(store: Queryable, input: AuditEntryInput): Promise<AuditEntry> {
  const p = normaliseAuditInput(input);
  const { before, after } = auditHashText(p);
  for (let attempt = 0; ; attempt++) {
    try {
      const r = (
        await store.query<{ seq: number; prev_hash: string; hash: string }>(APPEND_ONE, [AUDIT_LOCK, GENESIS_HASH, p.time, p.kind, p.actor, p.subject, JSON.stringify(p.payload), before, after])
      ).rows[0]!;
      const e: AuditEntry = { ...p, seq: Number(r.seq), prevHash: r.prev_hash, hash: r.hash };
      // The database hashed what this code would: a difference would be a chain nobody could verify.
      if (auditEntryHash(e) !== e.hash) throw new Error(`audit entry ${e.seq}: the database computed hash ${e.hash}, this code ${auditEntryHash(e)}; check that the database encoding is UTF8`);
      return e;
    } catch (err) {
      if ((err as { code?: string }).code !== '23505' || attempt >= 20) throw err;
    }
  }
}

/** Append entries: one entry in one statement, several in one transaction. */
export async function appendAudit(store: Pick<Store, 'transaction'> & Queryable, inputs: AuditEntryInput | readonly AuditEntryInput[]): Promise<AuditEntry[]> {
  const list = (Array.isArray(inputs) ? inputs : [inputs]) as readonly AuditEntryInput[];
  if (list.length === 1) return [await appendOne(store, list[0]!)];
  return store.transaction((tx) => appendAuditInTransaction(tx, list));
}

export interface AuditQuery {
  subject?: string;
  kind?: string;
  from?: Date;
  to?: Date;
  /** Entries after this seq (paging). */
  afterSeq?: number;
  limit?: number;
}

export function rowToAuditEntry(r: Record<string, any>): AuditEntry {
  return {
    seq: Number(r.seq),
    time: r.time instanceof Date ? r.time : new Date(r.time),
    kind: r.kind,
    actor: r.actor,
    subject: r.subject ?? null,
    payload: typeof r.payload === 'string' ? JSON.parse(r.payload) : r.payload,
    prevHash: r.prev_hash,
    hash: r.hash,
  };
}

export async function listAudit(q: Queryable, query: AuditQuery = {}): Promise<AuditEntry[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (sql: string, v: unknown) => {
    params.push(v);
    where.push(sql.replace('?', `$${params.length}`));
  };
  if (query.subject !== undefined) add('subject = ?', query.subject);
  if (query.kind !== undefined) add('kind = ?', query.kind);
  if (query.from) add('time >= ?', query.from);
  if (query.to) add('time < ?', query.to);
  if (query.afterSeq !== undefined) add('seq > ?', query.afterSeq);
  params.push(Math.min(query.limit ?? 1000, 10_000));
  const rows = await q.query(
    `SELECT seq, time, kind, actor, subject, payload, prev_hash, hash FROM audit_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq LIMIT $${params.length}`,
    params,
  );
  return rows.rows.map(rowToAuditEntry);
}

interface Pending {
  input: AuditEntryInput;
  resolve: (e: AuditEntry) => void;
  reject: (err: unknown) => void;
}

/**
 * The single serialised writer of one process: one transaction in flight at a
 * time; appends that arrive meanwhile go together into the next one (one lock,
 * one head read, one INSERT for all of them). Across processes the advisory
 * lock serialises.
 */
export class AuditTrail {
  private queue: Pending[] = [];
  private running: Promise<void> | null = null;

  constructor(private readonly store: Pick<Store, 'transaction'> & Queryable) {}


  append(input: AuditEntryInput): Promise<AuditEntry> {
    return new Promise((resolve, reject) => {
      this.queue.push({ input, resolve, reject });
      this.running ??= this.drain();
    });
  }

  list(query?: AuditQuery): Promise<AuditEntry[]> {
    return listAudit(this.store, query);
  }

  /** Resolves when every append made so far is stored (or has failed). */
  async flush(): Promise<void> {
    while (this.running) await this.running;
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, 500);
        try {
          const stored = await appendAudit(this.store, batch.map((p) => p.input));
          batch.forEach((p, i) => p.resolve(stored[i]!));
        } catch (err) {
          // One bad input must not sink the others: retry them one by one.
          if (batch.length === 1) batch[0]!.reject(err);
          else
            for (const p of batch) {
              try {
                p.resolve((await appendAudit(this.store, p.input))[0]!);
              } catch (e) {
                p.reject(e);
              }
            }
        }
      }
    } finally {
      this.running = null;
    }
  }
}
