import { z } from 'zod';

/**
 * Every stable code a REST error body or a WebSocket `error` frame can carry for a failed
 * request. The server maps each one to an HTTP status (transport's `ERROR_STATUS`); a code is a
 * contract, a message is for humans.
 */
export const ERROR_CODES = [
  // Bad input (400).
  'INVALID_ID',
  'INVALID_JSON',
  'INVALID_TEXT',
  'VALIDATION_ERROR',
  'INVALID_ARGUMENT',
  'INVALID_HANDSHAKE',
  'PROFILE_NOT_FOUND',
  'INVALID_REF',
  // Authentication and ownership (401, 403).
  'MISSING_API_KEY',
  'INVALID_API_KEY',
  'FORBIDDEN',
  'QUOTA_EXCEEDED',
  // Unknown things (404).
  'NOT_FOUND',
  'SPACE_NOT_FOUND',
  'SESSION_NOT_FOUND',
  'USER_NOT_FOUND',
  'INVALID_REFERENCE',
  'TURN_NOT_FOUND',
  'RECORD_NOT_FOUND',
  // State conflicts (409).
  'SESSION_ARCHIVED',
  'TURN_CONFLICT',
  'SESSION_BUSY',
  'TURN_ID_CONFLICT',
  'TURN_CANCELLED',
  'CONFLICT',
  'NOT_MAIN_SESSION',
  'INVALID_OPERATION',
  // Too large (413), too many (429).
  'PAYLOAD_TOO_LARGE',
  'CONTEXT_TOO_LONG',
  'TOO_MANY_CONNECTIONS',
  'TOO_MANY_TURNS',
  'RATE_LIMITED',
  'SUBTREE_TOO_LARGE',
  // Server faults (500).
  'INTERNAL',
  'CONNECTION_NOT_BOUND',
  'INVALID_TOOL',
  'DUPLICATE_TOOL',
  // The model provider failed (502).
  'LLM_ERROR',
  'INVALID_MODEL_REPLY',
  // Temporarily unavailable (503), timed out (504).
  'NO_LLM',
  'ABORTED',
  'AGENT_DISPOSED',
  'TRANSACTION_CONFLICT',
  'UNAVAILABLE',
  'NOT_READY',
  'TIMEOUT',
] as const;

/** A stable error code of a failed request. */
export type ErrorCode = (typeof ERROR_CODES)[number];

/** The error codes as a zod enum. */
export const errorCode = z.enum(ERROR_CODES).meta({ id: 'ErrorCode', description: 'Stable error code.' });

/**
 * Codes of the WebSocket protocol's own `error` frames (a failed request carries an
 * {@link ErrorCode} instead).
 */
export const WS_PROTOCOL_ERROR_CODES = [
  /** The frame is not valid JSON. */
  'PARSE_ERROR',
  /** Not a JSON object, a binary frame, or a field missing or mistyped (`details` lists the issues). */
  'INVALID_MESSAGE',
  /** `type` names no message of the protocol. */
  'UNKNOWN_TYPE',
  /** The message needs an entered session. */
  'NOT_ENTERED',
  /** `session.enter` while a session is entered; leave first. */
  'ALREADY_ENTERED',
  /** Too many messages are waiting on this connection; this one was dropped. */
  'TOO_MANY_MESSAGES',
  /** The handler failed for a reason the client cannot act on; the details are only in the logs. */
  'HANDLER_ERROR',
] as const;

/** Code of a WebSocket protocol `error` frame. */
export type WsProtocolErrorCode = (typeof WS_PROTOCOL_ERROR_CODES)[number];

/**
 * Code of a streamed turn's `error` frame for a turn that failed in a process that died (the turn
 * ledger's own code); other failed turns carry the {@link ErrorCode} of their failure.
 */
export const TURN_FAILED = 'TURN_FAILED';

/** Code of an `error` frame: a protocol code, an error code, or `TURN_FAILED`. */
export type WsErrorCode = WsProtocolErrorCode | ErrorCode | typeof TURN_FAILED;

/** Any code an `error` frame may carry. */
export const wsErrorCode = z
  .enum([...WS_PROTOCOL_ERROR_CODES, ...ERROR_CODES, TURN_FAILED])
  .meta({ id: 'WsErrorCode', description: 'Code of an `error` frame.' });

/** One validation problem, as `details` of `VALIDATION_ERROR` lists them. */
export const validationIssue = z
  .strictObject({
    path: z.string().meta({ description: "Dotted path of the field (`''` for the whole value)." }),
    message: z.string().meta({ description: 'What is wrong with it.' }),
  })
  .meta({ id: 'ValidationIssue' });

/** One validation problem. */
export type ValidationIssue = z.infer<typeof validationIssue>;

/**
 * The JSON body of every REST error response (and of a refused WebSocket upgrade):
 * `{ error: "<message>", code: "<CODE>", details? }`.
 */
export const errorBody = z
  .strictObject({
    error: z.string().meta({ description: 'Human message, safe to show; not API.' }),
    code: errorCode,
    details: z.unknown().optional().meta({
      description: 'JSON details: the validation issues of `VALIDATION_ERROR`, the id of a conflict.',
    }),
  })
  .meta({ id: 'ErrorBody' });

/** The JSON body of a REST error response. */
export type ErrorBody = z.infer<typeof errorBody>;
