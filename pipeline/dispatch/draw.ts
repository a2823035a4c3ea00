import { createHash, createHmac, randomBytes, type Hash } from 'node:crypto';
import { canonicalJson, sha256Hex } from '../audit/index.js';

/**
 * The verifiable draw. Anyone holding a draw's published record and its
 * candidate list can recompute it:
 *
 * 1. Commitment: before the candidate list closes, SHA-256 of the seed's bytes
 *    (`seed_sha256`) is recorded (audit trail, draws table).
 * 2. The candidate list is canonicalised: sorted by id, each candidate written
 *    as canonical JSON (keys sorted, no spaces), one per line, each line ending
 *    in "\n"; `candidates_sha256` is the SHA-256 of that text (UTF-8).
 * 3. The seed is revealed and each candidate gets its draw value
 *    u = first 48 bits of HMAC-SHA-256(key = seed bytes, message = UTF-8 id),
 *    big-endian, divided by 2^48 (0 ≤ u < 1).
 * 4. Target draw: a candidate is selected when u < rate[its profile].
 *    Inspector draw: each eligible inspector has weight 1 / (1 + workload); the
 *    one with the largest ln(u') / weight is drawn, u' = (48 bits + 0.5) / 2^48
 *    (weighted sampling by Efraimidis–Spirakis: chance proportional to weight).
 */
export const DRAW_ALGORITHM = 'portwatch-draw-v1: u = HMAC-SHA-256(seed bytes, UTF-8 id)[0..6] / 2^48; target selected iff u < rate[profile]; inspector = argmax ln((u·2^48 + 0.5) / 2^48) / weight, weight = 1 / (1 + workload)';

export interface TargetCandidate {
  id: string;
  profile: string;
  [field: string]: unknown;
}

export interface InspectorCandidate {
  id: string;
  workload: number;
}

export type Rates = Record<string, number>;

export interface TargetDrawRecord {
  kind: 'target';
  draw_id?: string;
  algorithm: string;
  candidates_sha256: string;
  candidates: number;
  seed_sha256: string;
  seed: string;
  rates: Rates;
  selected: string[];
}

export interface InspectorDrawRecord {
  kind: 'inspector';
  draw_id?: string;
  algorithm: string;
  /** The inspection being assigned. */
  subject: string;
  candidates_sha256: string;
  /** Eligible inspectors with their workload at the draw (the list hashed). */
  candidates: InspectorCandidate[];
  /** Inspectors on the roster left out, and why (off duty, skills, conflict, passed it before). */
  excluded: Array<{ id: string; reason: string }>;
  seed_sha256: string;
  seed: string;
  selected: string[];
}

export type DrawRecord = TargetDrawRecord | InspectorDrawRecord;

const SEED = /^(?:[0-9a-f]{2}){16,64}$/;

export function checkSeed(seed: string): string | null {
  if (!SEED.test(seed)) return 'a seed is 16 to 64 bytes written as lower-case hex (32 to 128 characters), e.g. from `openssl rand -hex 32`';
  return null;
}

export function newSeed(): string {
  return randomBytes(32).toString('hex');
}

export function seedSha256(seed: string): string {
  return sha256Hex(Buffer.from(seed, 'hex'));
}

/** The canonical text of a candidate list (step 2 above). Refuses duplicate ids. */
export function canonicalCandidates(candidates: ReadonlyArray<{ id: string }>): string {
  const sorted = [...candidates].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  let text = '';
  for (let i = 0; i < sorted.length; i++) {
    if (i > 0 && sorted[i]!.id === sorted[i - 1]!.id) throw new Error(`candidate id "${sorted[i]!.id}" appears twice`);
    text += canonicalJson(sorted[i]) + '\n';
  }
  return text;
}

export function candidatesSha256(candidates: ReadonlyArray<{ id: string }>): string {
  return sha256Hex(canonicalCandidates(candidates));
}

/** The 48-bit draw value of one id under one seed, as an integer (0 ≤ n < 2^48). */
export function drawBits(seed: string | Buffer, id: string): number {
  const key = typeof seed === 'string' ? Buffer.from(seed, 'hex') : seed;
  return createHmac('sha256', key).update(id, 'utf8').digest().readUIntBE(0, 6);
}

/**
 * drawBits for many ids under one seed: HMAC with its key pads hashed once
 * (RFC 2104: H((K ⊕ opad) ‖ H((K ⊕ ipad) ‖ m)), K ≤ 64 bytes), the same value
 * as createHmac at about half the cost per id.
 */
export function drawBitsUnder(seed: string | Buffer): (id: string) => number {
  const key = typeof seed === 'string' ? Buffer.from(seed, 'hex') : seed;
  if (key.length > 64) return (id) => drawBits(key, id);
  const ipad = Buffer.alloc(64, 0x36);
  const opad = Buffer.alloc(64, 0x5c);
  for (let i = 0; i < key.length; i++) {
    ipad[i]! ^= key[i]!;
    opad[i]! ^= key[i]!;
  }
  const inner: Hash = createHash('sha256').update(ipad);
  const outer: Hash = createHash('sha256').update(opad);
  return (id) => outer.copy().update(inner.copy().update(id, 'utf8').digest()).digest().readUIntBE(0, 6);
}

const TWO_48 = 2 ** 48;

export function drawValue(seed: string | Buffer, id: string): number {
  return drawBits(seed, id) / TWO_48;
}

/** Target selection (step 4): ids sorted. A profile without a rate is never selected (the caller refuses such lists first). */
export function selectTargets(seed: string, candidates: ReadonlyArray<TargetCandidate>, rates: Rates): string[] {
  const bits = drawBitsUnder(seed);
  const out: string[] = [];
  for (const c of candidates) if (bits(c.id) / TWO_48 < (rates[c.profile] ?? 0)) out.push(c.id);
  return out.sort();
}

/** Inspector selection (step 4): one id, or null when nobody is eligible. */
export function selectInspector(seed: string, candidates: ReadonlyArray<InspectorCandidate>): string | null {
  const bits = drawBitsUnder(seed);
  let best: string | null = null;
  let bestKey = -Infinity;
  for (const c of [...candidates].sort((a, b) => (a.id < b.id ? -1 : 1))) {
    const weight = 1 / (1 + c.workload);
    const k = Math.log((bits(c.id) + 0.5) / TWO_48) / weight;
    if (k > bestKey) [best, bestKey] = [c.id, k];
  }
  return best;
}

export function runTargetDraw(o: { seed: string; candidates: ReadonlyArray<TargetCandidate>; rates: Rates; drawId?: string }): TargetDrawRecord {
  const bad = checkSeed(o.seed);
  if (bad) throw new Error(bad);
  return {
    kind: 'target',
    ...(o.drawId ? { draw_id: o.drawId } : {}),
    algorithm: DRAW_ALGORITHM,
    candidates_sha256: candidatesSha256(o.candidates),
    candidates: o.candidates.length,
    seed_sha256: seedSha256(o.seed),
    seed: o.seed,
    rates: o.rates,
    selected: selectTargets(o.seed, o.candidates, o.rates),
  };
}

export function runInspectorDraw(o: {
  seed: string;
  subject: string;
  candidates: ReadonlyArray<InspectorCandidate>;
  excluded?: Array<{ id: string; reason: string }>;
  drawId?: string;
}): InspectorDrawRecord {
  const bad = checkSeed(o.seed);
  if (bad) throw new Error(bad);
  const candidates = [...o.candidates].map((c) => ({ id: c.id, workload: c.workload })).sort((a, b) => (a.id < b.id ? -1 : 1));
  const chosen = selectInspector(o.seed, candidates);
  return {
    kind: 'inspector',
    ...(o.drawId ? { draw_id: o.drawId } : {}),
    algorithm: DRAW_ALGORITHM,
    subject: o.subject,
    candidates_sha256: candidatesSha256(candidates),
    candidates,
    excluded: o.excluded ?? [],
    seed_sha256: seedSha256(o.seed),
    seed: o.seed,
    selected: chosen ? [chosen] : [],
  };
}

export interface DrawVerification {
  ok: boolean;
  /** What does not match, each naming the id, hash or seed concerned. */
  problems: string[];
}

const fmt = (u: number) => u.toFixed(6);

/**
 * Recompute a published draw from its record and the candidate list (for an
 * inspector draw the list is in the record unless given).
 */
export function verifyDraw(record: DrawRecord, candidateList?: ReadonlyArray<TargetCandidate | InspectorCandidate>): DrawVerification {
  const problems: string[] = [];
  const seedProblem = checkSeed(record.seed ?? '');
  if (seedProblem) return { ok: false, problems: [`the record's seed is not valid: ${seedProblem}`] };
  const commitment = seedSha256(record.seed);
  if (commitment !== record.seed_sha256) problems.push(`the seed does not match its commitment: SHA-256 of the seed is ${commitment}, the record committed to ${record.seed_sha256}`);
  const list = candidateList ?? (record.kind === 'inspector' ? record.candidates : undefined);
  if (!list) return { ok: false, problems: ['no candidate list to verify against'] };
  let hash: string;
  try {
    hash = candidatesSha256(list);
  } catch (err) {
    return { ok: false, problems: [...problems, `the candidate list is not valid: ${(err as Error).message}`] };
  }
  if (hash !== record.candidates_sha256) problems.push(`the candidate list changed: its SHA-256 is ${hash}, the record has ${record.candidates_sha256}`);
  const published = new Set(record.selected);
  if (record.kind === 'target') {
    if (record.candidates !== list.length) problems.push(`the record counts ${record.candidates} candidates, the list has ${list.length}`);
    const bits = drawBitsUnder(record.seed);
    const known = new Set<string>();
    for (const c of list as ReadonlyArray<TargetCandidate>) {
      known.add(c.id);
      const u = bits(c.id) / TWO_48;
      const rate = record.rates[c.profile] ?? 0;
      const chosen = u < rate;
      if (chosen && !published.has(c.id)) problems.push(`${c.id} is selected by the seed (draw value ${fmt(u)} < rate ${rate} for ${c.profile}) but missing from selected`);
      if (!chosen && published.has(c.id)) problems.push(`${c.id} is in selected but the seed does not select it (draw value ${fmt(u)} ≥ rate ${rate} for ${c.profile})`);
    }
    for (const id of published) if (!known.has(id)) problems.push(`${id} is in selected but not in the candidate list`);
  } else {
    const chosen = selectInspector(record.seed, list as ReadonlyArray<InspectorCandidate>);
    const claimed = record.selected[0] ?? null;
    if (chosen !== claimed || record.selected.length > 1) problems.push(`the seed draws inspector ${chosen ?? '(none)'}, the record names ${record.selected.join(', ') || '(none)'}`);
  }
  return { ok: problems.length === 0, problems };
}
