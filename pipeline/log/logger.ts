import { pino, type Logger as PinoLogger, type LoggerOptions } from 'pino';

/**
 * The one logger type the library accepts. Stages take a Logger as an argument
 * (usually `parent.child({ stage: '...' })`); nothing in `pipeline/` creates its own.
 */
export type Logger = PinoLogger;

export interface LoggerSettings {
  level?: string;
  /** Where JSON lines go; defaults to stderr so stdout stays free for command output. */
  destination?: NodeJS.WritableStream | number;
  name?: string;
}

/** Keys whose values are never written to a log, whatever nests them. */
export const REDACTED_KEYS = [
  'password',
  'passwd',
  'secret',
  'token',
  'authorization',
  'url',
  '*.password',
  '*.url',
  'streams.main',
  'streams.sub',
  '*.streams.main',
  '*.streams.sub',
];

export function createLogger(settings: LoggerSettings = {}): Logger {
  const options: LoggerOptions = {
    level: settings.level ?? 'info',
    base: { name: settings.name ?? 'portwatch' },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACTED_KEYS, censor: '[redacted]' },
  };
  const destination = settings.destination ?? 2;
  return typeof destination === 'number'
    ? pino(options, pino.destination({ fd: destination, sync: false }))
    : pino(options, destination as NodeJS.WritableStream);
}

/** A logger that drops everything: for tests and library callers that do not care. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

/**
 * A child logger with these bindings, leaving out any the parent already
 * carries with the same value: stages that each scope their logs to a camera
 * are nested (runner → ingest, analyser), and pino would print the key twice.
 */
export function childLogger(parent: Logger, bindings: Record<string, unknown>): Logger {
  const have = parent.bindings();
  const fresh = Object.fromEntries(Object.entries(bindings).filter(([k, v]) => have[k] !== v));
  return Object.keys(fresh).length === 0 ? parent : parent.child(fresh);
}
