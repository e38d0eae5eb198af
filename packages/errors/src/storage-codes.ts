/**
 * Stable codes of the storage layer's infrastructure errors (translations of PostgreSQL failures).
 * They live here, the bottom package, so the storage and the transport (which must not depend on
 * the storage) share one list.
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
  | 'INVALID_ARGUMENT'
  /** A subtree export or import is over the configured bounds (sessions, records or bytes). */
  | 'SUBTREE_TOO_LARGE';
