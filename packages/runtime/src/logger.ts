/** Severity of a log event; `silent` (as a threshold) drops everything. */
export type LogLevel = 'info' | 'warn' | 'error';

/**
 * A structured logger: one named event plus flat fields per call. The runtime, the transport
 * and the server log through this interface only, so hosts can plug in pino or anything else.
 */
export interface Logger {
  /** Logs a normal event (start-up, a request, an eviction). */
  info(event: string, fields?: Record<string, unknown>): void;
  /** Logs something unexpected that the server recovered from. */
  warn(event: string, fields?: Record<string, unknown>): void;
  /** Logs a failure (a background job that failed, a 5xx). */
  error(event: string, fields?: Record<string, unknown>): void;
}

/** Options of `createJsonLogger`. */
export interface JsonLoggerOptions {
  /** Lowest level written (default `info`); `silent` writes nothing. */
  level?: LogLevel | 'silent';
  /** Receives each line without its newline (default: `process.stdout`, one line per event). */
  write?: (line: string) => void;
}

const LEVEL_RANK: Record<LogLevel | 'silent', number> = { info: 0, warn: 1, error: 2, silent: 3 };
const RESERVED_FIELDS = new Set(['time', 'level', 'event']);
const REDACTED = '[redacted]';
// Field names whose values are secrets whatever they hold.
const SECRET_FIELD = /^(api[-_]?key|x-api-key|authorization|password|secret|token)$/i;
// An API key that slipped into free text (a message, a URL) is masked too.
const API_KEY_IN_TEXT = /stello_[A-Za-z0-9_-]{16,}/g;

function redactText(text: string): string {
  return text.replace(API_KEY_IN_TEXT, `stello_${REDACTED}`);
}

function serializeError(error: Error): Record<string, unknown> {
  const out: Record<string, unknown> = { name: error.name, message: redactText(error.message) };
  const code = (error as { code?: unknown }).code;
  if (code !== undefined) out.code = code;
  if (error.stack) out.stack = redactText(error.stack);
  if (error.cause !== undefined) out.cause = error.cause;
  return out;
}

function replacer(this: unknown, key: string, value: unknown): unknown {
  if (key !== '' && SECRET_FIELD.test(key) && value !== undefined && value !== null) return REDACTED;
  if (typeof value === 'string') return redactText(value);
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Error) return serializeError(value);
  return value;
}

function writeStdout(line: string): void {
  process.stdout.write(`${line}\n`);
}

/**
 * Creates a logger that writes one JSON object per event: `{ time, level, event, ...fields }`.
 * Errors in fields are expanded to `{ name, message, code, stack }`; fields named like secrets
 * (`apiKey`, `authorization`, `token`, …) and any `stello_…` API key found in a string are
 * replaced by `[redacted]`, so a key never reaches the log. A field that cannot be serialized
 * (a cycle) never throws: the event is written without its fields.
 *
 * @example
 * const logger = createJsonLogger({ level: 'warn' });
 * logger.warn('agent.evict_failed', { spaceId, error });
 */
export function createJsonLogger(options: JsonLoggerOptions = {}): Logger {
  const threshold = LEVEL_RANK[options.level ?? 'info'];
  const write = options.write ?? writeStdout;

  const log = (level: LogLevel, event: string, fields?: Record<string, unknown>): void => {
    if (LEVEL_RANK[level] < threshold) return;
    const entry: Record<string, unknown> = { time: new Date().toISOString(), level, event };
    if (fields) {
      for (const [name, value] of Object.entries(fields)) {
        if (!RESERVED_FIELDS.has(name)) entry[name] = value;
      }
    }
    let line: string;
    try {
      line = JSON.stringify(entry, replacer);
    } catch {
      line = JSON.stringify({
        time: entry.time,
        level,
        event: redactText(event),
        logError: 'unserializable fields',
      });
    }
    write(line);
  };

  return {
    info: (event, fields) => log('info', event, fields),
    warn: (event, fields) => log('warn', event, fields),
    error: (event, fields) => log('error', event, fields),
  };
}

/** A logger that drops every event (the default of library components). */
export const silentLogger: Logger = Object.freeze({
  info: () => {},
  warn: () => {},
  error: () => {},
});
