/**
 * Stable codes of `StorageError`: infrastructure failures translated from PostgreSQL (see `pg-errors.ts`).
 * Domain failures (a missing or archived session, a stale turn) are `SessionError`s instead.
 */
export type StorageErrorCode =
  /** A unique constraint was violated (SQLSTATE 23505). */
  | 'CONFLICT'
  /** A foreign key points at a row that does not exist, e.g. a space that was deleted (23503). */
  | 'INVALID_REFERENCE'
  /** A serialization failure or a deadlock; retrying the whole operation may succeed (40001, 40P01). */
  | 'TRANSACTION_CONFLICT'
  /** The statement was cancelled, usually by `statement_timeout` (57014). */
  | 'TIMEOUT'
  /** The database cannot be reached or is shutting down (class 08, 57P01…, network errors). */
  | 'UNAVAILABLE'
  /** PostgreSQL refused a value (bad text representation, out-of-range date, check violation). */
  | 'INVALID_ARGUMENT';

/** Error of the storage layer; identify it by `code` (see `isStorageError`), not by class. */
export class StorageError extends Error {
  /** Stable, machine-readable reason. */
  readonly code: StorageErrorCode;
  /** True when running the same operation again may succeed (a deadlock, a lost connection). */
  readonly retryable: boolean;
  /** Structured context for logs (the SQLSTATE, the constraint); never shown to end users as is. */
  readonly details?: Record<string, unknown>;

  constructor(
    code: StorageErrorCode,
    message: string,
    options?: { cause?: unknown; retryable?: boolean; details?: Record<string, unknown> },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'StorageError';
    this.code = code;
    this.retryable = options?.retryable ?? false;
    if (options?.details) this.details = options.details;
  }
}

/**
 * True when `error` is a storage-layer error (and has `code`, when given).
 *
 * It checks `name` and `code` rather than `instanceof`, so a second copy of this package is still recognised.
 */
export function isStorageError(error: unknown, code?: StorageErrorCode): error is StorageError {
  if (!(error instanceof Error) || error.name !== 'StorageError') return false;
  const actual = (error as { code?: unknown }).code;
  return typeof actual === 'string' && (code === undefined || actual === code);
}
