/**
 * Credentials by environment reference. The site file is shared and versioned;
 * passwords are not. A stream URL says `rtsp://viewer:${CAM_07_PASSWORD}@host/...`
 * and the loader fills it in from the environment it is given (never from
 * process.env directly: the library has no process globals).
 *
 * References are resolved only in the fields that carry addresses (stream URLs,
 * feed host and path, webhook URLs). Everywhere else a `${` is an error: a
 * secret in an id or a name would end up in logs, rows and error messages.
 */

export type Path = (string | number)[];

/** The fields where `${NAME}` is resolved, on the expanded config's paths. */
export function isEnvField(path: readonly (string | number)[]): boolean {
  const [a, b, c, d] = path;
  if (path.length === 4 && a === 'cameras' && typeof b === 'number' && c === 'streams') return d === 'main' || d === 'sub';
  if (path.length === 3 && a === 'feeds' && typeof b === 'number') return c === 'host' || c === 'path';
  if (path.length === 4 && a === 'alerts' && b === 'routes' && typeof c === 'number') return d === 'url' || d === 'secret';
  return false;
}

export const ENV_FIELDS_DESCRIPTION = 'stream URLs, feed host and path, and webhook URLs';

export interface EnvResolution {
  value: string;
  /** Variables the text refers to. */
  names: string[];
  /** Variables referred to without a default that are unset or empty. */
  missing: string[];
  /** A malformed reference, e.g. "${CAM-07}"; the text is then left as it is. */
  malformed?: string;
}

const REF = /\$\$\{|\$\{([^}]*)\}?/g;
const NAME = /^([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?$/s;

/** True when the text holds a `${...}` reference (an escaped `$${` does not count). */
export function hasEnvReference(text: string): boolean {
  for (const m of text.matchAll(REF)) if (m[0] !== '$${') return true;
  return false;
}

/**
 * Replace `${NAME}` and `${NAME:-default}`; `$${` is a literal `${`. An unset or
 * empty variable without a default is reported as missing and its reference is
 * left in the text, so nothing half-resolved looks like a real value.
 */
export function resolveEnvReferences(text: string, env: Readonly<Record<string, string | undefined>>): EnvResolution {
  const names: string[] = [];
  const missing: string[] = [];
  let malformed: string | undefined;
  const value = text.replace(REF, (whole, inner: string | undefined) => {
    if (whole === '$${') return '${';
    const m = inner === undefined || !whole.endsWith('}') ? null : NAME.exec(inner);
    if (!m) {
      malformed ??= whole.endsWith('}') ? whole : `${whole}…`;
      return whole;
    }
    const name = m[1]!;
    names.push(name);
    const found = env[name];
    if (found !== undefined && found !== '') return found;
    if (m[2] !== undefined) return m[2];
    missing.push(name);
    return whole;
  });
  return malformed === undefined ? { value, names, missing } : { value: text, names, missing, malformed };
}

const SECRET_PARAMS = /^(password|passwd|pwd|pass|token|access_token|auth|authorization|key|apikey|api_key|secret|signature|sig)$/i;
const ENV_ONLY = /^\$\{[A-Za-z_][A-Za-z0-9_]*\}$/;

/**
 * The URL with its password and secret-looking query values replaced by `***`.
 * Works on text (not `new URL`) so a malformed URL is still redacted and the
 * rest of it is shown exactly as written. A password that is still an
 * unresolved `${NAME}` is kept: it names the variable, not the secret.
 */
export function redactUrl(url: string): string {
  const m = /^([A-Za-z][A-Za-z0-9+.-]*:\/\/)([^/?#]*@)?([^?#]*)(\?[^#]*)?(#.*)?$/s.exec(url);
  if (!m) return url;
  const [, scheme, userinfo, rest, query, fragment] = m;
  let out = scheme!;
  if (userinfo) {
    const info = userinfo.slice(0, -1);
    const colon = info.indexOf(':');
    if (colon < 0) out += `${info}@`;
    else {
      const password = info.slice(colon + 1);
      out += `${info.slice(0, colon)}:${ENV_ONLY.test(password) ? password : '***'}@`;
    }
  }
  out += rest ?? '';
  if (query) {
    out +=
      '?' +
      query
        .slice(1)
        .split('&')
        .map((pair) => {
          const eq = pair.indexOf('=');
          if (eq < 0) return pair;
          const key = pair.slice(0, eq);
          const value = pair.slice(eq + 1);
          return SECRET_PARAMS.test(decodeURIComponentSafe(key)) && !ENV_ONLY.test(value) ? `${key}=***` : pair;
        })
        .join('&');
  }
  return out + (fragment ?? '');
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/**
 * Variables whose value would break the URL where they stand: inside the
 * user:password part, `@ / ? #`, spaces and a bare `%` end or corrupt it
 * (the camera then answers "unauthorised" with no hint why). Such a value must
 * be stored percent-encoded (`@` as `%40`). Returns the offending names only.
 */
export function unsafeUserinfoValues(template: string, env: Readonly<Record<string, string | undefined>>): string[] {
  const m = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/((?:\$\{[^}]*\}|[^/?#@])*)@/.exec(template);
  if (!m) return [];
  const bad: string[] = [];
  for (const ref of m[1]!.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-[^}]*)?\}/g)) {
    const value = env[ref[1]!];
    if (value && /[@/?#\s]|%(?![0-9A-Fa-f]{2})/.test(value)) bad.push(ref[1]!);
  }
  return bad;
}

/** A password written into the file itself rather than by reference. */
export function hasInlinePassword(url: string): boolean {
  const m = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/([^/?#]*)@/.exec(url);
  if (!m) return false;
  const colon = m[1]!.indexOf(':');
  if (colon < 0) return false;
  const password = m[1]!.slice(colon + 1);
  return password !== '' && !hasEnvReference(password);
}
