import { CodedError } from '@stello-ai/errors';

/**
 * Stable codes of `TransportError`: what the transport itself rejects before any runtime call.
 * Their HTTP statuses are in `error-mapping.ts`.
 */
export type TransportErrorCode =
  /** A path parameter (space or session id) is not a UUID. */
  | 'INVALID_ID'
  /** The request body is not valid JSON. */
  | 'INVALID_JSON'
  /** Text that cannot be stored as sent: invalid UTF-8 bytes, or a lone UTF-16 surrogate. */
  | 'INVALID_TEXT'
  /** A body field or a query parameter is missing, mistyped or out of range (`details` lists the issues). */
  | 'VALIDATION_ERROR'
  /** No `X-API-Key` header (or WebSocket key subprotocol). */
  | 'MISSING_API_KEY'
  /** The API key is unknown or revoked. */
  | 'INVALID_API_KEY'
  /** The space belongs to another user. */
  | 'FORBIDDEN'
  /** No such route. */
  | 'NOT_FOUND'
  /** The space does not exist. */
  | 'SPACE_NOT_FOUND'
  /** The session does not exist in the space of the path (another space's session is unknown too). */
  | 'SESSION_NOT_FOUND'
  /** The session is archived: its data is readable, not writable. */
  | 'SESSION_ARCHIVED'
  /** The request body is larger than `limits.bodyBytes`. */
  | 'PAYLOAD_TOO_LARGE'
  /** The WebSocket handshake is malformed (e.g. a key subprotocol offered without `stello.v1`). */
  | 'INVALID_HANDSHAKE'
  /** No turn of that id in the session. */
  | 'TURN_NOT_FOUND'
  /** The readiness probe failed. */
  | 'NOT_READY'
  /** The user has as many open WebSockets as `limits.wsConnectionsPerUser` allows. */
  | 'TOO_MANY_CONNECTIONS'
  /** The API key is over its turns per minute or its streams at once (`details.retryAfterMs`; REST: `Retry-After`). */
  | 'RATE_LIMITED'
  /** The transport is shutting down. */
  | 'UNAVAILABLE'
  /** An unexpected server fault; the details are only in the logs. */
  | 'INTERNAL';

/** Error of the transport layer; identify it by `code` (`isCodedError`), not by class. */
export class TransportError extends CodedError<TransportErrorCode, unknown> {
  constructor(code: TransportErrorCode, message: string, options?: { cause?: unknown; details?: unknown }) {
    super(code, message, options);
    this.name = 'TransportError';
  }
}
