/** Stable codes of `StelloServerError`. */
export type StelloServerErrorCode =
  /** `listen()` was called while the server already listens; close it first. */
  | 'ALREADY_LISTENING'
  /** The server was closed: its agent pool is disposed and it cannot listen again. */
  | 'SERVER_CLOSED'
  /** An option of `createStelloServer` or `listen` is invalid. */
  | 'INVALID_OPTIONS';

/**
 * Error of the server facade (lifecycle and options). Identify it by `code`
 * (`isCodedError` from `@stello-ai/session`), never by class.
 */
export class StelloServerError extends Error {
  /** Stable machine-readable code; the message is for humans. */
  readonly code: StelloServerErrorCode;

  constructor(code: StelloServerErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'StelloServerError';
    this.code = code;
  }
}
