import { SessionError } from '../errors';

/**
 * Builds the error an aborted LLM call rejects with: a `SessionError` coded `ABORTED` whose `name`
 * is `AbortError`, so both `isCodedError(e, 'ABORTED')` and the DOM convention recognise it.
 */
export function createAbortError(reason?: unknown): SessionError {
  const error = new SessionError(
    'ABORTED',
    'llm call aborted',
    reason === undefined ? undefined : { cause: reason },
  );
  error.name = 'AbortError';
  return error;
}

/** Throws the abort error when `signal` is already aborted. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw createAbortError(signal.reason);
}

/**
 * Maps whatever a provider SDK threw to the adapter contract: aborts become the abort error,
 * everything else a `SessionError('LLM_ERROR')` that keeps the original as `cause` and the HTTP
 * status (when there is one) in `details`. `isSdkAbort` is the SDK's own verdict (its abort class).
 */
export function toAdapterError(
  error: unknown,
  provider: string,
  signal: AbortSignal | undefined,
  isSdkAbort = false,
): Error {
  // The SDKs throw their own APIUserAbortError; a bare fetch throws a DOMException named AbortError.
  if (signal?.aborted || isSdkAbort || (error instanceof Error && error.name === 'AbortError')) {
    if (error instanceof SessionError && error.code === 'ABORTED') return error;
    return createAbortError(signal?.aborted ? signal.reason : error);
  }
  if (error instanceof SessionError) return error;
  const status = (error as { status?: unknown } | null)?.status;
  const reason = error instanceof Error ? error.message : String(error);
  if (isContextOverflow(error)) {
    return new SessionError('CONTEXT_TOO_LONG', `${provider} rejected the prompt as too long: ${reason}`, {
      cause: error,
      details: { provider, status },
    });
  }
  return new SessionError('LLM_ERROR', `${provider} request failed: ${reason}`, {
    cause: error,
    details: typeof status === 'number' ? { provider, status } : { provider },
  });
}

// OpenAI says `"code": "context_length_exceeded"`; Anthropic an `invalid_request_error` whose
// message starts "prompt is too long"; OpenAI-compatible servers copy OpenAI's message.
const OVERFLOW_MESSAGE =
  /prompt is too long|maximum context length|context length exceeded|context_length_exceeded/i;

/** True when a provider SDK error is the provider's HTTP 400 answer to a prompt over its window. */
export function isContextOverflow(error: unknown): boolean {
  const failure = error as { status?: unknown; code?: unknown; error?: unknown; message?: unknown } | null;
  if (failure === null || typeof failure !== 'object' || failure.status !== 400) return false;
  if (failure.code === 'context_length_exceeded') return true;
  // The SDKs keep the response body in `error`: OpenAI its `error` member, Anthropic the whole body.
  const body = failure.error as
    | { code?: unknown; message?: unknown; error?: { message?: unknown } }
    | undefined;
  if (body?.code === 'context_length_exceeded') return true;
  const messages = [failure.message, body?.message, body?.error?.message];
  return messages.some((message) => typeof message === 'string' && OVERFLOW_MESSAGE.test(message));
}
