import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { formatRejection, readJsonLines } from '../risk/index.js';
import type { DrawRecord, InspectorCandidate, Rates, TargetCandidate } from './draw.js';

export const targetCandidateSchema = z.looseObject({
  id: z.string('id is a string').min(1, 'id must not be empty'),
  profile: z.string('profile is a risk level such as HRS, SRS or LRS').min(1, 'profile must not be empty'),
});
export const inspectorCandidateSchema = z.strictObject({ id: z.string().min(1), workload: z.int().min(0) });

export const DEFAULT_RATES: Rates = { HRS: 1, SRS: 0.3, LRS: 0.05 };

/** `HRS=1,SRS=0.3,LRS=0.05` → rates; each between 0 and 1. */
export function parseRates(text: string): Rates {
  const rates: Rates = {};
  for (const part of text.split(',')) {
    const m = /^\s*([A-Za-z][A-Za-z0-9_]*)\s*=\s*([0-9.]+)\s*$/.exec(part);
    const v = m ? Number(m[2]) : Number.NaN;
    if (!m || !Number.isFinite(v) || v < 0 || v > 1) throw new Error(`rates: "${part}" is not PROFILE=RATE with a rate from 0 to 1 (e.g. HRS=1,SRS=0.3,LRS=0.05)`);
    if (m[1]! in rates) throw new Error(`rates: ${m[1]} is given twice`);
    rates[m[1]!] = v;
  }
  return rates;
}

/**
 * Read a candidate file for a draw. Unlike scoring, a draw takes the list whole
 * or not at all: a draw over a list missing a bad line would be published as if
 * it were the real list. Returns the candidates, or every problem found.
 */
export async function readTargetCandidates(file: string, rates?: Rates): Promise<{ candidates: TargetCandidate[]; problems: string[] }> {
  const candidates: TargetCandidate[] = [];
  const problems: string[] = [];
  const firstLine = new Map<string, number>();
  await readJsonLines(
    file,
    targetCandidateSchema,
    (c, line) => {
      const before = firstLine.get(c.id);
      if (before !== undefined) problems.push(`${file}:${line} id: "${c.id}" is already a candidate at line ${before}`);
      else firstLine.set(c.id, line);
      if (rates && !(c.profile in rates)) problems.push(`${file}:${line} profile: "${c.profile}" has no rate (rates: ${Object.keys(rates).join(', ')})`);
      candidates.push(c as TargetCandidate);
    },
    (r) => problems.push(formatRejection(r)),
  );
  return { candidates, problems };
}

export async function readInspectorCandidates(file: string): Promise<{ candidates: InspectorCandidate[]; problems: string[] }> {
  const candidates: InspectorCandidate[] = [];
  const problems: string[] = [];
  await readJsonLines(file, inspectorCandidateSchema, (c) => void candidates.push(c), (r) => problems.push(formatRejection(r)));
  return { candidates, problems };
}

const hex64 = z.string().regex(/^[0-9a-f]{64}$/, 'a SHA-256 in lower-case hex');
export const drawRecordSchema = z.discriminatedUnion(
  'kind',
  [
    z.looseObject({
      kind: z.literal('target'),
      candidates_sha256: hex64,
      candidates: z.int().min(0),
      seed_sha256: hex64,
      seed: z.string(),
      rates: z.record(z.string(), z.number().min(0).max(1)),
      selected: z.array(z.string()),
    }),
    z.looseObject({
      kind: z.literal('inspector'),
      subject: z.string(),
      candidates_sha256: hex64,
      candidates: z.array(inspectorCandidateSchema),
      excluded: z.array(z.object({ id: z.string(), reason: z.string() })).default([]),
      seed_sha256: hex64,
      seed: z.string(),
      selected: z.array(z.string()).max(1),
    }),
  ],
  { error: 'kind is target or inspector' },
);

/** A published record from a file: the whole file is the record, or `{record: …}` as `public export` writes draws. */
export function readDrawRecord(file: string): { record: DrawRecord } | { problems: string[] } {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    return { problems: [`${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : `not JSON: ${(err as Error).message}`}`] };
  }
  const parsed = drawRecordSchema.safeParse(raw);
  if (!parsed.success) return { problems: parsed.error.issues.map((i) => `${file}: ${i.path.join('.') || '(record)'}: ${i.message}`) };
  return { record: parsed.data as unknown as DrawRecord };
}
