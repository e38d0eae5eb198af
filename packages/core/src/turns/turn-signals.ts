import { abortedError } from '../abort';
import type { TurnProgressEvent } from './turn-ledger';

/**
 * Rejects with `ABORTED` as soon as `signal` aborts, even while the task still waits in the
 * session's queue (it then starts, sees the abort and writes nothing).
 */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  promise.catch(() => {});
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortedError(signal));
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** Calls `onEvent` safely (a listener that throws is reported, never fails the turn), until the turn aborts. */
export function progressEmitter(
  onEvent: ((event: TurnProgressEvent) => void) | undefined,
  signal: AbortSignal,
  report: (error: unknown) => void,
): (event: TurnProgressEvent) => void {
  if (!onEvent) return () => undefined;
  return (event) => {
    // An aborted turn reports nothing more: what its tools do while they stop is not progress.
    if (signal.aborted) return;
    try {
      onEvent(event);
    } catch (error) {
      report(error);
    }
  };
}
