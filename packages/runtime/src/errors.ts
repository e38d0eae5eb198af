/** Stable codes of `RuntimeError`. */
export type RuntimeErrorCode =
  | 'SPACE_NOT_FOUND'
  | 'CONNECTION_NOT_BOUND'
  | 'USER_NOT_FOUND'
  | 'INVALID_ARGUMENT';

/**
 * Error of the runtime layer (spaces, the agent pool, connections, users). Identify it by `code`
 * (`isCodedError` from `@stello-ai/session`), never by class: a second copy of the package would
 * break `instanceof`.
 */
export class RuntimeError extends Error {
  /** Stable machine-readable code; the message is for humans. */
  readonly code: RuntimeErrorCode;
  /** Structured context (ids, field names), safe to show to the caller. */
  readonly details?: Record<string, unknown>;

  constructor(
    code: RuntimeErrorCode,
    message: string,
    options?: { cause?: unknown; details?: Record<string, unknown> },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RuntimeError';
    this.code = code;
    if (options?.details) this.details = options.details;
  }
}

/**
 * Builds the `SPACE_NOT_FOUND` error of `spaceId`.
 * @internal
 */
export function spaceNotFound(spaceId: string): RuntimeError {
  return new RuntimeError('SPACE_NOT_FOUND', `space "${spaceId}" not found`, { details: { spaceId } });
}
