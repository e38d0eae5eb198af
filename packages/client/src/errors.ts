import type { ErrorCode, WsProtocolErrorCode } from './wire';

/** Codes the client raises itself, for failures that never reached a server answer. */
export type ClientErrorCode =
  /** `fetch` failed: the server is unreachable, or the connection broke. */
  | 'NETWORK_ERROR'
  /** The server answered something that is not the expected JSON or event stream. */
  | 'INVALID_RESPONSE'
  /** The WebSocket could not be opened (and the space itself answered fine over REST). */
  | 'CONNECTION_FAILED'
  /** The WebSocket closed and could not be reopened, or was closed by `close()`. */
  | 'CONNECTION_LOST';

/** Codes the server sends in event streams only. */
// TODO(protocol): not in transport's `ErrorCode` union; `GET /spaces/:spaceId/events` sends it.
export type StreamErrorCode = 'SLOW_SUBSCRIBER';

/** Every code a {@link StelloApiError} can carry: the server's codes, the WS protocol's, the client's. */
export type StelloErrorCode = ErrorCode | WsProtocolErrorCode | StreamErrorCode | ClientErrorCode;

/** Options of {@link StelloApiError}. */
export interface StelloApiErrorOptions {
  /** HTTP status; 0 when no HTTP answer carried the error (network, WebSocket). */
  status?: number;
  /** The `X-Request-Id` of the answer, to find the request in the server's logs. */
  requestId?: string;
  /** The server's `details` (validation issues, the running `turnId` of `SESSION_BUSY`, …). */
  details?: unknown;
  cause?: unknown;
}

/**
 * An error of the Stello API: a REST error answer, a WebSocket `error` frame, or a failure of the
 * client itself. Recognise it by `code` (see {@link isStelloError}), never by message.
 */
export class StelloApiError extends Error {
  override readonly name = 'StelloApiError';
  /** The stable code. */
  readonly code: StelloErrorCode;
  /** HTTP status; 0 when no HTTP answer carried the error. */
  readonly status: number;
  /** The `X-Request-Id` of the answer, when there was one. */
  readonly requestId: string | undefined;
  /** The server's `details`, when it sent some. */
  readonly details: unknown;

  constructor(code: StelloErrorCode, message: string, options: StelloApiErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = options.status ?? 0;
    this.requestId = options.requestId;
    this.details = options.details;
  }
}

/**
 * True when `value` is a {@link StelloApiError}, and, when `code` is given, one with that code.
 * Checks the name and the fields, so an error of another copy of this package is recognised too.
 *
 * @example
 * if (isStelloError(error, 'SESSION_BUSY')) retryLater();
 */
export function isStelloError<TCode extends StelloErrorCode>(
  value: unknown,
  code?: TCode,
): value is StelloApiError & { code: TCode } {
  if (!(value instanceof Error) || value.name !== 'StelloApiError') return false;
  return code === undefined || (value as StelloApiError).code === code;
}

/** The error of a non-2xx answer: its `{ error, code, details? }` body, or a generic one. */
export async function errorFromResponse(response: Response): Promise<StelloApiError> {
  const requestId = response.headers.get('x-request-id') ?? undefined;
  const text = await response.text().catch(() => '');
  const body = parseErrorBody(text);
  const code = typeof body?.code === 'string' ? (body.code as StelloErrorCode) : 'INVALID_RESPONSE';
  const message = typeof body?.error === 'string' ? body.error : `HTTP ${response.status}`;
  return new StelloApiError(code, message, {
    status: response.status,
    ...(requestId !== undefined && { requestId }),
    ...(body?.details !== undefined && { details: body.details }),
  });
}

/** The `{ error, code, details? }` body of an error answer; `null` when it is not JSON (a proxy's page). */
function parseErrorBody(text: string): { error?: unknown; code?: unknown; details?: unknown } | null {
  try {
    const body: unknown = JSON.parse(text);
    return typeof body === 'object' && body !== null ? body : null;
  } catch {
    return null;
  }
}

/** The error of a WebSocket or SSE `error` frame. */
export function errorFromFrame(frame: {
  code?: unknown;
  message?: unknown;
  details?: unknown;
  [field: string]: unknown;
}): StelloApiError {
  const code = typeof frame.code === 'string' ? (frame.code as StelloErrorCode) : 'INVALID_RESPONSE';
  const message = typeof frame.message === 'string' ? frame.message : 'the server reported an error';
  return new StelloApiError(code, message, frame.details === undefined ? {} : { details: frame.details });
}
