import { Store } from './store.js';

/**
 * The API client. Every call carries the signed-in token as a Bearer header;
 * the live stream is read with fetch (EventSource cannot send that header) and
 * resumed after a break with Last-Event-ID.
 */

export type Role = 'admin' | 'operator' | 'analyst' | 'inspector' | 'enterprise';

export interface Session {
  token: string;
  role: Role;
  name: string;
  /** The inspector this token belongs to (role inspector). */
  inspector_id?: string | null;
}

const SESSION_KEY = 'portwatch.session';
function loadSession(): Session | null {
  try {
    const s = JSON.parse(sessionStorage.getItem(SESSION_KEY) ?? 'null') as Session | null;
    return s && typeof s.token === 'string' ? s : null;
  } catch {
    return null;
  }
}
export const sessionStore = new Store<Session | null>(loadSession());

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function headers(extra?: Record<string, string>): Record<string, string> {
  const s = sessionStore.get();
  return { ...(s ? { authorization: `Bearer ${s.token}` } : {}), ...extra };
}

async function failure(res: Response): Promise<ApiError> {
  let message = `${res.status} ${res.statusText}`;
  try {
    const body = (await res.json()) as { message?: string; error?: string };
    message = body.message ?? body.error ?? message;
  } catch {
    /* not JSON: keep the status line */
  }
  if (res.status === 401) signOut();
  return new ApiError(res.status, message);
}

export async function get<T>(path: string, token?: string): Promise<T> {
  const res = await fetch(path, { headers: token ? { authorization: `Bearer ${token}` } : headers() });
  if (!res.ok) throw await failure(res);
  return (await res.json()) as T;
}

export async function send<T>(method: 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, body?: unknown): Promise<T> {
  const isForm = body instanceof FormData;
  const res = await fetch(path, {
    method,
    headers: headers(body === undefined || isForm ? {} : { 'content-type': 'application/json' }),
    body: body === undefined ? null : isForm ? body : JSON.stringify(body),
  });
  if (!res.ok) throw await failure(res);
  const text = await res.text();
  return (text ? JSON.parse(text) : null) as T;
}

/** A protected binary (a snapshot, a clip, a CSV) as an object URL the page can show. */
export async function blobUrl(path: string): Promise<string> {
  const res = await fetch(path, { headers: headers() });
  if (!res.ok) throw await failure(res);
  return URL.createObjectURL(await res.blob());
}

export async function download(path: string, filename: string): Promise<void> {
  const url = await blobUrl(path);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function signIn(s: Session): void {
  sessionStorage.setItem(SESSION_KEY, JSON.stringify(s));
  sessionStore.set(s);
}

export function signOut(): void {
  sessionStorage.removeItem(SESSION_KEY);
  sessionStore.set(null);
}

// ------------------------------------------------------------------ live stream

export interface StreamMessage {
  id: string | null;
  event: string;
  data: unknown;
}

export const streamState = new Store<'connecting' | 'open' | 'closed'>('closed');

/**
 * Follows /api/stream until `stop()`: parses server-sent events from the fetch
 * body and reconnects with backoff, sending the last id seen so nothing is missed.
 */
export function followStream(onMessage: (m: StreamMessage) => void, path = '/api/stream'): () => void {
  let stopped = false;
  let lastId: string | null = null;
  let controller: AbortController | null = null;
  let delay = 500;

  const run = async (): Promise<void> => {
    while (!stopped) {
      controller = new AbortController();
      streamState.set('connecting');
      try {
        const res = await fetch(path, {
          headers: headers({ accept: 'text/event-stream', ...(lastId ? { 'last-event-id': lastId } : {}) }),
          signal: controller.signal,
        });
        if (!res.ok || !res.body) throw await failure(res);
        streamState.set('open');
        delay = 500;
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buf = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += value;
          let cut: number;
          while ((cut = buf.search(/\r?\n\r?\n/)) >= 0) {
            const block = buf.slice(0, cut);
            buf = buf.slice(cut).replace(/^\r?\n\r?\n/, '');
            const m = parseEvent(block);
            if (m) {
              if (m.id) lastId = m.id;
              onMessage(m);
            }
          }
        }
      } catch (err) {
        if (stopped) break;
        if (err instanceof ApiError && err.status === 401) break;
      }
      streamState.set('closed');
      if (stopped) break;
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 10_000);
    }
  };
  void run();
  return () => {
    stopped = true;
    controller?.abort();
    streamState.set('closed');
  };
}

export function parseEvent(block: string): StreamMessage | null {
  let id: string | null = null;
  let event = 'message';
  const data: string[] = [];
  for (const line of block.split(/\r?\n/)) {
    if (!line || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'id') id = value;
    else if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
  }
  if (data.length === 0) return null;
  const text = data.join('\n');
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    /* plain text data */
  }
  return { id, event, data: parsed };
}
