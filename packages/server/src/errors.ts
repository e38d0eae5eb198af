import { CodedError } from '@stello-ai/errors';

/** Stable codes of `StelloServerError`. */
export type StelloServerErrorCode =
  /** `listen()` was called while the server already listens; close it first. */
  | 'ALREADY_LISTENING'
  /** The server was closed: its agent pool is disposed and it cannot listen again. */
  | 'SERVER_CLOSED'
  /** An option of `createStelloServer` or `listen` is invalid. */
  | 'INVALID_OPTIONS'
  /** Another process already listens on the port. */
  | 'PORT_IN_USE';

/**
 * Error of the server facade (lifecycle and options). Identify it by `code`
 * (`isCodedError` from `@stello-ai/session`), never by class.
 */
export class StelloServerError extends CodedError<StelloServerErrorCode> {
  constructor(code: StelloServerErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'StelloServerError';
  }
}
