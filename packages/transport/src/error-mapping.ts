import type { CoreErrorCode } from '@stello-ai/core';
import type { StorageErrorCode } from '@stello-ai/errors';
import type { ErrorCode as ProtocolErrorCode } from '@stello-ai/protocol';
import type { RuntimeErrorCode } from '@stello-ai/runtime';
import type { SessionErrorCode } from '@stello-ai/session';
import type { TransportErrorCode } from './errors';

/** Codes of the storage layer's infrastructure errors; they reach the transport through the runtime. */
export type InfrastructureErrorCode = StorageErrorCode;

/** Every error code the transport can answer with. */
export type ErrorCode =
  | TransportErrorCode
  | SessionErrorCode
  | RuntimeErrorCode
  | CoreErrorCode
  | InfrastructureErrorCode;

// The protocol's published code list (what clients and the OpenAPI document see) must be exactly
// the codes of the layers: a code added on either side without the other fails to compile.
type Same<TLeft, TRight> = [TLeft] extends [TRight] ? ([TRight] extends [TLeft] ? true : false) : false;
const PROTOCOL_LISTS_EVERY_CODE: Same<ErrorCode, ProtocolErrorCode> = true;
void PROTOCOL_LISTS_EVERY_CODE;

/**
 * The one table from error code to HTTP status. Adding a code to any layer's union without a
 * status here is a compile error.
 */
export const ERROR_STATUS: Readonly<Record<ErrorCode, number>> = {
  // Bad input.
  INVALID_ID: 400,
  INVALID_JSON: 400,
  INVALID_TEXT: 400,
  VALIDATION_ERROR: 400,
  INVALID_ARGUMENT: 400,
  INVALID_HANDSHAKE: 400,
  PROFILE_NOT_FOUND: 400,
  INVALID_REF: 400,
  // Authentication and ownership.
  MISSING_API_KEY: 401,
  INVALID_API_KEY: 401,
  FORBIDDEN: 403,
  // A quota of what the user holds is used up: waiting does not help, deleting something does.
  QUOTA_EXCEEDED: 403,
  // Unknown things (a session of another space is unknown too).
  NOT_FOUND: 404,
  SPACE_NOT_FOUND: 404,
  SESSION_NOT_FOUND: 404,
  USER_NOT_FOUND: 404,
  // The space or the parent was deleted under the request.
  INVALID_REFERENCE: 404,
  // State conflicts.
  SESSION_ARCHIVED: 409,
  TURN_CONFLICT: 409,
  // Another instance kept running a turn on the session for longer than this one would wait.
  SESSION_BUSY: 409,
  TURN_ID_CONFLICT: 409,
  TURN_CANCELLED: 409,
  TURN_NOT_FOUND: 404,
  RECORD_NOT_FOUND: 404,
  CONFLICT: 409,
  NOT_MAIN_SESSION: 409,
  INVALID_OPERATION: 409,
  PAYLOAD_TOO_LARGE: 413,
  SUBTREE_TOO_LARGE: 413,
  // A per-user bound; the client may try again once it closed something.
  TOO_MANY_CONNECTIONS: 429,
  TOO_MANY_TURNS: 429,
  // A per-key rate limit; `Retry-After` says when.
  RATE_LIMITED: 429,
  // The new input alone is over the model's context window: sending it again cannot succeed.
  CONTEXT_TOO_LONG: 413,
  // Real faults: the body carries a generic message, the details go to the log.
  INTERNAL: 500,
  CONNECTION_NOT_BOUND: 500,
  INVALID_TOOL: 500,
  DUPLICATE_TOOL: 500,
  // The model provider failed or answered unusably.
  LLM_ERROR: 502,
  INVALID_MODEL_REPLY: 502,
  // Temporarily unable to serve; retrying later may succeed.
  NO_LLM: 503,
  ABORTED: 503,
  AGENT_DISPOSED: 503,
  TRANSACTION_CONFLICT: 503,
  UNAVAILABLE: 503,
  NOT_READY: 503,
  TIMEOUT: 504,
};

// Messages used whenever the error's own message must not be shown (5xx, infrastructure errors).
const GENERIC_MESSAGE: Partial<Record<ErrorCode, string>> = {
  INVALID_ARGUMENT: 'invalid argument',
  INVALID_REFERENCE: 'a referenced resource no longer exists',
  SUBTREE_TOO_LARGE: "the subtree is over the server's export/import limits",
  CONFLICT: 'the resource changed concurrently, retry',
  LLM_ERROR: 'the language model provider failed',
  INVALID_MODEL_REPLY: 'the language model returned an unusable reply',
  NO_LLM: 'no language model is configured',
  ABORTED: 'the operation was aborted',
  AGENT_DISPOSED: 'the server is shutting down',
  TRANSACTION_CONFLICT: 'the operation conflicted with another one, retry',
  UNAVAILABLE: 'the service is temporarily unavailable',
  NOT_READY: 'the server is not ready',
  TIMEOUT: 'the operation timed out',
};

const INTERNAL_MESSAGE = 'internal server error';

// Our own layers write messages meant for the caller; anything else (pg, providers) may leak internals.
const SAFE_ERROR_NAMES: ReadonlySet<string> = new Set([
  'TransportError',
  'SessionError',
  'SessionArchivedError',
  'RuntimeError',
  'CoreError',
]);

/** An error as the client sees it. */
export interface PublicError {
  /** HTTP status (also used to decide what a WebSocket error frame may say). */
  status: number;
  /** Stable code. */
  code: ErrorCode;
  /** Human message, safe to show. */
  message: string;
  /** JSON-safe details (validation issues, the id that was not found). */
  details?: unknown;
}

function isKnownCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(ERROR_STATUS, code);
}

/**
 * Turns anything thrown into the error the client sees: known codes keep their status; a 4xx
 * from our own layers keeps its message; 5xx and foreign errors get a generic message; anything
 * without a known code is `INTERNAL` 500.
 */
export function toPublicError(error: unknown): PublicError {
  const code = error instanceof Error ? (error as { code?: unknown }).code : undefined;
  if (!(error instanceof Error) || !isKnownCode(code)) {
    return { status: 500, code: 'INTERNAL', message: INTERNAL_MESSAGE };
  }
  const status = ERROR_STATUS[code];
  const safe = SAFE_ERROR_NAMES.has(error.name) && status < 500;
  const message = safe ? error.message : (GENERIC_MESSAGE[code] ?? INTERNAL_MESSAGE);
  const out: PublicError = { status, code, message };
  const details = (error as { details?: unknown }).details;
  if (safe && details !== undefined) out.details = details;
  return out;
}

/** The JSON body of an error response: `{ error, code, details? }`. */
export function errorBody(error: PublicError): { error: string; code: string; details?: unknown } {
  return error.details === undefined
    ? { error: error.message, code: error.code }
    : { error: error.message, code: error.code, details: error.details };
}
