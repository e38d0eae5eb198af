import { CodedError } from '@stello-ai/errors';

/** Stable codes of `RuntimeError`. */
export type RuntimeErrorCode =
  | 'SPACE_NOT_FOUND'
  | 'CONNECTION_NOT_BOUND'
  | 'USER_NOT_FOUND'
  | 'INVALID_ARGUMENT'
  | 'QUOTA_EXCEEDED'
  | 'TOO_MANY_TURNS';

/**
 * Error of the runtime layer (spaces, the agent pool, connections, users). Identify it by `code`
 * (`isCodedError` from `@stello-ai/session`), never by class: a second copy of the package would
 * break `instanceof`.
 */
export class RuntimeError extends CodedError<RuntimeErrorCode> {
  constructor(
    code: RuntimeErrorCode,
    message: string,
    options?: { cause?: unknown; details?: Record<string, unknown> },
  ) {
    super(code, message, options);
    this.name = 'RuntimeError';
  }
}

/**
 * Builds the `SPACE_NOT_FOUND` error of `spaceId`.
 * @internal
 */
export function spaceNotFound(spaceId: string): RuntimeError {
  return new RuntimeError('SPACE_NOT_FOUND', `space "${spaceId}" not found`, { details: { spaceId } });
}
