import { StorageError, type StorageErrorCode } from './errors';

interface PgErrorRule {
  code: StorageErrorCode;
  retryable: boolean;
}

/**
 * The one table from PostgreSQL SQLSTATE (exact code, or two-character class) to a storage code.
 * Anything not listed is a real fault and passes through untouched.
 * @see https://www.postgresql.org/docs/current/errcodes-appendix.html
 */
const SQLSTATE_RULES: Readonly<Record<string, PgErrorRule>> = {
  // unique_violation: a second root, a sibling index taken twice, an id reused.
  '23505': { code: 'CONFLICT', retryable: false },
  // foreign_key_violation: the space (or a parent) was deleted under us.
  '23503': { code: 'INVALID_REFERENCE', retryable: false },
  // serialization_failure and deadlock_detected: the whole operation may be retried.
  '40001': { code: 'TRANSACTION_CONFLICT', retryable: true },
  '40P01': { code: 'TRANSACTION_CONFLICT', retryable: true },
  // query_canceled: statement_timeout or pg_cancel_backend.
  '57014': { code: 'TIMEOUT', retryable: false },
  // admin_shutdown, crash_shutdown, cannot_connect_now, too_many_connections: the server is going away or full.
  '57P01': { code: 'UNAVAILABLE', retryable: true },
  '57P02': { code: 'UNAVAILABLE', retryable: true },
  '57P03': { code: 'UNAVAILABLE', retryable: true },
  '53300': { code: 'UNAVAILABLE', retryable: true },
  // Class 08, connection_exception (08000, 08003, 08006, …).
  '08': { code: 'UNAVAILABLE', retryable: true },
  // Class 22, data_exception: a value PostgreSQL refuses — invalid_text_representation (22P02, a
  // bad uuid), untranslatable_character (22P05, \u0000 in jsonb), character_not_in_repertoire
  // (22021, NUL in text), out-of-range or malformed dates (22007, 22008, 22009).
  '22': { code: 'INVALID_ARGUMENT', retryable: false },
  // not_null_violation and check_violation: a value the schema refuses (e.g. an unknown role).
  '23502': { code: 'INVALID_ARGUMENT', retryable: false },
  '23514': { code: 'INVALID_ARGUMENT', retryable: false },
};

/** Node socket errors raised by `pg` before PostgreSQL could answer: the server is unreachable. */
const NETWORK_ERROR_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
]);

interface PgDatabaseErrorLike {
  code: string;
  severity?: string;
  constraint?: string;
  table?: string;
  column?: string;
}

function isPgDatabaseError(error: unknown): error is Error & PgDatabaseErrorLike {
  if (!(error instanceof Error)) return false;
  const { code, severity } = error as { code?: unknown; severity?: unknown };
  // pg's DatabaseError always carries the five-character SQLSTATE and a severity.
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && typeof severity === 'string';
}

/**
 * Turns a PostgreSQL or connection error into a `StorageError` with a stable code; returns any
 * other value unchanged (domain errors, programming errors, unlisted SQLSTATEs).
 */
export function translatePgError(error: unknown): unknown {
  if (isPgDatabaseError(error)) {
    const rule = SQLSTATE_RULES[error.code] ?? SQLSTATE_RULES[error.code.slice(0, 2)];
    if (!rule) return error;
    const details: Record<string, unknown> = { sqlstate: error.code };
    if (error.constraint) details.constraint = error.constraint;
    if (error.table) details.table = error.table;
    if (error.column) details.column = error.column;
    return new StorageError(rule.code, `database refused the operation: ${error.message}`, {
      cause: error,
      retryable: rule.retryable,
      details,
    });
  }
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && NETWORK_ERROR_CODES.has(code)) {
      return new StorageError('UNAVAILABLE', `database unreachable: ${error.message}`, {
        cause: error,
        retryable: true,
        details: { errno: code },
      });
    }
  }
  return error;
}

/** Runs `operation` and rethrows whatever it throws through `translatePgError`. */
export async function withPgErrors<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    throw translatePgError(error);
  }
}
