import { redactUrl, type Path } from './env.js';
import { isPlainObject } from './expand.js';
import type { EnvReference } from './load.js';
import type { SiteConfig } from './schema.js';

const URL_LIKE = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;

/**
 * A JSON-ready copy of the config that is safe to print: every value that came
 * from the environment is shown as written (`${CAM_07_PASSWORD}`), and every
 * URL has its password and secret query values replaced by `***` (that also
 * catches a password written into the file itself).
 */
export function redactSiteConfig(config: SiteConfig, envRefs: readonly EnvReference[] = []): unknown {
  const copy = JSON.parse(JSON.stringify(config)) as unknown;
  for (const ref of envRefs) setAt(copy, ref.path, ref.template);
  return redactUrls(copy);
}

function redactUrls(value: unknown): unknown {
  if (typeof value === 'string') return URL_LIKE.test(value) ? redactUrl(value) : value;
  if (Array.isArray(value)) return value.map(redactUrls);
  if (isPlainObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactUrls(v)]));
  return value;
}

function setAt(tree: unknown, path: Path, value: unknown): void {
  let node = tree;
  for (const segment of path.slice(0, -1)) {
    if (Array.isArray(node) && typeof segment === 'number') node = node[segment];
    else if (isPlainObject(node)) node = node[String(segment)];
    else return;
  }
  const last = path[path.length - 1];
  if (last === undefined) return;
  if (Array.isArray(node) && typeof last === 'number') node[last] = value;
  else if (isPlainObject(node) && String(last) in node) node[String(last)] = value;
}
