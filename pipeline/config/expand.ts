import type { Path } from './env.js';

/**
 * Camera groups: the compact notation for many alike cameras. A group is a
 * camera template plus `count`, `start` and a berth assignment; `{n}`, `{n:03}`
 * and `{berth}` in any of its strings are filled in per camera. Entries in
 * `cameras` whose id matches an expanded camera override it field by field
 * (mappings merge, lists and scalars replace, `null` removes); other entries
 * add cameras. `defaults.detect` is merged under every camera's `detect`.
 *
 * Every expanded camera keeps its provenance: which place in the file each of
 * its values came from, so an error in camera dock-017's zone points at the
 * group's zone template, and an override's error at the override.
 */

export interface Provenance {
  path: Path;
  children?: Map<string, Provenance>;
}

interface Tracked {
  value: unknown;
  prov: Provenance;
}

export interface Finding {
  /** A path in the file (source) or in the expanded config (expanded), see `space`. */
  path: Path;
  message: string;
  severity: 'error' | 'warning';
  code: IssueCode;
  /** Set for an unknown field: the issue points at this key inside `path`. */
  key?: string;
}

export type IssueCode = 'file' | 'yaml' | 'schema' | 'group' | 'missing_env' | 'env' | 'duplicate' | 'reference' | 'credentials';

export interface Expansion {
  /** The site with `camera_groups` expanded into `cameras`, defaults merged in. */
  tree: unknown;
  /** One per expanded camera, in order. */
  camera_provenance: Provenance[];
  /** Problems in the groups themselves, on source paths. */
  findings: Finding[];
  groups: number;
  overridden: number;
}

export const GROUP_HEAD_KEYS = ['count', 'start', 'berths'] as const;
const MAX_GROUP_SIZE = 2000;

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const childProv = (p: Provenance, key: string | number): Provenance => p.children?.get(String(key)) ?? { path: [...p.path, key] };

function merge(base: Tracked, over: Tracked): Tracked {
  if (!isPlainObject(base.value) || !isPlainObject(over.value)) return over;
  const value: Record<string, unknown> = {};
  const children = new Map<string, Provenance>();
  for (const [k, v] of Object.entries(base.value)) {
    value[k] = v;
    children.set(k, childProv(base.prov, k));
  }
  for (const [k, v] of Object.entries(over.value)) {
    if (v === null && k in value) {
      delete value[k];
      children.delete(k);
      continue;
    }
    if (k in value) {
      const m = merge({ value: value[k], prov: children.get(k)! }, { value: v, prov: childProv(over.prov, k) });
      value[k] = m.value;
      children.set(k, m.prov);
    } else {
      value[k] = v;
      children.set(k, childProv(over.prov, k));
    }
  }
  return { value, prov: { path: over.prov.path, children } };
}

/** The file path a value of expanded camera `index` came from. */
export function sourcePath(path: Path, cameraProvenance: readonly Provenance[]): Path {
  if (path[0] !== 'cameras' || typeof path[1] !== 'number') return path;
  let prov = cameraProvenance[path[1]];
  if (!prov) return path;
  let i = 2;
  while (i < path.length && prov.children?.has(String(path[i]))) {
    prov = prov.children.get(String(path[i]))!;
    i++;
  }
  return [...prov.path, ...path.slice(i)];
}

// ---------------------------------------------------------------- templates

const PLACEHOLDER = /(?<!\$)\{([A-Za-z_][A-Za-z0-9_]*)(?::([^}]*))?\}/g;

interface TemplateVars {
  n: number;
  berth: string | undefined;
}

function fillText(text: string, vars: TemplateVars): string {
  return text.replace(PLACEHOLDER, (whole, name: string, format: string | undefined) => {
    if (name === 'n') return format ? String(vars.n).padStart(Number(format), '0') : String(vars.n);
    if (name === 'berth') return vars.berth ?? '';
    return whole;
  });
}

function fill(value: unknown, vars: TemplateVars): unknown {
  if (typeof value === 'string') return fillText(value, vars);
  if (Array.isArray(value)) return value.map((v) => fill(v, vars));
  if (isPlainObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fill(v, vars)]));
  return value;
}

/** Placeholders the group's strings use, with where; unknown ones become findings. */
function scanPlaceholders(value: unknown, path: Path, out: Finding[], used: Set<string>): void {
  if (typeof value === 'string') {
    for (const m of value.matchAll(PLACEHOLDER)) {
      const [, name, format] = m;
      if (name === 'n') {
        used.add('n');
        if (format !== undefined && !/^0?\d{1,2}$/.test(format)) out.push(error(path, `"{n:${format}}" is not a number format; write {n} or {n:03}`, 'group'));
      } else if (name === 'berth' && format === undefined) used.add('berth');
      else out.push(error(path, `unknown placeholder "${m[0]}"; a group template knows {n}, {n:03} and {berth}`, 'group'));
    }
  } else if (Array.isArray(value)) value.forEach((v, i) => scanPlaceholders(v, [...path, i], out, used));
  else if (isPlainObject(value)) for (const [k, v] of Object.entries(value)) scanPlaceholders(v, [...path, k], out, used);
}

const error = (path: Path, message: string, code: Finding['code']): Finding => ({ path, message, severity: 'error', code });

// ---------------------------------------------------------------- groups

interface BerthPlan {
  berthFor(n: number): { berth: string; source: Path } | undefined;
}

function planBerths(group: Record<string, unknown>, gp: Path, first: number, last: number, out: Finding[]): BerthPlan | null {
  const { berth, berths } = group;
  if (berth !== undefined && berths !== undefined) {
    out.push(error([...gp, 'berths'], 'give either berth (one for all) or berths (cycled list or per-number map), not both', 'group'));
    return null;
  }
  if (berths === undefined) {
    return { berthFor: () => (typeof berth === 'string' ? { berth, source: [...gp, 'berth'] } : undefined) };
  }
  if (Array.isArray(berths)) {
    if (berths.length === 0) {
      out.push(error([...gp, 'berths'], 'list at least one berth, or leave berths out', 'group'));
      return null;
    }
    // Cycled: camera number n gets berths[(n - start) mod length].
    return {
      berthFor: (n) => {
        const i = (n - first) % berths.length;
        const b = berths[i];
        return { berth: b as string, source: [...gp, 'berths', i] };
      },
    };
  }
  if (isPlainObject(berths)) {
    const owner = new Map<number, { berth: string; source: Path }>();
    let ok = true;
    for (const [key, b] of Object.entries(berths)) {
      const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(key);
      const kp = [...gp, 'berths', key];
      const keyError = (message: string): Finding => ({ path: [...gp, 'berths'], key, message, severity: 'error', code: 'group' });
      if (!m) {
        out.push(keyError('a berths key is a camera number or a range such as "1-4"'));
        ok = false;
        continue;
      }
      const lo = Number(m[1]);
      const hi = m[2] === undefined ? lo : Number(m[2]);
      if (hi < lo || lo < first || hi > last) {
        out.push(keyError(`camera numbers in this group run from ${first} to ${last}`));
        ok = false;
        continue;
      }
      for (let n = lo; n <= hi; n++) {
        if (owner.has(n)) {
          out.push(keyError(`camera number ${n} is already given a berth by another key`));
          ok = false;
          break;
        }
        owner.set(n, { berth: b as string, source: kp });
      }
    }
    return ok ? { berthFor: (n) => owner.get(n) } : null;
  }
  out.push(error([...gp, 'berths'], 'berths is a list (cycled over the cameras) or a map from camera numbers or ranges ("1-4") to berth ids', 'group'));
  return null;
}

function expandGroup(group: unknown, g: number, out: Finding[]): Tracked[] {
  const gp: Path = ['camera_groups', g];
  if (!isPlainObject(group)) {
    out.push(error(gp, 'a camera group is a mapping with id, count and the camera fields', 'group'));
    return [];
  }
  const before = out.length;
  const { id, count } = group;
  const start = group.start ?? 1;
  if (count === undefined) out.push(error([...gp, 'count'], 'count is required: how many cameras the group expands to', 'group'));
  else if (!Number.isInteger(count) || (count as number) < 1 || (count as number) > MAX_GROUP_SIZE) out.push(error([...gp, 'count'], `count is a whole number from 1 to ${MAX_GROUP_SIZE}`, 'group'));
  if (!Number.isInteger(start) || (start as number) < 0) out.push(error([...gp, 'start'], 'start is the first camera number, a whole number from 0', 'group'));
  if (typeof id !== 'string') out.push(error([...gp, 'id'], id === undefined ? 'id is required: a template such as "dock-{n:03}"' : 'id is a text template such as "dock-{n:03}"', 'group'));
  const used = new Set<string>();
  scanPlaceholders(group, gp, out, used);
  if (typeof id === 'string' && count !== 1 && !/(?<!\$)\{n(?::[^}]*)?\}/.test(id)) {
    out.push(error([...gp, 'id'], 'the id template must contain {n} or {n:03} so that each camera gets its own id', 'group'));
  }
  if (out.length > before) return [];
  const first = start as number;
  const last = first + (count as number) - 1;
  const plan = planBerths(group, gp, first, last, out);
  if (!plan) return [];

  const template: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(group)) if (!(GROUP_HEAD_KEYS as readonly string[]).includes(k) && k !== 'berth') template[k] = v;

  const cameras: Tracked[] = [];
  const missingBerth: number[] = [];
  for (let n = first; n <= last; n++) {
    const assigned = plan.berthFor(n);
    if (!assigned && used.has('berth')) missingBerth.push(n);
    const value = fill(template, { n, berth: assigned?.berth }) as Record<string, unknown>;
    const children = new Map<string, Provenance>();
    if (assigned) {
      value.berth = assigned.berth;
      children.set('berth', { path: assigned.source });
    }
    cameras.push({ value, prov: { path: gp, children } });
  }
  if (missingBerth.length > 0) {
    out.push(error(gp, missingBerth.length > 1 ? `the template uses {berth} but camera numbers ${compactRanges(missingBerth)} get no berth` : `the template uses {berth} but camera number ${missingBerth[0]} gets no berth`, 'group'));
  }
  return cameras;
}

function compactRanges(ns: number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < ns.length; ) {
    let j = i;
    while (j + 1 < ns.length && ns[j + 1] === ns[j]! + 1) j++;
    parts.push(i === j ? `${ns[i]}` : `${ns[i]}-${ns[j]}`);
    i = j + 1;
  }
  return parts.join(', ');
}

export function expandSite(raw: unknown): Expansion {
  const findings: Finding[] = [];
  if (!isPlainObject(raw)) return { tree: raw, camera_provenance: [], findings, groups: 0, overridden: 0 };

  const { camera_groups: groups, cameras: entries, defaults } = raw;
  const tree: Record<string, unknown> = { ...raw };
  delete tree.camera_groups;
  // `berths:` with every entry commented out is an empty section, not a type error.
  for (const [key, value] of Object.entries(tree)) if (value === null) delete tree[key];

  const defaultsDetect = isPlainObject(defaults) && defaults.detect !== undefined && defaults.detect !== null ? defaults.detect : undefined;
  const withDefaults = (camera: Tracked): Tracked =>
    defaultsDetect === undefined
      ? camera
      : merge({ value: { detect: defaultsDetect }, prov: { path: [], children: new Map([['detect', { path: ['defaults', 'detect'] }]]) } }, camera);

  const expanded: Tracked[] = [];
  let groupCount = 0;
  if (groups !== undefined && groups !== null) {
    if (!Array.isArray(groups)) findings.push(error(['camera_groups'], 'camera_groups is a list of groups', 'group'));
    else {
      groupCount = groups.length;
      groups.forEach((group, g) => {
        for (const camera of expandGroup(group, g, findings)) expanded.push(withDefaults(camera));
      });
    }
  }

  const fromGroups = new Map<string, number>();
  expanded.forEach((c, i) => {
    const id = isPlainObject(c.value) ? c.value.id : undefined;
    if (typeof id === 'string' && !fromGroups.has(id)) fromGroups.set(id, i);
  });

  let overridden = 0;
  if (entries !== undefined && entries !== null && !Array.isArray(entries)) {
    findings.push(error(['cameras'], 'cameras is a list of cameras', 'schema'));
  } else if (Array.isArray(entries)) {
    entries.forEach((entry, i) => {
      const tracked: Tracked = { value: entry, prov: { path: ['cameras', i] } };
      const id = isPlainObject(entry) ? entry.id : undefined;
      const target = typeof id === 'string' ? fromGroups.get(id) : undefined;
      if (target !== undefined) {
        // Only the first entry overrides; a second one with the same id is a duplicate camera.
        fromGroups.delete(id as string);
        expanded[target] = merge(expanded[target]!, tracked);
        overridden++;
      } else expanded.push(withDefaults(tracked));
    });
  }

  if (expanded.length > 0 || Array.isArray(entries)) tree.cameras = expanded.map((c) => c.value);
  return { tree, camera_provenance: expanded.map((c) => c.prov), findings, groups: groupCount, overridden };
}
