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

/** One line of ffmpeg's log started with `-loglevel level+…`: `[h264 @ 0x…] [error] text`. */
export interface FfmpegLogLine {
  /** `error`, `warning`, `info`, `verbose`…; null for a continuation line (an SDP dump, a stream listing). */
  level: string | null;
  /** The line without its level tag (the component, e.g. `[h264 @ 0x…]`, kept). */
  text: string;
}

const LEVEL_TAG = /^((?:\[[^\]]* @ [^\]]*\] )?)\[(trace|debug|verbose|info|warning|error|fatal|panic)\] /;

export function parseFfmpegLine(line: string): FfmpegLogLine {
  const m = LEVEL_TAG.exec(line);
  if (!m) return { level: null, text: line };
  return { level: m[2]!, text: m[1]! + line.slice(m[0].length) };
}

/** The levels a reason is read from (what `-loglevel error` alone would have printed). */
export const ERROR_LEVELS: ReadonlySet<string> = new Set(['error', 'fatal', 'panic']);

/** A `StderrTail` filter for ffmpeg run with `-loglevel level+…`: its error lines, level tag removed. */
export function errorLinesOnly(line: string): string | null {
  const l = parseFfmpegLine(line);
  return l.level !== null && ERROR_LEVELS.has(l.level) ? l.text : null;
}

/**
 * Keeps the last few stderr lines, credentials removed, for a reason and a log
 * line. With `keep`, each complete line goes through it first: it returns the
 * text to keep, or null to drop the line (ffmpeg run at a chattier level than
 * the lines kept).
 */
export class StderrTail {
  private lines: string[] = [];
  private rest = '';
  constructor(
    private readonly max = 20,
    private readonly keep?: (line: string) => string | null,
  ) {}

  push(chunk: Buffer | string): void {
    const text = this.rest + chunk.toString();
    const parts = text.split(/\r?\n|\r/);
    this.rest = parts.pop() ?? '';
    if (this.rest.length > 4096) this.rest = this.rest.slice(-4096);
    for (const p of parts) {
      if (!p.trim()) continue;
      const kept = this.keep ? this.keep(p) : p;
      if (kept !== null) this.add(kept);
    }
  }

  private add(line: string): void {
    this.lines.push(redactCredentials(line.trim()).slice(0, 500));
    if (this.lines.length > this.max) this.lines.shift();
  }

  /** The last `max` lines, an unterminated last line included. */
  get(): string[] {
    const rest = this.rest.trim() && this.keep ? parseFfmpegLine(this.rest.trim()) : null;
    const last = !this.rest.trim() ? null : !this.keep ? this.rest.trim() : rest!.level !== null && ERROR_LEVELS.has(rest!.level) ? rest!.text : null;
    const all = last ? [...this.lines, redactCredentials(last.trim()).slice(0, 500)] : [...this.lines];
    return all.slice(-this.max);
  }

  clear(): void {
    this.lines = [];
    this.rest = '';
  }
}
