import { CodedError, type StorageErrorCode } from '@stello-ai/errors';

export type { StorageErrorCode };

/** Error of the storage layer; identify it by `code` (see `isStorageError`), not by class. */
export class StorageError extends CodedError<StorageErrorCode> {
  /** True when running the same operation again may succeed (a deadlock, a lost connection). */
  readonly retryable: boolean;

  constructor(
    code: StorageErrorCode,
    message: string,
    options?: { cause?: unknown; retryable?: boolean; details?: Record<string, unknown> },
  ) {
    super(code, message, { cause: options?.cause, details: options?.details });
    this.name = 'StorageError';
    this.retryable = options?.retryable ?? false;
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
