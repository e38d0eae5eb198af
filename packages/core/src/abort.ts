import { isCodedError, type SessionError, turnAbortedError } from '@stello-ai/session';

/** The `ABORTED` error of a turn whose signal fired. */
export function abortedError(signal: AbortSignal): SessionError {
  return turnAbortedError(signal.reason);
}

/** Throws `ABORTED` when `signal` has fired. */
export function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw abortedError(signal);
}

/**
 * Awaits `fn()` but settles as soon as `signal` aborts (an adapter or tool that ignores the
 * signal cannot hold the turn), and reports any failure after an abort as `ABORTED`.
 */
export async function guard<T>(signal: AbortSignal, fn: () => Promise<T>): Promise<T> {
  throwIfAborted(signal);
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(abortedError(signal));
    signal.addEventListener('abort', onAbort, { once: true });
  });
  const work = fn();
  // The losing side of the race must not surface as an unhandled rejection.
  work.catch(() => {});
  try {
    return await Promise.race([work, aborted]);
  } catch (error) {
    if (signal.aborted && !isCodedError(error, 'ABORTED')) throw abortedError(signal);
    throw error;
  } finally {
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
}

/** Resolves after `ms`, or rejects with `ABORTED` as soon as `signal` fires. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(abortedError(signal));
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortedError(signal));
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
