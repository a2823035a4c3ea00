/**
 * RTSP authentication as cameras do it: Basic or Digest (RFC 2617 / 7616),
 * chosen from the server's 401 challenge. Credentials are only ever sent after
 * a challenge, never pre-emptively: Basic would put the password on the wire
 * to whoever answers.
 */
import { createHash, randomBytes } from 'node:crypto';

export interface AuthChallenge {
  /** Lower-case: 'basic', 'digest', ... */
  scheme: string;
  /** Parameter names lower-case, values unquoted. */
  params: Record<string, string>;
}

const TOKEN = /[!#$%&'*+.^_`|~0-9A-Za-z-]+/y;

/**
 * Parses WWW-Authenticate values. One value may carry several challenges
 * (`Digest realm="a", nonce="b", Basic realm="a"`), and a server may send the
 * header several times.
 */
export function parseChallenges(values: readonly string[]): AuthChallenge[] {
  const out: AuthChallenge[] = [];
  for (const value of values) {
    let current: AuthChallenge | null = null;
    let i = 0;
    while (i < value.length) {
      const c = value[i];
      if (c === ' ' || c === '\t' || c === ',') {
        i++;
        continue;
      }
      TOKEN.lastIndex = i;
      const m = TOKEN.exec(value);
      if (!m) {
        i++; // a stray character: skip it rather than give up on the rest
        continue;
      }
      const token = m[0];
      i += token.length;
      let j = i;
      while (value[j] === ' ' || value[j] === '\t') j++;
      if (value[j] !== '=' || !current) {
        current = { scheme: token.toLowerCase(), params: {} };
        out.push(current);
        continue;
      }
      j++;
      while (value[j] === ' ' || value[j] === '\t') j++;
      let v = '';
      if (value[j] === '"') {
        j++;
        while (j < value.length && value[j] !== '"') {
          if (value[j] === '\\' && j + 1 < value.length) j++;
          v += value[j];
          j++;
        }
        j++; // the closing quote
      } else {
        const end = value.indexOf(',', j);
        v = value.slice(j, end < 0 ? value.length : end).trim();
        j = end < 0 ? value.length : end;
      }
      current.params[token.toLowerCase()] = v;
      i = j;
    }
  }
  return out;
}

const HASHES: Record<string, string> = { md5: 'md5', 'md5-sess': 'md5', 'sha-256': 'sha256', 'sha-256-sess': 'sha256' };

/** Digest (in the server's order, the first we can do) over Basic; null when neither is offered. */
export function chooseChallenge(challenges: readonly AuthChallenge[]): AuthChallenge | null {
  const digest = challenges.find((c) => c.scheme === 'digest' && Object.hasOwn(HASHES, (c.params.algorithm ?? 'md5').toLowerCase()) && c.params.nonce);
  return digest ?? challenges.find((c) => c.scheme === 'basic') ?? null;
}

export function isStale(challenge: AuthChallenge): boolean {
  return challenge.scheme === 'digest' && challenge.params.stale?.toLowerCase() === 'true';
}

export interface DigestInput {
  user: string;
  password: string;
  realm: string;
  nonce: string;
  method: string;
  uri: string;
  /** 'MD5' when absent. */
  algorithm?: string;
  /** With qop=auth: the client nonce and the 8-hex-digit request count. */
  qop?: 'auth';
  cnonce?: string;
  nc?: string;
}

/** The `response` value of RFC 2617 §3.2.2.1 (RFC 7616 §3.4.1 for SHA-256). */
export function digestResponse(d: DigestInput): string {
  const algorithm = (d.algorithm ?? 'MD5').toLowerCase();
  const hash = (s: string) => createHash(HASHES[algorithm] ?? 'md5').update(s).digest('hex');
  let ha1 = hash(`${d.user}:${d.realm}:${d.password}`);
  if (algorithm.endsWith('-sess')) ha1 = hash(`${ha1}:${d.nonce}:${d.cnonce ?? ''}`);
  const ha2 = hash(`${d.method}:${d.uri}`);
  return d.qop ? hash(`${ha1}:${d.nonce}:${d.nc}:${d.cnonce}:${d.qop}:${ha2}`) : hash(`${ha1}:${d.nonce}:${ha2}`);
}

const quote = (s: string) => `"${s.replace(/[\\"]/g, '\\$&')}"`;

/** Builds the Authorization header for each request once a challenge has been answered. */
export class RtspAuthenticator {
  // Private (#) so that logging or inspecting the object cannot show them.
  readonly #user: string;
  readonly #password: string;
  #challenge: AuthChallenge;
  #count = 0;
  readonly #makeCnonce: () => string;

  constructor(user: string, password: string, challenge: AuthChallenge, makeCnonce = () => randomBytes(8).toString('hex')) {
    this.#user = user;
    this.#password = password;
    this.#challenge = challenge;
    this.#makeCnonce = makeCnonce;
  }

  get scheme(): string {
    return this.#challenge.scheme;
  }

  header(method: string, uri: string): string {
    const c = this.#challenge;
    if (c.scheme === 'basic') return `Basic ${Buffer.from(`${this.#user}:${this.#password}`).toString('base64')}`;
    const p = c.params;
    const qop = (p.qop ?? '')
      .split(',')
      .map((s) => s.trim().toLowerCase())
      .includes('auth')
      ? 'auth'
      : undefined;
    // The count restarts with each nonce; servers that check it reject a replayed one.
    const nc = qop ? (++this.#count).toString(16).padStart(8, '0') : undefined;
    const cnonce = qop || p.algorithm?.toLowerCase().endsWith('-sess') ? this.#makeCnonce() : undefined;
    const response = digestResponse({
      user: this.#user,
      password: this.#password,
      realm: p.realm ?? '',
      nonce: p.nonce ?? '',
      method,
      uri,
      algorithm: p.algorithm,
      qop,
      cnonce,
      nc,
    });
    const fields = [`username=${quote(this.#user)}`, `realm=${quote(p.realm ?? '')}`, `nonce=${quote(p.nonce ?? '')}`, `uri=${quote(uri)}`, `response=${quote(response)}`];
    // Echo the algorithm only when the server named it: some cameras choke on fields they did not ask for.
    if (p.algorithm) fields.push(`algorithm=${p.algorithm}`);
    if (p.opaque !== undefined) fields.push(`opaque=${quote(p.opaque)}`);
    if (qop) fields.push(`qop=${qop}`, `nc=${nc}`);
    if (cnonce) fields.push(`cnonce=${quote(cnonce)}`);
    return `Digest ${fields.join(', ')}`;
  }
}
