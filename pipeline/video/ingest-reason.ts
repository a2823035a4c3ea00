import { redactCredentials } from './redact.js';

/** Why a camera's ffmpeg ended, in words an operator can act on. */
export type IngestReason =
  | 'unauthorized' // 401/403: wrong or missing credentials
  | 'not_found' // 404: wrong path / stream name
  | 'timeout' // no answer within the socket timeout
  | 'refused' // nothing listening on that port
  | 'unreachable' // no route / network down / connection reset
  | 'dns' // host name does not resolve
  | 'codec' // stream opened but could not be decoded
  | 'ended' // the stream ended (server closed it cleanly)
  | 'stalled' // ffmpeg alive but no frame for the watchdog period
  | 'stopped' // we stopped it
  | 'spawn' // ffmpeg could not be started (not installed?)
  | 'other';

const RULES: Array<[IngestReason, RegExp]> = [
  ['unauthorized', /\b(401|403)\b|unauthori[sz]ed|forbidden|authorization failed/i],
  ['not_found', /\b404\b|not found|no such file|454 session not found/i],
  ['dns', /name or service not known|failed to resolve|temporary failure in name resolution|no address associated|nodename nor servname/i],
  ['refused', /connection refused/i],
  ['timeout', /timed out|timeout/i],
  ['unreachable', /no route to host|network is unreachable|connection reset|broken pipe|host is down/i],
  ['codec', /invalid data found|could not find codec|decoder|error while decoding|no decoder|unsupported codec|does not contain any stream|non-existing pps|codec parameters/i],
];

export interface ExitContext {
  /** How long ffmpeg had gone without delivering a frame when it ended (since start if none came). */
  silentMs?: number;
  /** The socket timeout it was started with. */
  timeoutMs?: number;
  signal?: NodeJS.Signals | null;
}

/**
 * Classifies ffmpeg's stderr (redacted or not) and exit status. ffmpeg 5's RTSP
 * demuxer reports its own socket timeout as "Invalid data found", so an exit
 * after a silence as long as the timeout counts as a timeout, not a codec fault.
 */
export function classifyFfmpegExit(stderr: readonly string[] | string, code: number | null, ctx: ExitContext = {}): IngestReason {
  const text = typeof stderr === 'string' ? stderr : stderr.join('\n');
  let reason: IngestReason | null = null;
  for (const [r, re] of RULES) {
    if (re.test(text)) {
      reason = r;
      break;
    }
  }
  reason ??= code === 0 ? 'ended' : ctx.signal ? 'stopped' : 'other';
  const silentTooLong = ctx.silentMs !== undefined && ctx.timeoutMs !== undefined && ctx.silentMs >= ctx.timeoutMs * 0.9;
  if (silentTooLong && (reason === 'codec' || reason === 'other' || reason === 'ended')) return 'timeout';
  return reason;
}

/** Keeps the last few stderr lines, credentials removed, for a reason and a log line. */
export class StderrTail {
  private lines: string[] = [];
  private rest = '';
  constructor(private readonly max = 20) {}

  push(chunk: Buffer | string): void {
    const text = this.rest + chunk.toString();
    const parts = text.split(/\r?\n|\r/);
    this.rest = parts.pop() ?? '';
    if (this.rest.length > 4096) this.rest = this.rest.slice(-4096);
    for (const p of parts) if (p.trim()) this.add(p);
  }

  private add(line: string): void {
    this.lines.push(redactCredentials(line.trim()).slice(0, 500));
    if (this.lines.length > this.max) this.lines.shift();
  }

  /** The last `max` lines, an unterminated last line included. */
  get(): string[] {
    const all = this.rest.trim() ? [...this.lines, redactCredentials(this.rest.trim()).slice(0, 500)] : [...this.lines];
    return all.slice(-this.max);
  }

  clear(): void {
    this.lines = [];
    this.rest = '';
  }
}
