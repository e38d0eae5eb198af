import { AsyncLocalStorage } from 'node:async_hooks';
import pino from 'pino';

/** Severity of a log event. */
export type LogLevel = 'info' | 'warn' | 'error';

/** A threshold of `createJsonLogger`: pino's level names; `silent` writes nothing. */
export type LogThreshold = 'trace' | 'debug' | LogLevel | 'fatal' | 'silent';

/** Every threshold `LOG_LEVEL` may name, lowest first. */
export const LOG_THRESHOLDS: readonly LogThreshold[] = Object.freeze([
  'trace',
  'debug',
  'info',
  'warn',
  'error',
  'fatal',
  'silent',
]);

/** True when `value` names a threshold (`LOG_LEVEL=debug`…). */
export function isLogThreshold(value: unknown): value is LogThreshold {
  return typeof value === 'string' && (LOG_THRESHOLDS as readonly string[]).includes(value);
}

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
  /**
   * Logs a detail (one LLM call, one lease wait): off at the default level, still counted by the
   * server's metrics. Optional, so any `{ info, warn, error }` object is a logger.
   */
  debug?(event: string, fields?: Record<string, unknown>): void;
}

/** Options of `createJsonLogger`. */
export interface JsonLoggerOptions {
  /** Lowest level written (default `info`); `silent` writes nothing. */
  level?: LogThreshold;
  /** Receives each line without its newline (default: `process.stdout`, one line per event). */
  write?: (line: string) => void;
}

// Fields that travel with everything logged inside a request or a WebSocket message (its request
// id), including work it starts in the background.
const logContext = new AsyncLocalStorage<Readonly<Record<string, unknown>>>();

/**
 * Runs `fn` with `fields` added to every line a `createJsonLogger` logger writes meanwhile
 * (nested calls add to the outer fields). The transport sets the request id this way.
 */
export function withLogContext<T>(fields: Record<string, unknown>, fn: () => T): T {
  return logContext.run({ ...logContext.getStore(), ...fields }, fn);
}

/** The fields `withLogContext` set around the current call (empty outside one). */
export function currentLogContext(): Readonly<Record<string, unknown>> {
  return logContext.getStore() ?? {};
}

const RESERVED_FIELDS = new Set(['time', 'level', 'event']);
const REDACTED = '[redacted]';
// Field names whose values are secrets whatever they hold.
const SECRET_FIELD =
  /^(api[-_]?key|x-api-key|authorization|proxy-authorization|cookie|password|secret|token|access[-_]?token)$/i;
// Field names whose values are what users wrote or models answered: kept out of the logs.
const PROMPT_FIELD =
  /^(input|prompt|system[-_]?prompt|consolidate[-_]?prompt|integrate[-_]?prompt|content|final[-_]?content|messages|chunk|delta|memory|insight|synthesis)$/i;
// Secrets that slip into free text: our keys, provider keys, bearer tokens, URL credentials.
const TEXT_SECRETS: readonly [RegExp, string][] = [
  [/stello_[A-Za-z0-9_-]{16,}/g, `stello_${REDACTED}`],
  [/\bsk-[A-Za-z0-9_-]{16,}/g, `sk-${REDACTED}`],
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/gi, `$1 ${REDACTED}`],
  [/\b([a-z][a-z0-9+.-]*:\/\/)[^\s:/@]+:[^\s/@]+@/gi, `$1${REDACTED}@`],
  [/([?&](?:api[-_]?key|key|token|access_token)=)[^&\s#]+/gi, `$1${REDACTED}`],
];
// pino's own redaction on top, for the usual places of secrets in objects a host may log.
const REDACT_PATHS = [
  'apiKey',
  'authorization',
  'headers.authorization',
  'headers["x-api-key"]',
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  '*.apiKey',
  '*.authorization',
  'input',
  'prompt',
  'content',
  '*.input',
  '*.prompt',
  '*.content',
];
// Nesting kept in a log line; deeper values are cut (a log line is not a dump).
const MAX_DEPTH = 8;

/** Masks the secrets `TEXT_SECRETS` recognises in `text`. */
export function redactText(text: string): string {
  let out = text;
  for (const [pattern, replacement] of TEXT_SECRETS) out = out.replace(pattern, replacement);
  return out;
}

class Unserializable extends Error {}

function serializeError(error: Error, seen: WeakSet<object>, depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = { name: error.name, message: redactText(error.message) };
  const code = (error as { code?: unknown }).code;
  if (code !== undefined) out.code = sanitize(code, seen, depth + 1);
  if (error.stack) out.stack = redactText(error.stack);
  if (error.cause !== undefined) out.cause = sanitize(error.cause, seen, depth + 1);
  return out;
}

/** A JSON-safe copy of `value` with secrets and prompts replaced; throws `Unserializable` on a cycle. */
function sanitize(value: unknown, seen: WeakSet<object>, depth: number): unknown {
  if (typeof value === 'string') return redactText(value);
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'function' || typeof value === 'symbol') return undefined;
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value)) throw new Unserializable();
  if (depth >= MAX_DEPTH) return '[truncated]';
  seen.add(value);
  try {
    if (value instanceof Error) return serializeError(value, seen, depth);
    if (value instanceof Date) return value.toISOString();
    if (Array.isArray(value)) return value.map((item) => sanitize(item, seen, depth + 1));
    if (typeof (value as { toJSON?: unknown }).toJSON === 'function') {
      return sanitize((value as { toJSON: () => unknown }).toJSON(), seen, depth + 1);
    }
    const out: Record<string, unknown> = {};
    for (const [name, item] of Object.entries(value)) {
      if (item === undefined) continue;
      out[name] =
        (SECRET_FIELD.test(name) || PROMPT_FIELD.test(name)) && item !== null
          ? REDACTED
          : sanitize(item, seen, depth + 1);
    }
    return out;
  } finally {
    seen.delete(value);
  }
}

function writeStdout(line: string): void {
  process.stdout.write(`${line}\n`);
}

/**
 * Creates a pino logger that writes one JSON object per event: `{ level, time, event, ...fields }`
 * (`level` as a name, `time` ISO-8601). Fields set by {@link withLogContext} (the request id)
 * are added to every line. Errors in fields are expanded to `{ name, message, code, stack }`.
 * Secrets never reach the log: fields named like secrets (`apiKey`, `authorization`, `token`…)
 * and like prompts or answers (`input`, `prompt`, `content`, `messages`…) are replaced by
 * `[redacted]` at any depth, and keys, bearer tokens and URL credentials found in text are masked.
 * A field that cannot be serialized (a cycle) never throws: the event is written without its
 * fields.
 *
 * @example
 * const logger = createJsonLogger({ level: 'warn' });
 * logger.warn('agent.evict_failed', { spaceId, error });
 */
export function createJsonLogger(options: JsonLoggerOptions = {}): Logger {
  const write = options.write ?? writeStdout;
  const base = pino(
    {
      level: options.level ?? 'info',
      base: null,
      messageKey: 'event',
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACT_PATHS, censor: REDACTED },
    },
    { write: (chunk: string) => write(chunk.endsWith('\n') ? chunk.slice(0, -1) : chunk) },
  );

  const log = (level: LogLevel | 'debug', event: string, fields?: Record<string, unknown>): void => {
    if (!base.isLevelEnabled(level)) return;
    const merged: Record<string, unknown> = { ...logContext.getStore() };
    if (fields) {
      for (const [name, value] of Object.entries(fields)) {
        if (!RESERVED_FIELDS.has(name)) merged[name] = value;
      }
    }
    let safe: Record<string, unknown>;
    try {
      safe = sanitize(merged, new WeakSet(), 0) as Record<string, unknown>;
    } catch {
      safe = { logError: 'unserializable fields' };
    }
    base[level](safe, redactText(event));
  };

  return {
    debug: (event, fields) => log('debug', event, fields),
    info: (event, fields) => log('info', event, fields),
    warn: (event, fields) => log('warn', event, fields),
    error: (event, fields) => log('error', event, fields),
  };
}

/** A logger that drops every event (the default of library components). */
export const silentLogger: Logger = Object.freeze({
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
});
