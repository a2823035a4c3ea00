import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import type { core } from 'zod';
import { crossCheck } from './cross-check.js';
import { ENV_FIELDS_DESCRIPTION, hasEnvReference, hasInlinePassword, isEnvField, resolveEnvReferences, unsafeUserinfoValues, type Path } from './env.js';
import { expandSite, isPlainObject, sourcePath, type Finding, type IssueCode } from './expand.js';
import { formatPath, SourceLocator } from './positions.js';
import { makeSiteConfigSchema, type SiteConfig } from './schema.js';
import { canonicalTimeZone } from './time.js';

/** One problem in a site file, where it is and what to do about it. */
export interface ConfigIssue {
  file: string;
  /** 1-based; absent when the file could not be read at all. */
  line?: number;
  column?: number;
  /** Dotted path in the file, e.g. "camera_groups.0.zones.1.polygon"; "" for YAML syntax errors. */
  path: string;
  message: string;
  severity: 'error' | 'warning';
  code: IssueCode;
}

/** A field whose value came from the environment, with the text as written (after {n} filling). */
export interface EnvReference {
  /** Path in the expanded config, e.g. ["cameras", 7, "streams", "main"]. */
  path: Path;
  template: string;
  names: string[];
}

export interface SiteSummary {
  site: string;
  cameras: number;
  berths: number;
  zones: number;
  tripwires: number;
  feeds: number;
  inspectors: number;
}

export interface ConfigCheckResult {
  file: string;
  /** The validated config, or null when there is any error. */
  config: SiteConfig | null;
  /** Errors and warnings, sorted by position, duplicates (from expanded groups) folded. */
  issues: ConfigIssue[];
  errors: number;
  warnings: number;
  env_refs: EnvReference[];
  /** Camera groups in the file and expanded cameras replaced by an entry in `cameras`. */
  groups: number;
  overridden: number;
}

export interface LoadOptions {
  /** Where `${NAME}` references are looked up; the library never reads process.env itself. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Report unset variables as warnings (checking a file before its secrets are in place). */
  allow_missing_env?: boolean;
}

export interface CheckTextOptions extends LoadOptions {
  /** Name shown in issues. */
  file: string;
  /** Relative paths in the file resolve from here; defaults to the file's directory. */
  base_dir?: string;
}

/** Thrown by loadSiteConfig: carries every issue, so a worker refuses to start and says why. */
export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly issues: ConfigIssue[],
  ) {
    const errors = issues.filter((i) => i.severity === 'error');
    const shown = errors.slice(0, 20).map(formatIssue);
    const more = errors.length > shown.length ? [`… and ${errors.length - shown.length} more (run: portwatch config check ${file})`] : [];
    super(`${file}: ${errors.length} error${errors.length === 1 ? '' : 's'} in the site config\n${[...shown, ...more].join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * `FILE:LINE:COLUMN path.to.field: reason`. YAML syntax errors show "(yaml)" as
 * their path, problems with the whole document "(top level)"; an unreadable file is `FILE: reason`.
 */
export function formatIssue(issue: ConfigIssue): string {
  const where = issue.line === undefined ? issue.file : `${issue.file}:${issue.line}:${issue.column ?? 1}`;
  const what = issue.code === 'file' ? '' : ` ${issue.path !== '' ? issue.path : issue.code === 'yaml' ? '(yaml)' : '(top level)'}`;
  return `${where}${what}: ${issue.severity === 'warning' ? 'warning: ' : ''}${issue.message}`;
}

export function loadSiteConfig(file: string, options: LoadOptions = {}): SiteConfig {
  const result = checkSiteConfig(file, options);
  if (!result.config) throw new ConfigError(file, result.issues);
  return result.config;
}

export function checkSiteConfig(file: string, options: LoadOptions = {}): ConfigCheckResult {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : `cannot read the file (${(err as Error).message})`;
    return emptyResult(file, [{ file, path: '', message: reason, severity: 'error', code: 'file' }]);
  }
  return checkSiteConfigText(text, { ...options, file, base_dir: path.dirname(path.resolve(file)) });
}

function emptyResult(file: string, issues: ConfigIssue[]): ConfigCheckResult {
  return { file, config: null, issues, errors: issues.filter((i) => i.severity === 'error').length, warnings: issues.filter((i) => i.severity === 'warning').length, env_refs: [], groups: 0, overridden: 0 };
}

export function checkSiteConfigText(text: string, options: CheckTextOptions): ConfigCheckResult {
  const { file } = options;
  const baseDir = options.base_dir ?? path.dirname(path.resolve(file));
  const env = options.env ?? {};
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, merge: true, uniqueKeys: true });

  const yamlIssues: ConfigIssue[] = [];
  for (const [list, severity] of [[doc.errors, 'error'], [doc.warnings, 'warning']] as const) {
    for (const e of list) {
      const { line, col } = lines.linePos(e.pos[0]);
      yamlIssues.push({ file, line, column: col, path: '', message: yamlMessage(e.message), severity, code: 'yaml' });
    }
  }
  // After a syntax error the tree is a guess; checking it would bury the real error in noise.
  if (doc.errors.length > 0) return emptyResult(file, yamlIssues);

  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: 10_000 });
  } catch (err) {
    return emptyResult(file, [...yamlIssues, { file, line: 1, column: 1, path: '', message: (err as Error).message, severity: 'error', code: 'yaml' }]);
  }
  if (!isPlainObject(raw)) {
    const { line, column } = raw === null || raw === undefined ? { line: 1, column: 1 } : new SourceLocator(doc, lines).position([]);
    const message = raw === null || raw === undefined ? 'the file is empty' : 'a site file is a mapping of sections';
    return emptyResult(file, [...yamlIssues, { file, line, column, path: '', message: `${message}; it starts with site: (name, timezone), then cameras, berths, feeds…`, severity: 'error', code: 'schema' }]);
  }

  const locator = new SourceLocator(doc, lines);
  const sourceFindings: Finding[] = [];
  const expandedFindings: Finding[] = [];

  const expansion = expandSite(raw);
  sourceFindings.push(...expansion.findings);

  let timezone = 'UTC';
  const site = isPlainObject(raw) && isPlainObject(raw.site) ? raw.site : undefined;
  let canonicalZone: string | null = null;
  if (typeof site?.timezone === 'string') {
    canonicalZone = canonicalTimeZone(site.timezone);
    if (canonicalZone) timezone = canonicalZone;
    else sourceFindings.push({ path: ['site', 'timezone'], message: 'unknown time zone; use an IANA name such as Asia/Shanghai or Europe/Amsterdam', severity: 'error', code: 'schema' });
  }

  // Environment references, resolved into a fresh tree (YAML aliases share objects; never mutate).
  const envRefs: EnvReference[] = [];
  const unresolved: Path[] = [];
  const tree = mapStrings(expansion.tree, [], (value, p) => {
    // A password written into the file is a leak waiting to happen (the file is versioned).
    if (isEnvField(p) && p[0] !== 'feeds' && hasInlinePassword(value)) {
      expandedFindings.push({ path: p, message: 'a password is written into the file; use an environment reference such as ${CAM_PASSWORD}', severity: 'warning', code: 'credentials' });
    }
    if (!value.includes('${')) return value;
    if (!isEnvField(p)) {
      if (hasEnvReference(value)) {
        expandedFindings.push({ path: p, message: `environment references are resolved only in ${ENV_FIELDS_DESCRIPTION}`, severity: 'error', code: 'env' });
        return value;
      }
      return value.replaceAll('$${', '${');
    }
    const r = resolveEnvReferences(value, env);
    if (r.malformed) {
      expandedFindings.push({ path: p, message: `malformed environment reference ${r.malformed}; write \${NAME} or \${NAME:-default} (NAME: letters, digits, _)`, severity: 'error', code: 'env' });
      unresolved.push(p);
      return value;
    }
    if (r.names.length > 0) envRefs.push({ path: p, template: value, names: r.names });
    const unsafe = unsafeUserinfoValues(value, env);
    for (const name of unsafe) {
      expandedFindings.push({ path: p, message: `the value of ${name} holds characters that break a URL's user:password part (@ / ? # % or spaces); store it percent-encoded, e.g. @ as %40`, severity: 'error', code: 'env' });
    }
    if (unsafe.length > 0) unresolved.push(p);
    for (const name of new Set(r.missing)) {
      expandedFindings.push({ path: p, message: `environment variable ${name} is not set`, severity: options.allow_missing_env ? 'warning' : 'error', code: 'missing_env' });
    }
    if (r.missing.length > 0) unresolved.push(p);
    return r.value;
  });
  if (canonicalZone && isPlainObject(tree) && isPlainObject(tree.site)) tree.site = { ...tree.site, timezone: canonicalZone };

  const schema = makeSiteConfigSchema({ timezone, base_dir: baseDir });
  const parsed = schema.safeParse(tree);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const p = issue.path.filter((s): s is string | number => typeof s !== 'symbol');
      // A value still holding an unset ${VAR} is not final; its missing variable is the error to report.
      if (unresolved.some((u) => u.length <= p.length && u.every((s, i) => s === p[i]))) continue;
      if (issue.code === 'unrecognized_keys') {
        for (const key of issue.keys) expandedFindings.push({ path: p, key, message: 'unknown field (see docs/config.md for the fields of this section)', severity: 'error', code: 'schema' });
      } else expandedFindings.push({ path: p, message: describeZodIssue(issue, valueAt(tree, p) !== undefined), severity: 'error', code: 'schema' });
    }
  }

  const toSource = (p: Path) => sourcePath(p, expansion.camera_provenance);
  const where = (p: Path) => `line ${locator.position(toSource(p)).line}`;
  expandedFindings.push(...crossCheck(tree, where));

  if (parsed.success) {
    parsed.data.feeds.forEach((feed, i) => {
      if (feed.protocol === 'file' && !existsSync(feed.path)) {
        expandedFindings.push({ path: ['feeds', i, 'path'], message: 'the file does not exist (yet); the feed will fail when it starts', severity: 'warning', code: 'reference' });
      }
    });
  }

  const issues: ConfigIssue[] = [...yamlIssues];
  const seen = new Set<string>();
  const add = (f: Finding, source: Path) => {
    const pos = f.key === undefined ? locator.position(source) : locator.keyPosition(source, f.key);
    const issue: ConfigIssue = { file, line: pos.line, column: pos.column, path: formatPath(f.key === undefined ? source : [...source, f.key]), message: f.message, severity: f.severity, code: f.code };
    const key = formatIssue(issue);
    if (seen.has(key)) return;
    seen.add(key);
    issues.push(issue);
  };
  for (const f of sourceFindings) add(f, f.path);
  for (const f of expandedFindings) add(f, toSource(f.path));
  issues.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0) || a.path.localeCompare(b.path));

  const errors = issues.filter((i) => i.severity === 'error').length;
  return {
    file,
    config: errors === 0 && parsed.success ? parsed.data : null,
    issues,
    errors,
    warnings: issues.length - errors,
    env_refs: envRefs,
    groups: expansion.groups,
    overridden: expansion.overridden,
  };
}

export function summarizeSiteConfig(config: SiteConfig): SiteSummary {
  return {
    site: config.site.name,
    cameras: config.cameras.length,
    berths: config.berths.length,
    zones: config.cameras.reduce((n, c) => n + c.zones.length, 0),
    tripwires: config.cameras.reduce((n, c) => n + c.tripwires.length, 0),
    feeds: config.feeds.length,
    inspectors: config.inspectors.length,
  };
}

// ---------------------------------------------------------------- helpers

function mapStrings(value: unknown, p: Path, fn: (s: string, p: Path) => string): unknown {
  if (typeof value === 'string') return fn(value, p);
  if (Array.isArray(value)) return value.map((v, i) => mapStrings(v, [...p, i], fn));
  if (isPlainObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapStrings(v, [...p, k], fn)]));
  return value;
}

function valueAt(tree: unknown, p: Path): unknown {
  let v = tree;
  for (const s of p) {
    if (Array.isArray(v) && typeof s === 'number') v = v[s];
    else if (isPlainObject(v)) v = v[String(s)];
    else return undefined;
  }
  return v;
}

/** The yaml library's message without its own position suffix (we print positions first). */
function yamlMessage(message: string): string {
  if (message.startsWith('Source contains multiple documents')) return 'the file holds more than one YAML document (---); a site file is one document';
  return message.replace(/ at line \d+, column \d+:?[\s\S]*$/, '').trim();
}

const TYPE_NAMES: Record<string, string> = {
  string: 'text',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  array: 'a list',
  tuple: 'a list',
  object: 'a mapping',
  date: 'a date-time',
};
const ZOD_DEFAULT = /^(Invalid|Too (small|big)|Unrecognized)/;

function describeZodIssue(issue: core.$ZodIssue, exists: boolean): string {
  const custom = !ZOD_DEFAULT.test(issue.message);
  switch (issue.code) {
    case 'invalid_type': {
      const expected = TYPE_NAMES[issue.expected] ?? issue.expected;
      if (!exists) return custom ? `required: ${issue.message}` : `required (expected ${expected})`;
      return custom ? issue.message : `expected ${expected}`;
    }
    case 'invalid_value':
      return custom ? issue.message : `must be one of ${issue.values.map(String).join(', ')}`;
    case 'too_small':
    case 'too_big': {
      if (custom) return issue.message;
      const bound = issue.code === 'too_small' ? issue.minimum : issue.maximum;
      const op = issue.code === 'too_small' ? (issue.inclusive ? 'at least' : 'above') : issue.inclusive ? 'at most' : 'below';
      if (issue.origin === 'array') return `needs ${op} ${String(bound)} item${Number(bound) === 1 ? '' : 's'}`;
      if (issue.origin === 'string') return Number(bound) === 1 && issue.code === 'too_small' ? 'must not be empty' : `needs ${op} ${String(bound)} characters`;
      return `must be ${op} ${String(bound)}`;
    }
    case 'invalid_union':
      return custom ? issue.message : 'does not match any of the allowed forms (see docs/config.md)';
    default:
      return issue.message;
  }
}
