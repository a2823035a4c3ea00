import { readFileSync } from 'node:fs';
import path from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { formatIssue, type ConfigIssue } from '../config/index.js';
import { formatPath, SourceLocator } from '../config/positions.js';
import { sha256Hex } from '../audit/index.js';
import { riskModelFileSchema, type RiskModel, type RiskModelFile } from './risk-model-schema.js';

/** Every problem of a model file (and the files it extends), as `FILE:LINE:COLUMN path: reason`. */
export class RiskModelError extends Error {
  constructor(readonly issues: ConfigIssue[]) {
    super(`risk model: ${issues.length} error${issues.length === 1 ? '' : 's'}\n${issues.map(formatIssue).join('\n')}`);
    this.name = 'RiskModelError';
  }
}

function issue(file: string, locator: SourceLocator | null, p: Array<string | number>, message: string, key?: string): ConfigIssue {
  const pos = locator ? (key === undefined ? locator.position(p) : locator.keyPosition(p, key)) : { line: 1, column: 1 };
  return { file, line: pos.line, column: pos.column, path: formatPath(key === undefined ? p : [...p, key]), message, severity: 'error', code: 'schema' };
}

function readModelFile(file: string, issues: ConfigIssue[]): { data: RiskModelFile; text: string; locator: SourceLocator } | null {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    issues.push({ file, path: '', message: (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message, severity: 'error', code: 'file' });
    return null;
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    for (const e of doc.errors) {
      const { line, col } = lines.linePos(e.pos[0]);
      issues.push({ file, line, column: col, path: '', message: e.message.split('\n')[0]!, severity: 'error', code: 'yaml' });
    }
    return null;
  }
  const locator = new SourceLocator(doc, lines);
  const parsed = riskModelFileSchema.safeParse(doc.toJS());
  if (!parsed.success) {
    for (const zi of parsed.error.issues) {
      const p = zi.path.filter((s): s is string | number => typeof s !== 'symbol');
      if (zi.code === 'unrecognized_keys') for (const k of zi.keys) issues.push(issue(file, locator, p, 'unknown field (see docs/risk-and-dispatch.md)', k));
      else issues.push(issue(file, locator, p, zi.message));
    }
    return null;
  }
  // Ids are how a score explains itself: each indicator and group once.
  const seen = new Map<string, string>();
  parsed.data.groups.forEach((g, gi) =>
    g.factors.forEach((f, fi) =>
      f.indicators.forEach((ind, ii) => {
        const at = ['groups', gi, 'factors', fi, 'indicators', ii, 'id'];
        const before = seen.get(ind.id);
        if (before) issues.push(issue(file, locator, at, `indicator id "${ind.id}" is already used at ${before}`));
        else seen.set(ind.id, `${file}:${locator.position(at).line}`);
      }),
    ),
  );
  return { data: parsed.data, text, locator };
}

/**
 * Load a model file, following `extends` (groups of the base first, levels of
 * the file unless it has none). Throws RiskModelError with every issue found.
 */
export function loadRiskModel(file: string): RiskModel {
  const issues: ConfigIssue[] = [];
  const chain: Array<{ file: string; data: RiskModelFile; text: string }> = [];
  let current: string | undefined = path.resolve(file);
  const visited = new Set<string>();
  while (current) {
    if (visited.has(current)) {
      issues.push({ file: current, path: 'extends', message: 'extends forms a loop', severity: 'error', code: 'reference' });
      break;
    }
    visited.add(current);
    const read = readModelFile(current, issues);
    if (!read) break;
    chain.unshift({ file: current, data: read.data, text: read.text });
    current = read.data.extends ? path.resolve(path.dirname(current), read.data.extends) : undefined;
  }
  if (issues.length > 0) throw new RiskModelError(issues.map((i) => ({ ...i, file: path.relative(process.cwd(), i.file) || i.file })));

  const groups = chain.flatMap((c) => c.data.groups);
  const ids = new Set<string>();
  for (const g of groups) for (const f of g.factors) for (const i of f.indicators) {
    if (ids.has(i.id)) issues.push({ file: chain[chain.length - 1]!.file, path: `indicator ${i.id}`, message: `indicator id "${i.id}" is defined in the model and in the model it extends`, severity: 'error', code: 'reference' });
    ids.add(i.id);
  }
  const levels = [...chain].reverse().find((c) => c.data.levels)?.data.levels ?? [];
  if (levels.length === 0) issues.push({ file: chain[chain.length - 1]!.file, path: 'levels', message: 'the model (or the one it extends) needs levels, the last without conditions', severity: 'error', code: 'schema' });
  const last = levels[levels.length - 1];
  if (last && (last.min_points !== undefined || last.all.length > 0))
    issues.push({ file: chain[chain.length - 1]!.file, path: 'levels', message: `the last level (${last.level}) is the default: it must have no min_points and no conditions`, severity: 'error', code: 'schema' });
  if (issues.length > 0) throw new RiskModelError(issues);

  const top = chain[chain.length - 1]!;
  return { name: top.data.name, sha256: sha256Hex(chain.map((c) => c.text).join('\u0000')), groups, levels };
}
