import type { Rule, RiskIndicator, RiskModel } from './risk-model-schema.js';
import type { EventFact, VesselFacts } from './vessel-facts.js';

/** One indicator's share of a score: how many points, by which rule, on what evidence. */
export interface IndicatorScore {
  group: string;
  factor: string;
  points: number;
  rule: string;
  why: string;
  /** Event ids, declaration fields (`declaration.health.ill_crew=2`), inspections (`inspection 2025-03-01`). */
  evidence: string[];
}

export interface VesselScore {
  imo: number | null;
  mmsi: number | null;
  name: string | null;
  model: string;
  model_sha256: string;
  as_of: string;
  profile: string;
  points: number;
  /** Only indicators that scored, by indicator id. */
  breakdown: Record<string, IndicatorScore>;
  /** Why this level and not the ones before it. */
  profile_reason: string;
}

interface RuleResult {
  value: number;
  why: string;
  evidence: string[];
}

function getField(facts: VesselFacts, path: string, derived: Record<string, unknown>): unknown {
  if (path in derived) return derived[path];
  let v: unknown = facts;
  for (const k of path.split('.')) {
    if (v === null || v === undefined || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[k];
  }
  return v;
}

function compare(a: unknown, op: string, b: unknown): boolean {
  if (op === 'eq') return a === b;
  if (op === 'ne') return a !== b;
  if (typeof a !== 'number' || typeof b !== 'number') return false;
  return op === 'gt' ? a > b : op === 'gte' ? a >= b : op === 'lt' ? a < b : a <= b;
}

const OP_TEXT: Record<string, string> = { gt: '>', gte: '≥', lt: '<', lte: '≤', eq: '=', ne: '≠' };

/** Start of a window ending at `asOf` (inclusive): calendar months, or days/hours. */
export function windowStart(asOf: Date, within: { months?: number | undefined; days?: number | undefined; hours?: number | undefined }): Date {
  if (within.months !== undefined) {
    const d = new Date(asOf.getTime());
    d.setUTCMonth(d.getUTCMonth() - within.months);
    return d;
  }
  return new Date(asOf.getTime() - (within.days !== undefined ? within.days * 86_400_000 : within.hours! * 3_600_000));
}

const windowText = (w: { months?: number | undefined; days?: number | undefined; hours?: number | undefined }) =>
  w.months !== undefined ? `${w.months} months` : w.days !== undefined ? `${w.days} days` : `${w.hours} hours`;

const described = new WeakMap<Rule, string>();

/** The rule in words (its description when it has one); computed once per rule. */
export function describeRule(rule: Rule): string {
  let text = described.get(rule);
  if (text === undefined) described.set(rule, (text = ruleText(rule)));
  return text;
}

function ruleText(rule: Rule): string {
  if (rule.description) return rule.description;
  switch (rule.kind) {
    case 'threshold':
      return `${rule.field} ${OP_TEXT[rule.op]} ${rule.value}`;
    case 'range':
      return `${rule.field} in bands ${rule.bands.map((b) => `[${b.from ?? '-∞'}, ${b.to ?? '∞'}) → ${b.value}`).join(', ')}`;
    case 'category':
      return `${rule.field} in {${Object.entries(rule.map).map(([k, v]) => `${k}: ${v}`).join(', ')}}`;
    case 'count':
      return `count of ${rule.list}${Object.keys(rule.where).length ? ` where ${Object.entries(rule.where).map(([k, c]) => (typeof c === 'object' ? `${k} ${OP_TEXT[c.op]} ${c.value}` : `${k} = ${c}`)).join(' and ')}` : ''} in the last ${windowText(rule.within)} ${OP_TEXT[rule.op]} ${rule.value}`;
    case 'presence':
      return `${rule.min_count > 1 ? `${rule.min_count} or more` : 'any'} of ${rule.event_kinds.join(', ')} near the ${rule.near} in the last ${windowText(rule.within)}${rule.alongside_only ? ' while alongside' : ''}`;
  }
}

function evaluate(rule: Rule, facts: VesselFacts, asOf: Date, derived: Record<string, unknown>): RuleResult {
  switch (rule.kind) {
    case 'threshold': {
      const v = getField(facts, rule.field, derived);
      const hit = compare(v, rule.op, rule.value);
      return { value: hit ? 1 : 0, why: `${rule.field} = ${v === undefined ? '(absent)' : JSON.stringify(v)}`, evidence: hit ? [`${rule.field}=${JSON.stringify(v)}`] : [] };
    }
    case 'range': {
      const v = getField(facts, rule.field, derived);
      if (typeof v !== 'number') return { value: 0, why: `${rule.field} is absent`, evidence: [] };
      const band = rule.bands.find((b) => (b.from === undefined || v >= b.from) && (b.to === undefined || v < b.to));
      return { value: band?.value ?? 0, why: `${rule.field} = ${v}`, evidence: band?.value ? [`${rule.field}=${v}`] : [] };
    }
    case 'category': {
      const v = getField(facts, rule.field, derived);
      const items = Array.isArray(v) ? v : v === undefined || v === null ? [] : [v];
      let best = items.length === 0 ? 0 : -Infinity;
      let which: unknown = undefined;
      for (const item of items) {
        const x = rule.map[String(item)] ?? rule.default;
        if (x > best) [best, which] = [x, item];
      }
      if (items.length === 0) best = rule.default;
      return { value: best, why: `${rule.field} = ${v === undefined ? '(absent)' : JSON.stringify(v)}`, evidence: best !== 0 && which !== undefined ? [`${rule.field}=${JSON.stringify(which)}`] : [] };
    }
    case 'count': {
      const list = getField(facts, rule.list, derived);
      const start = windowStart(asOf, rule.within);
      const counted: string[] = [];
      for (const item of Array.isArray(list) ? (list as Array<Record<string, unknown>>) : []) {
        const raw = item[rule.date_field];
        const t = raw instanceof Date ? raw : new Date(typeof raw === 'string' && raw.length === 10 ? `${raw}T00:00:00Z` : String(raw));
        if (Number.isNaN(t.getTime()) || t < start || t > asOf) continue;
        const ok = Object.entries(rule.where).every(([k, c]) => (typeof c === 'object' ? compare(item[k], c.op, c.value) : item[k] === c));
        if (ok) counted.push(`${rule.list.replace(/_36m$/, '').replace(/s$/, '')} ${item.id ?? (typeof raw === 'string' ? raw : t.toISOString())}`);
      }
      const hit = compare(counted.length, rule.op, rule.value);
      return { value: hit ? 1 : 0, why: `${counted.length} since ${start.toISOString().slice(0, 10)}`, evidence: hit ? counted : [] };
    }
    case 'presence': {
      const start = windowStart(asOf, rule.within);
      const alongside = facts.alongside ?? null;
      if (rule.alongside_only && !alongside) return { value: 0, why: 'not alongside', evidence: [] };
      if (rule.near === 'berth' && !alongside) return { value: 0, why: 'at no berth', evidence: [] };
      const from = rule.alongside_only && alongside && alongside.since > start ? alongside.since : start;
      const hits = (facts.events ?? []).filter(
        (e: EventFact) =>
          rule.event_kinds.includes(e.kind) &&
          e.time >= from &&
          e.time <= asOf &&
          (rule.near === 'vessel' ? e.mmsi != null && e.mmsi === facts.mmsi : e.berth === alongside!.berth),
      );
      const hit = hits.length >= rule.min_count;
      return { value: hit ? 1 : 0, why: `${hits.length} since ${from.toISOString()}`, evidence: hit ? hits.map((e) => `event ${e.id}`) : [] };
    }
  }
}

function indicatorApplies(ind: RiskIndicator, facts: VesselFacts, asOf: Date, derived: Record<string, unknown>): boolean {
  return ind.when.every((w) => evaluate(w, facts, asOf, derived).value > 0);
}

/**
 * Score one vessel against a model at `asOf`: a pure function of its inputs, so
 * the same facts and model always give the same score and breakdown.
 */
export function scoreVessel(model: RiskModel, facts: VesselFacts, asOf: Date): VesselScore {
  const derived: Record<string, unknown> = {};
  if (typeof facts.built === 'number') derived.age_years = asOf.getUTCFullYear() - facts.built;
  let points = 0;
  const breakdown: Record<string, IndicatorScore> = {};
  for (const g of model.groups)
    for (const f of g.factors)
      for (const ind of f.indicators) {
        if (!indicatorApplies(ind, facts, asOf, derived)) continue;
        const r = evaluate(ind.rule, facts, asOf, derived);
        const p = ind.weight * r.value;
        if (p === 0) continue;
        points += p;
        breakdown[ind.id] = { group: g.id, factor: f.id, points: p, rule: describeRule(ind.rule), why: r.why, evidence: r.evidence };
      }
  points = Math.round(points * 1000) / 1000;

  const misses: string[] = [];
  let profile = model.levels[model.levels.length - 1]!.level;
  let reason = '';
  for (const level of model.levels) {
    const failed: string[] = [];
    if (level.min_points !== undefined && points < level.min_points) failed.push(`${points} points < ${level.min_points}`);
    for (const c of level.all) {
      const r = evaluate(c.rule, facts, asOf, derived);
      if (r.value > 0 === c.negate) failed.push(`${c.description ?? c.id} (${r.why})`);
    }
    if (failed.length === 0) {
      profile = level.level;
      const met = [level.min_points !== undefined ? `${points} points ≥ ${level.min_points}` : null, level.all.length ? `all ${level.all.length} conditions met` : null].filter(Boolean);
      reason = [...misses, `${level.level}: ${met.length ? met.join('; ') : 'none of the levels before applies'}`].join('; ');
      break;
    }
    misses.push(`not ${level.level}: ${failed.join(', ')}`);
  }
  return {
    imo: facts.imo ?? null,
    mmsi: facts.mmsi ?? null,
    name: facts.name ?? null,
    model: model.name,
    model_sha256: model.sha256,
    as_of: asOf.toISOString(),
    profile,
    points,
    breakdown,
    profile_reason: reason,
  };
}
