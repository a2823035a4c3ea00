export { childLogger, createLogger, silentLogger, REDACTED_KEYS, type Logger, type LoggerSettings } from './logger.js';
