/**
 * Receives a camera's video over RTSP with RTP interleaved on the TCP
 * connection (RFC 2326 §10.12), in this process. An idle camera used to cost
 * an ffmpeg process doing just this; here it costs a socket and a parser that
 * hands out views into the bytes it already holds.
 */
import { connect, type Socket } from 'node:net';
import type { IngestReason } from './ingest-reason.js';
import { redactCredentials } from './redact.js';
import { chooseChallenge, isStale, parseChallenges, RtspAuthenticator } from './rtsp-auth.js';
import { aggregateControl, isAbsoluteUrl, parseSdp, videoTrack, type RtspVideoTrack } from './sdp.js';

export type { RtspVideoTrack } from './sdp.js';

// ---------------------------------------------------------------------------
// Stream parser: interleaved frames and RTSP messages on one byte stream.

/** An RTSP response, or a request the server sends us (ANNOUNCE, GET_PARAMETER, ...). */
export class RtspMessage {
  constructor(
    readonly kind: 'response' | 'request',
    /** Responses: the status code; 0 for requests. */
    readonly status: number,
    /** Responses: the reason phrase; requests: ''. */
    readonly reason: string,
    /** Requests: the method; responses: ''. */
    readonly method: string,
    /** Requests: the URI; responses: ''. */
    readonly uri: string,
    /** Lower-case name → values in order (a header may repeat, e.g. WWW-Authenticate). */
    readonly headers: ReadonlyMap<string, readonly string[]>,
    readonly body: Buffer,
  ) {}

  header(name: string): string | undefined {
    return this.headers.get(name.toLowerCase())?.[0];
  }

  allHeaders(name: string): readonly string[] {
    return this.headers.get(name.toLowerCase()) ?? [];
  }
}

export interface RtspStreamHandlers {
  /** The payload is a view into a buffer reused afterwards: valid only during the call. */
  interleaved(channel: number, payload: Buffer): void;
  message(message: RtspMessage): void;
}

const DOLLAR = 0x24;
const LF = 0x0a;
const CR = 0x0d;
/** Bigger than any real RTSP header block; past it, what looked like a message was not one. */
const MAX_HEADER_BYTES = 64 * 1024;
/** An SDP is a few KB; a bigger body is garbage that happened to parse. */
const MAX_BODY_BYTES = 1024 * 1024;
const MAX_REQUEST_LINE = 2048;
const MAX_METHOD = 32;
const RESPONSE_PREFIX = Buffer.from('RTSP/1.0 ');
const REQUEST_SUFFIX = ' RTSP/1.0';

const enum Start {
  No,
  Maybe,
  Yes,
}
/** readMessage: not all of it here yet / not a message after all. */
const INCOMPLETE = -1;
const NOT_A_MESSAGE = -2;

/**
 * Splits the TCP byte stream after PLAY into interleaved frames
 * (`$`, channel, 16-bit length, payload) and RTSP messages. Bytes that are
 * neither are skipped up to the next `$` or message start, so one corrupt
 * stretch costs a few packets, not the session.
 *
 * Hot path: while nothing is pending, frames are handed out as views of the
 * socket's own chunk; only a frame cut by the chunk's end is copied, into one
 * receive buffer that grows to the largest such piece and is reused.
 */
export class RtspStreamParser {
  private buf: Buffer = Buffer.allocUnsafe(16 * 1024);
  private start = 0;
  private end = 0;
  /** How far the pending message was searched for its blank line (relative to its start). */
  private headerScanned = 0;
  private readonly channels = new Uint8Array(256);
  /** Bytes thrown away while resynchronising. */
  skippedBytes = 0;

  constructor(
    private readonly handlers: RtspStreamHandlers,
    channels: readonly number[] = [0, 1],
  ) {
    this.setChannels(channels);
  }

  /** Only frames on these channels are taken as frames: a `$` in garbage rarely has a valid channel after it. */
  setChannels(channels: readonly number[]): void {
    this.channels.fill(0);
    for (const c of channels) this.channels[c & 0xff] = 1;
  }

  push(chunk: Buffer): void {
    let offset = 0;
    // Complete what is pending with just the bytes it needs, so the rest of the chunk takes the copy-free path.
    while (this.end > this.start && offset < chunk.length) {
      const take = Math.min(this.bytesWanted(), chunk.length - offset);
      this.append(chunk, offset, offset + take);
      offset += take;
      this.start = this.parse(this.buf, this.start, this.end);
      if (this.start === this.end) this.start = this.end = 0;
    }
    if (offset < chunk.length) {
      const used = this.parse(chunk, offset, chunk.length);
      if (used < chunk.length) this.append(chunk, used, chunk.length);
    }
  }

  /** Bytes still pending (a frame or message cut by a chunk's end). */
  get pending(): number {
    return this.end - this.start;
  }

  private bytesWanted(): number {
    const have = this.end - this.start;
    if (this.buf[this.start] !== DOLLAR) return Infinity; // a message: its length is not known yet
    if (have < 4) return 4 - have;
    return Math.max(1, 4 + this.buf.readUInt16BE(this.start + 2) - have);
  }

  private append(src: Buffer, from: number, to: number): void {
    const n = to - from;
    if (this.end + n > this.buf.length) {
      const live = this.end - this.start;
      if (live + n <= this.buf.length) {
        this.buf.copyWithin(0, this.start, this.end);
      } else {
        const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, live + n));
        this.buf.copy(bigger, 0, this.start, this.end);
        this.buf = bigger;
      }
      this.start = 0;
      this.end = live;
    }
    src.copy(this.buf, this.end, from, to);
    this.end += n;
  }

  /** Parses b[pos, end); returns where it stopped (the start of an incomplete frame or message, or end). */
  private parse(b: Buffer, pos: number, end: number): number {
    while (pos < end) {
      if (b[pos] === DOLLAR) {
        if (end - pos < 2) break;
        const channel = b[pos + 1]!;
        if (this.channels[channel] === 0) {
          pos = this.skip(b, pos, end);
          continue;
        }
        if (end - pos < 4) break;
        const next = pos + 4 + ((b[pos + 2]! << 8) | b[pos + 3]!);
        if (next > end) break;
        this.headerScanned = 0;
        this.handlers.interleaved(channel, b.subarray(pos + 4, next));
        pos = next;
        continue;
      }
      const start = this.messageStart(b, pos, end);
      if (start === Start.Maybe) break;
      if (start === Start.No) {
        pos = this.skip(b, pos, end);
        continue;
      }
      const next = this.readMessage(b, pos, end);
      if (next === INCOMPLETE) break;
      if (next === NOT_A_MESSAGE) {
        pos = this.skip(b, pos, end);
        continue;
      }
      pos = next;
    }
    return pos;
  }

  /** Skips the byte at pos and everything up to the next `$` or capital letter (where a message could start). */
  private skip(b: Buffer, pos: number, end: number): number {
    let i = pos + 1;
    while (i < end) {
      const c = b[i]!;
      if (c === DOLLAR || (c >= 0x41 && c <= 0x5a)) break;
      i++;
    }
    this.skippedBytes += i - pos;
    this.headerScanned = 0;
    return i;
  }

  /** Does a response (`RTSP/1.0 ...`) or a request (`METHOD uri RTSP/1.0`) start at pos? */
  private messageStart(b: Buffer, pos: number, end: number): Start {
    const avail = end - pos;
    let i = 0;
    while (i < RESPONSE_PREFIX.length && i < avail && b[pos + i] === RESPONSE_PREFIX[i]) i++;
    if (i === RESPONSE_PREFIX.length) return Start.Yes;
    if (i === avail) return Start.Maybe;
    // A request line: a method in capitals, a space, and ' RTSP/1.0' at the line's end.
    let j = 0;
    while (j < avail && j <= MAX_METHOD) {
      const c = b[pos + j]!;
      if (!((c >= 0x41 && c <= 0x5a) || c === 0x5f || c === 0x2d)) break;
      j++;
    }
    if (j === 0 || j > MAX_METHOD) return Start.No;
    if (j === avail) return Start.Maybe;
    if (b[pos + j] !== 0x20) return Start.No;
    const limit = Math.min(end, pos + MAX_REQUEST_LINE);
    const lf = b.indexOf(LF, pos + j);
    if (lf < 0 || lf >= limit) return limit === pos + MAX_REQUEST_LINE ? Start.No : Start.Maybe;
    const lineEnd = b[lf - 1] === CR ? lf - 1 : lf;
    if (lineEnd - REQUEST_SUFFIX.length <= pos + j) return Start.No;
    return b.toString('latin1', lineEnd - REQUEST_SUFFIX.length, lineEnd) === REQUEST_SUFFIX ? Start.Yes : Start.No;
  }

  private readMessage(b: Buffer, pos: number, end: number): number {
    // The headers end at an empty line: \n\n or \n\r\n (CRLF is the rule; a few servers send bare LF).
    let headerEnd = -1;
    let from = pos + this.headerScanned;
    for (;;) {
      const lf = b.indexOf(LF, from);
      if (lf < 0 || lf >= end) {
        this.headerScanned = end - pos;
        break;
      }
      if (lf + 1 >= end || (b[lf + 1] === CR && lf + 2 >= end)) {
        this.headerScanned = lf - pos; // look at this line end again when more bytes come
        break;
      }
      if (b[lf + 1] === LF) headerEnd = lf + 2;
      else if (b[lf + 1] === CR && b[lf + 2] === LF) headerEnd = lf + 3;
      if (headerEnd >= 0) break;
      from = lf + 1;
    }
    if (headerEnd < 0) return this.headerScanned > MAX_HEADER_BYTES ? NOT_A_MESSAGE : INCOMPLETE;
    const lines = b.toString('utf8', pos, headerEnd).split(/\r?\n/);
    const first = lines[0] ?? '';
    const headers = new Map<string, string[]>();
    let last: string[] | null = null;
    for (let k = 1; k < lines.length; k++) {
      const line = lines[k]!;
      if (line === '') continue;
      if ((line[0] === ' ' || line[0] === '\t') && last) {
        // A folded continuation of the previous header's value.
        last[last.length - 1] += ` ${line.trim()}`;
        continue;
      }
      const colon = line.indexOf(':');
      if (colon <= 0) continue;
      const name = line.slice(0, colon).trim().toLowerCase();
      const list = headers.get(name) ?? [];
      list.push(line.slice(colon + 1).trim());
      headers.set(name, list);
      last = list;
    }
    const length = Number(headers.get('content-length')?.[0] ?? 0);
    const bodyLength = Number.isInteger(length) && length > 0 ? length : 0;
    if (bodyLength > MAX_BODY_BYTES) return NOT_A_MESSAGE;
    const next = headerEnd + bodyLength;
    if (next > end) return INCOMPLETE;
    // Messages are rare and kept (an SDP body): a copy, not a view.
    const body = Buffer.from(b.subarray(headerEnd, next));
    let message: RtspMessage;
    const response = /^RTSP\/1\.0 (\d{3})(?: (.*))?$/.exec(first);
    if (response) {
      message = new RtspMessage('response', Number(response[1]), response[2] ?? '', '', '', headers, body);
    } else {
      const request = /^([A-Z_-]+) (\S+) RTSP\/1\.0$/.exec(first);
      if (!request) return NOT_A_MESSAGE;
      message = new RtspMessage('request', 0, '', request[1]!, request[2]!, headers, body);
    }
    this.headerScanned = 0;
    this.handlers.message(message);
    return next;
  }
}

// ---------------------------------------------------------------------------
// Errors

export class RtspError extends Error {
  override readonly name = 'RtspError';
  constructor(
    readonly reason: IngestReason,
    message: string,
    /** The RTSP status code, when a response caused the error. */
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    // Every message goes through here: the last guard against a URL with its password in it.
    super(redactCredentials(message), options);
  }
}

const SOCKET_ERRORS: Record<string, [IngestReason, string]> = {
  ECONNREFUSED: ['refused', 'connection refused'],
  ENOTFOUND: ['dns', 'host name does not resolve'],
  EAI_AGAIN: ['dns', 'host name lookup failed for now'],
  EAI_FAIL: ['dns', 'host name lookup failed'],
  EHOSTUNREACH: ['unreachable', 'no route to host'],
  ENETUNREACH: ['unreachable', 'network is unreachable'],
  EHOSTDOWN: ['unreachable', 'host is down'],
  ENETDOWN: ['unreachable', 'network is down'],
  ECONNRESET: ['unreachable', 'connection reset'],
  ECONNABORTED: ['unreachable', 'connection aborted'],
  EPIPE: ['unreachable', 'broken pipe'],
  ETIMEDOUT: ['timeout', 'connection timed out'],
};

function socketError(e: Error & { code?: string }, where: string): RtspError {
  const known = e.code ? SOCKET_ERRORS[e.code] : undefined;
  const [reason, text] = known ?? ['other', e.code ?? e.message];
  return new RtspError(reason, `${where}: ${text}${known ? ` (${e.code})` : ''}`, undefined, { cause: e });
}

const STATUS_HINTS: Record<number, string> = {
  403: 'this user may not open the stream',
  404: 'no stream at this path',
  454: 'the server no longer knows the session',
  461: 'the camera does not offer RTP over TCP',
};

// ---------------------------------------------------------------------------
// Client

/** The most a paused socket may leave in the kernel (see RtspClientOptions.readEveryMs). */
const HELD_BYTES = 32 * 1024;

export interface RtspClientOptions {
  /** rtsp://[user:pass@]host[:port]/path?query; user and password percent-decoded. */
  url: string;
  /** Connect, each RTSP response, and "no data at all for this long" once playing. Default 10 s. */
  timeoutMs?: number;
  /** GET_PARAMETER (or OPTIONS) this often while playing; default half the Session timeout, else 25 s. */
  keepAliveMs?: number;
  /** Default 'portwatch'. */
  userAgent?: string;
  /**
   * Once playing, read the socket at most this often; the kernel holds what
   * arrives meanwhile. A camera sends each RTP packet on its own, and reading
   * them as they come costs a wake-up (~50 µs) per packet: ~40 a second per
   * sub-stream. At 200 ms a camera costs 5 reads a second, each of many packets,
   * for at most 200 ms more latency. A fast stream is read more often than
   * this: the kernel is never left holding more than HELD_BYTES (32 KiB) at a
   * time, well inside TCP's receive window, so a main stream at any bitrate is
   * kept up with and never throttled by flow control. Default 0: read as data
   * arrives. Changed later with setReadEvery().
   */
  readEveryMs?: number;
}

export interface RtspClientStats {
  bytes: number;
  /** Socket reads (each of one or many packets: see readEveryMs). */
  reads: number;
  rtpPackets: number;
  rtcpPackets: number;
  keepAlives: number;
}

/** Where to connect and what to ask for; the request URL never carries the credentials. */
interface Target {
  url: string;
  host: string;
  port: number;
  user: string | null;
  password: string | null;
}

const DEFAULT_PORT = 554;
const DEFAULT_KEEP_ALIVE_MS = 25_000;
const TEARDOWN_WAIT_MS = 200;
const MAX_REDIRECTS = 3;
const REDIRECTS = new Set([301, 302, 303, 305, 307]);
const NOT_SUPPORTED = new Set([405, 501, 551]);

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function parseTarget(url: string): Target {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new RtspError('other', 'not a URL: [unparsed stream URL]');
  }
  if (u.protocol !== 'rtsp:') throw new RtspError('other', `${u.protocol}//${u.host}${u.pathname}: only rtsp:// is supported`);
  if (!u.hostname) throw new RtspError('other', `${u.protocol}//${u.pathname}: no host`);
  return {
    url: `rtsp://${u.host}${u.pathname}${u.search}`,
    host: u.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: u.port ? Number(u.port) : DEFAULT_PORT,
    user: u.username || u.password ? decode(u.username) : null,
    password: u.username || u.password ? decode(u.password) : null,
  };
}

/** A URL from the server (Content-Base, a=control) without any user:password it may echo. */
function withoutUserinfo(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@?#]*@/i, '$1');
}

/** Internal: the start sequence is to be run again elsewhere. */
class Redirect extends Error {
  constructor(readonly target: Target) {
    super('redirect');
  }
}

interface Waiting {
  resolve(m: RtspMessage): void;
  reject(e: RtspError): void;
  timer: NodeJS.Timeout;
}

type State = 'idle' | 'starting' | 'playing' | 'closing' | 'closed';

export class RtspClient {
  /** Each RTP packet on the video channel, header included; a view valid only during the call. */
  onRtp: ((packet: Buffer) => void) | null = null;
  /** Called once the video track is set up, just before PLAY: the consumer gets ready for its packets. */
  onTrack: ((track: RtspVideoTrack) => void) | null = null;
  /** Once, when a session that start() opened ends: null after close(), else why. */
  onClose: ((err: RtspError | null) => void) | null = null;

  readonly #url: string;
  private readonly timeoutMs: number;
  private readonly keepAliveOption: number | undefined;
  private readonly userAgent: string;
  private readEveryMs: number;
  /** Reads land here (net's `onread`): no allocation per read; the parser copies what it keeps. */
  private readonly readBuffer = Buffer.allocUnsafe(64 * 1024);
  private readTimer: NodeJS.Timeout | null = null;
  /** Bytes read since the socket was last paused, and when that was: the stream's rate. */
  private cycleBytes = 0;
  private cycleStartedAt = 0;

  private state: State = 'idle';
  // Private (#) with the URL: it holds the password, and inspecting or logging the client must not show it.
  #target: Target | null = null;
  private socket: Socket | null = null;
  /** Why the socket is going away, when we know better than 'closed' (an error, a timeout, close()). */
  private failure: RtspError | null = null;
  private connecting: { reject(e: RtspError): void; timer: NodeJS.Timeout } | null = null;
  private parser: RtspStreamParser | null = null;
  private cseq = 0;
  private readonly waiting = new Map<number, Waiting>();
  private auth: RtspAuthenticator | null = null;
  private publicMethods: Set<string> | null = null;
  private session: string | null = null;
  private sessionTimeoutS = 0;
  private aggregateUrl = '';
  private rtpChannel = 0;
  private rtcpChannel = 1;
  private keepAliveMethod: 'GET_PARAMETER' | 'OPTIONS' = 'GET_PARAMETER';
  private keepAliveTimer: NodeJS.Timeout | null = null;
  private watchdog: NodeJS.Timeout | null = null;
  private lastDataAt = 0;
  private closing: Promise<void> | null = null;
  private readonly counts: RtspClientStats = { bytes: 0, reads: 0, rtpPackets: 0, rtcpPackets: 0, keepAlives: 0 };

  constructor(o: RtspClientOptions) {
    this.#url = o.url;
    this.timeoutMs = o.timeoutMs ?? 10_000;
    this.keepAliveOption = o.keepAliveMs;
    this.userAgent = (o.userAgent ?? 'portwatch').replace(/[\r\n]/g, ' ');
    this.readEveryMs = Math.max(0, o.readEveryMs ?? 0);
  }

  stats(): RtspClientStats {
    return { ...this.counts };
  }

  async start(): Promise<RtspVideoTrack> {
    if (this.state !== 'idle') {
      throw new RtspError(this.state === 'closed' ? 'stopped' : 'other', this.state === 'closed' ? 'start() after close()' : 'start() may be called once');
    }
    this.state = 'starting';
    try {
      let target = parseTarget(this.#url);
      for (let redirects = 0; ; redirects++) {
        try {
          const track = await this.negotiate(target);
          // close() may have come between PLAY's answer and here.
          if (this.failure?.reason === 'stopped') throw this.failure;
          this.startPlaying();
          return track;
        } catch (e) {
          if (!(e instanceof Redirect)) throw e;
          if (redirects >= MAX_REDIRECTS) throw new RtspError('other', `${this.label(target.url)}: more than ${MAX_REDIRECTS} redirects`);
          this.dropSocket();
          target = e.target;
        }
      }
    } catch (e) {
      const err = e instanceof RtspError ? e : new RtspError('other', `start: ${String(e)}`, undefined, { cause: e });
      this.dropSocket();
      this.state = 'closed';
      throw err;
    }
  }

  close(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  private async shutDown(): Promise<void> {
    if (this.state === 'idle' || this.state === 'closed') {
      this.state = 'closed';
      return;
    }
    if (this.state === 'starting') {
      // start() is waiting on the socket: failing it makes start() reject with 'stopped'.
      this.failure = new RtspError('stopped', `${this.label(this.#target?.url ?? '')}: closed while starting`);
      this.dropSocket();
      return;
    }
    this.state = 'closing'; // from here on no packet is delivered
    this.clearTimers();
    if (this.socket && !this.socket.destroyed && this.session) {
      // Best effort: a camera with a small session limit frees the slot now rather than at its timeout.
      await this.request('TEARDOWN', this.aggregateUrl, { Session: this.session }, TEARDOWN_WAIT_MS).catch(() => {});
    }
    this.finish(null);
  }

  // --- start sequence ---

  private async negotiate(target: Target): Promise<RtspVideoTrack> {
    await this.open(target);

    const options = await this.exchange('OPTIONS', target.url);
    this.followRedirect(options, target);
    // Some cameras get OPTIONS wrong; only a refusal of our credentials is final here.
    if (options.status === 401 || options.status === 403) throw this.statusError('OPTIONS', target.url, options);
    const publicHeader = options.status === 200 ? options.header('public') : undefined;
    if (publicHeader) this.publicMethods = new Set(publicHeader.split(',').map((s) => s.trim().toUpperCase()));

    const describe = await this.exchange('DESCRIBE', target.url, { Accept: 'application/sdp' });
    this.followRedirect(describe, target);
    if (describe.status !== 200) throw this.statusError('DESCRIBE', target.url, describe);
    const base = withoutUserinfo(this.baseUrl(describe, target.url));
    const sdp = parseSdp(describe.body.toString('utf8'));
    const track = videoTrack(sdp, base);
    if (!track) {
      const kinds = sdp.media.map((m) => m.type).join(', ') || 'no media';
      throw new RtspError('codec', `DESCRIBE ${this.label(target.url)}: no playable video track in the SDP (${kinds})`);
    }
    track.control = withoutUserinfo(track.control);
    this.aggregateUrl = withoutUserinfo(aggregateControl(sdp, base));

    const setup = await this.exchange('SETUP', track.control, { Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1' });
    this.followRedirect(setup, target);
    if (setup.status !== 200) throw this.statusError('SETUP', track.control, setup);
    const session = setup.header('session');
    if (!session) throw new RtspError('other', `SETUP ${this.label(track.control)}: no Session header in the answer`);
    const [id = '', ...params] = session.split(';');
    this.session = id.trim();
    for (const p of params) {
      const m = /^\s*timeout\s*=\s*(\d+)/i.exec(p);
      if (m) this.sessionTimeoutS = Number(m[1]);
    }
    // The server may pick other channels than we asked for.
    const channels = /interleaved=(\d+)(?:-(\d+))?/i.exec(setup.header('transport') ?? '');
    if (channels) {
      this.rtpChannel = Number(channels[1]);
      this.rtcpChannel = channels[2] !== undefined ? Number(channels[2]) : this.rtpChannel + 1;
      this.parser?.setChannels([this.rtpChannel, this.rtcpChannel]);
    }

    // Before PLAY: the first packets can arrive in the same chunk as PLAY's answer.
    this.onTrack?.(track);
    const play = await this.exchange('PLAY', this.aggregateUrl, { Session: this.session, Range: 'npt=0.000-' });
    if (play.status !== 200) throw this.statusError('PLAY', this.aggregateUrl, play);
    return track;
  }

  /** Content-Base, else Content-Location, else the URL asked for (RFC 2326 C.1.1). */
  private baseUrl(describe: RtspMessage, requestUrl: string): string {
    const given = describe.header('content-base') ?? describe.header('content-location');
    if (!given) return requestUrl;
    if (isAbsoluteUrl(given)) return given; // as sent: normalising could change what the camera expects back
    try {
      return new URL(given, requestUrl).href;
    } catch {
      return requestUrl;
    }
  }

  private followRedirect(res: RtspMessage, from: Target): void {
    const location = res.header('location');
    if (!REDIRECTS.has(res.status) || !location) return;
    let next: Target;
    try {
      next = parseTarget(new URL(location, from.url).href);
    } catch {
      throw new RtspError('other', `${this.label(from.url)}: redirected to an unusable location`, res.status);
    }
    // Keep the credentials for the same host only: a redirect must not hand the password to someone else.
    if (next.user === null && next.host === from.host) {
      next.user = from.user;
      next.password = from.password;
    }
    throw new Redirect(next);
  }

  private statusError(method: string, url: string, res: RtspMessage): RtspError {
    let hint = STATUS_HINTS[res.status];
    let reason: IngestReason = 'other';
    if (res.status === 401 || res.status === 403) reason = 'unauthorized';
    else if (res.status === 404) reason = 'not_found';
    if (res.status === 401) {
      if (this.#target?.user === null) hint = 'the camera wants a user and password; the URL has none';
      else if (!this.auth) hint = `unsupported authentication: ${res.allHeaders('www-authenticate').map((h) => h.split(' ')[0]).join(', ') || 'none offered'}`;
      else hint = 'wrong user or password';
    }
    return new RtspError(reason, `${method} ${this.label(url)}: ${res.status} ${res.reason}${hint ? ` (${hint})` : ''}`, res.status);
  }

  /** The URL for messages: no secrets, and `***@` when credentials are in use. */
  private label(url: string): string {
    const clean = redactCredentials(url);
    return this.#target?.user != null && !clean.includes('***@') ? clean.replace(/^([a-z][a-z0-9+.-]*:\/\/)/i, '$1***@') : clean;
  }

  // --- connection ---

  private open(target: Target): Promise<void> {
    this.#target = target;
    this.auth = null;
    this.publicMethods = null;
    this.session = null;
    this.failure = null;
    const where = `connect ${this.label(target.url)}`;
    return new Promise<void>((resolve, reject) => {
      const socket: Socket = connect({
        host: target.host,
        port: target.port,
        onread: { buffer: this.readBuffer, callback: (n: number, buf: Uint8Array) => this.onRead(socket, n, buf) },
      });
      this.socket = socket;
      this.parser = new RtspStreamParser({
        interleaved: (channel, payload) => this.onInterleaved(channel, payload),
        message: (m) => this.onMessage(m),
      });
      this.connecting = {
        reject,
        timer: setTimeout(() => this.fail(new RtspError('timeout', `${where}: no connection within ${this.timeoutMs} ms`)), this.timeoutMs),
      };
      socket.setNoDelay(true);
      socket.once('connect', () => {
        if (!this.connecting) return;
        clearTimeout(this.connecting.timer);
        this.connecting = null;
        resolve();
      });
      socket.on('error', (e) => {
        this.failure ??= socketError(e, this.connecting ? where : this.label(target.url));
      });
      socket.on('close', () => this.onSocketClose(socket));
    });
  }

  /**
   * How often to read from now on (see RtspClientOptions.readEveryMs): the
   * camera ingest reads a quiet camera less often than an active one. Takes
   * effect from the next read.
   */
  setReadEvery(ms: number): void {
    this.readEveryMs = Math.max(0, ms);
  }

  /** One read; false pauses the socket until the next read is due (readEveryMs, once playing). */
  private onRead(socket: Socket, n: number, buf: Uint8Array): boolean {
    this.counts.reads++;
    this.onData(socket, Buffer.from(buf.buffer, buf.byteOffset, n));
    this.cycleBytes += n;
    // A full buffer means more is waiting: read on.
    if (this.readEveryMs === 0 || n >= this.readBuffer.length || this.state !== 'playing' || socket !== this.socket) return true;
    const now = performance.now();
    const bytesPerMs = this.cycleBytes / Math.max(1, now - this.cycleStartedAt);
    this.cycleBytes = 0;
    this.cycleStartedAt = now;
    this.readTimer ??= setTimeout(
      () => {
        this.readTimer = null;
        if (socket === this.socket && !socket.destroyed) socket.resume();
      },
      Math.min(this.readEveryMs, HELD_BYTES / Math.max(bytesPerMs, 1e-6)),
    );
    return false;
  }

  private onData(socket: Socket, chunk: Buffer): void {
    if (socket !== this.socket) return;
    this.counts.bytes += chunk.length;
    this.lastDataAt = Date.now();
    try {
      this.parser!.push(chunk);
    } catch (e) {
      // A throwing onRtp would leave the parser half-way through a chunk: end the session instead.
      this.fail(new RtspError('other', `${this.label(this.#target?.url ?? '')}: packet handler threw: ${e instanceof Error ? e.message : String(e)}`, undefined, { cause: e }));
    }
  }

  private onInterleaved(channel: number, payload: Buffer): void {
    if (channel === this.rtpChannel) {
      if (this.state !== 'starting' && this.state !== 'playing') return;
      this.counts.rtpPackets++;
      this.onRtp?.(payload);
    } else if (channel === this.rtcpChannel) {
      this.counts.rtcpPackets++;
    }
  }

  private onMessage(m: RtspMessage): void {
    if (m.kind === 'request') {
      this.answerServer(m);
      return;
    }
    const cseq = m.header('cseq');
    // A few cameras leave CSeq out; with one request waiting the answer is still unambiguous.
    const key = cseq === undefined && this.waiting.size === 1 ? [...this.waiting.keys()][0]! : Number(cseq);
    const w = this.waiting.get(key);
    if (!w) return; // an answer to something we gave up on
    this.waiting.delete(key);
    clearTimeout(w.timer);
    w.resolve(m);
  }

  /** Servers may ask things mid-stream; an answer keeps the stricter ones from dropping us. */
  private answerServer(m: RtspMessage): void {
    const ok = m.method === 'GET_PARAMETER' || m.method === 'OPTIONS';
    const session = m.header('session');
    let text = `RTSP/1.0 ${ok ? '200 OK' : '501 Not Implemented'}\r\nCSeq: ${m.header('cseq') ?? '0'}\r\nUser-Agent: ${this.userAgent}\r\n`;
    if (session) text += `Session: ${session.replace(/[\r\n]/g, '')}\r\n`;
    this.write(`${text}\r\n`);
  }

  private write(text: string): boolean {
    const s = this.socket;
    if (!s || s.destroyed || !s.writable) return false;
    s.write(text);
    return true;
  }

  /** One request, one answer (matched by CSeq), within timeoutMs. */
  private request(method: string, url: string, headers: Record<string, string>, timeoutMs = this.timeoutMs): Promise<RtspMessage> {
    return new Promise<RtspMessage>((resolve, reject) => {
      const cseq = ++this.cseq;
      let text = `${method} ${url} RTSP/1.0\r\nCSeq: ${cseq}\r\nUser-Agent: ${this.userAgent}\r\n`;
      if (this.auth) text += `Authorization: ${this.auth.header(method, url)}\r\n`;
      for (const [k, v] of Object.entries(headers)) text += `${k}: ${v.replace(/[\r\n]/g, '')}\r\n`;
      if (!this.write(`${text}\r\n`)) {
        reject(this.failure ?? new RtspError('ended', `${method} ${this.label(url)}: the connection is closed`));
        return;
      }
      const timer = setTimeout(() => {
        this.waiting.delete(cseq);
        reject(new RtspError('timeout', `${method} ${this.label(url)}: no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(cseq, { resolve, reject, timer });
    });
  }

  /** A request, answered again with credentials after a 401 (and again after a stale nonce). */
  private async exchange(method: string, url: string, headers: Record<string, string> = {}, timeoutMs = this.timeoutMs): Promise<RtspMessage> {
    let answeredChallenge = false;
    for (let attempt = 0; ; attempt++) {
      const res = await this.request(method, url, headers, timeoutMs);
      if (this.state === 'starting' && this.failure?.reason === 'stopped') throw this.failure;
      const target = this.#target;
      if (res.status !== 401 || target?.user == null || attempt >= 2) return res;
      const challenge = chooseChallenge(parseChallenges(res.allHeaders('www-authenticate')));
      if (!challenge) return res;
      // Refused right after answering this very challenge: the credentials are wrong, asking again will not help.
      if (answeredChallenge && !isStale(challenge)) return res;
      this.auth = new RtspAuthenticator(target.user, target.password ?? '', challenge);
      answeredChallenge = true;
    }
  }

  // --- playing ---

  private startPlaying(): void {
    this.state = 'playing';
    this.cycleBytes = 0;
    this.cycleStartedAt = performance.now();
    this.lastDataAt = Date.now();
    this.armWatchdog();
    if (this.publicMethods && !this.publicMethods.has('GET_PARAMETER')) this.keepAliveMethod = 'OPTIONS';
    const every = this.keepAliveOption ?? (this.sessionTimeoutS > 0 ? (this.sessionTimeoutS * 1000) / 2 : DEFAULT_KEEP_ALIVE_MS);
    this.keepAliveTimer = setInterval(() => this.keepAlive(), Math.max(1, every));
  }

  private keepAlive(): void {
    if (this.state !== 'playing' || !this.session) return;
    const method = this.keepAliveMethod;
    this.counts.keepAlives++;
    this.exchange(method, this.aggregateUrl, { Session: this.session }).then(
      (res) => {
        if (method === 'GET_PARAMETER' && NOT_SUPPORTED.has(res.status)) this.keepAliveMethod = 'OPTIONS';
      },
      // Unanswered keep-alives are not fatal by themselves: the no-data watchdog decides.
      () => {},
    );
  }

  /** Wakes about once per timeoutMs while data flows, rather than resetting a timer on every chunk. */
  private armWatchdog(): void {
    const due = this.lastDataAt + this.timeoutMs - Date.now();
    this.watchdog = setTimeout(() => {
      this.watchdog = null;
      if (this.state !== 'playing') return;
      if (Date.now() - this.lastDataAt >= this.timeoutMs) {
        this.fail(new RtspError('timeout', `${this.label(this.#target?.url ?? '')}: no data for ${this.timeoutMs} ms`));
      } else {
        this.armWatchdog();
      }
    }, Math.max(1, due));
  }

  // --- ending ---

  /** Every error path ends here: remember why, then let the socket's 'close' tell everyone waiting. */
  private fail(err: RtspError): void {
    this.failure ??= err;
    if (this.socket) {
      this.socket.destroy();
      return;
    }
    this.rejectWaiting(this.failure);
    if (this.state === 'playing') this.finish(this.failure);
  }

  private onSocketClose(socket: Socket): void {
    if (socket !== this.socket) return; // an earlier connection (before a redirect)
    const err = this.failure ?? new RtspError('ended', `${this.label(this.#target?.url ?? '')}: the server closed the connection`);
    this.socket = null;
    this.rejectWaiting(err);
    if (this.state === 'playing') this.finish(err);
  }

  private rejectWaiting(err: RtspError): void {
    if (this.connecting) {
      clearTimeout(this.connecting.timer);
      this.connecting.reject(err);
      this.connecting = null;
    }
    for (const w of this.waiting.values()) {
      clearTimeout(w.timer);
      w.reject(err);
    }
    this.waiting.clear();
  }

  /** Closes the current socket now, failing whatever waits on it (also used between redirects). */
  private dropSocket(): void {
    const socket = this.socket;
    this.socket = null;
    socket?.destroy();
    this.rejectWaiting(this.failure ?? new RtspError('stopped', `${this.label(this.#target?.url ?? '')}: connection dropped`));
  }

  private clearTimers(): void {
    if (this.keepAliveTimer) clearInterval(this.keepAliveTimer);
    if (this.watchdog) clearTimeout(this.watchdog);
    if (this.readTimer) clearTimeout(this.readTimer);
    this.keepAliveTimer = null;
    this.watchdog = null;
    this.readTimer = null;
  }

  private finish(err: RtspError | null): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.clearTimers();
    this.dropSocket();
    const callback = this.onClose;
    callback?.(err);
  }
}
