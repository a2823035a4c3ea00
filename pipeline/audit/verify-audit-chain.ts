import type { Queryable } from '../store/index.js';
import { auditEntryHash, GENESIS_HASH, type AuditEntry } from './audit-chain.js';
import { rowToAuditEntry } from './audit-trail.js';

export type AuditProblemKind = 'edited' | 'deleted' | 'reordered' | 'inserted';

export interface AuditProblem {
  kind: AuditProblemKind;
  /** The stored position (seq) of the entry where the chain breaks. */
  seq: number;
  message: string;
}

export interface AuditVerification {
  ok: boolean;
  entries: number;
  /** The hash of the last entry: publish it (or keep it elsewhere) to catch a cut-off tail later. */
  head: { seq: number; hash: string } | null;
  /** Problems in chain order; the first is the first entry that was tampered with. */
  problems: AuditProblem[];
}

/**
 * Walk the chain in seq order. Each entry must (1) hash to its stored hash
 * (else it was **edited**) and (2) carry the previous entry's hash as its
 * prev_hash. When (2) fails: a prev_hash that is some other stored entry's hash
 * means the entry was **reordered**; one that no stored entry has means the
 * entries before it were **deleted**; the genesis hash in the middle of the
 * chain means one was **inserted**. A seq gap is a deletion as well.
 *
 * What a chain cannot show: entries cut off at the end (compare `head` with a
 * published one), or a rewrite of the whole tail by someone who recomputes
 * every hash after it (also caught by a published head).
 */
export async function verifyAuditChain(q: Queryable, options: { pageSize?: number } = {}): Promise<AuditVerification> {
  const pageSize = options.pageSize ?? 5000;
  // Pass 1: every stored hash and where it sits, to tell reordering from deletion.
  const positionOf = new Map<string, number>();
  for (let after = 0; ; ) {
    const rows = (await q.query<{ seq: number; hash: string }>('SELECT seq, hash FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2', [after, pageSize])).rows;
    for (const r of rows) positionOf.set(r.hash, Number(r.seq));
    if (rows.length < pageSize) break;
    after = Number(rows[rows.length - 1]!.seq);
  }

  const problems: AuditProblem[] = [];
  let previous: AuditEntry | null = null;
  let entries = 0;
  for (let after = 0; ; ) {
    const rows = (
      await q.query('SELECT seq, time, kind, actor, subject, payload, prev_hash, hash FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2', [after, pageSize])
    ).rows.map(rowToAuditEntry);
    for (const e of rows) {
      entries++;
      const expectedSeq = previous ? previous.seq + 1 : 1;
      const expectedPrev = previous ? previous.hash : GENESIS_HASH;
      if (auditEntryHash(e) !== e.hash) {
        problems.push({ kind: 'edited', seq: e.seq, message: `entry ${e.seq} (${e.kind}) was edited: its content no longer matches its hash` });
      } else if (e.prevHash !== expectedPrev) {
        const at = positionOf.get(e.prevHash);
        if (at !== undefined) {
          problems.push({ kind: 'reordered', seq: e.seq, message: `entry ${e.seq} (${e.kind}) was moved: it follows entry ${at}, not entry ${previous?.seq ?? '(none)'}` });
        } else if (e.prevHash === GENESIS_HASH) {
          problems.push({ kind: 'inserted', seq: e.seq, message: `entry ${e.seq} (${e.kind}) claims to be the first entry: it was inserted` });
        } else {
          problems.push({
            kind: 'deleted',
            seq: e.seq,
            message: `the entry before entry ${e.seq} (${e.kind}) was deleted: no stored entry has the hash it follows (${e.prevHash.slice(0, 12)}…)`,
          });
        }
      } else if (e.seq !== expectedSeq) {
        problems.push({ kind: 'deleted', seq: e.seq, message: `entries ${expectedSeq}..${e.seq - 1} are missing before entry ${e.seq} (${e.kind})` });
      }
      previous = e;
    }
    if (rows.length < pageSize) break;
    after = rows[rows.length - 1]!.seq;
  }
  return { ok: problems.length === 0, entries, head: previous ? { seq: previous.seq, hash: previous.hash } : null, problems };
}
