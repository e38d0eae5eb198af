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
  return new SessionError('LLM_ERROR', `${provider} request failed: ${reason}`, {
    cause: error,
    details: typeof status === 'number' ? { provider, status } : { provider },
  });
}
