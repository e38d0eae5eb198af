import { isStelloError } from './errors';

/** How a call retries failures that are safe to retry. */
export interface RetryOptions {
  /** Retries after the first attempt (default 2; 0 disables). */
  retries?: number;
  /** First delay; each next one doubles (default 200 ms). */
  minDelayMs?: number;
  /** Longest delay (default 5 s). */
  maxDelayMs?: number;
}

const DEFAULT_RETRIES = 2;
const DEFAULT_MIN_DELAY_MS = 200;
const DEFAULT_MAX_DELAY_MS = 5_000;

/**
 * True for failures after which the same request may be sent again without doing the work twice,
 * given a turn id: the request may not have arrived (network), or the server asked for a retry.
 */
export function isRetryable(error: unknown): boolean {
  if (!isStelloError(error)) return false;
  return (
    error.code === 'NETWORK_ERROR' ||
    error.code === 'TURN_CONFLICT' ||
    // The user's cap of turns at once refused it before it started.
    error.code === 'TOO_MANY_TURNS' ||
    error.status === 503 ||
    error.status === 504
  );
}

/** The delay before retry `attempt` (1-based): exponential, capped, with jitter. */
export function backoffDelayMs(attempt: number, options: RetryOptions = {}): number {
  const min = options.minDelayMs ?? DEFAULT_MIN_DELAY_MS;
  const max = options.maxDelayMs ?? DEFAULT_MAX_DELAY_MS;
  const exponential = Math.min(max, min * 2 ** (attempt - 1));
  // Jitter in [50 %, 100 %]: many clients cut off at once do not come back at once.
  return Math.round(exponential * (0.5 + Math.random() / 2));
}

/** Waits `ms`, or rejects with the signal's reason when it aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Runs `attempt` until it succeeds, fails with a non-retryable error, or the retries run out. */
export async function withRetries<TResult>(
  attempt: () => Promise<TResult>,
  options: RetryOptions & { signal?: AbortSignal | undefined } = {},
): Promise<TResult> {
  const retries = options.retries ?? DEFAULT_RETRIES;
  for (let failures = 0; ; failures += 1) {
    try {
      return await attempt();
    } catch (error) {
      if (failures >= retries || !isRetryable(error) || options.signal?.aborted) throw error;
      await sleep(backoffDelayMs(failures + 1, options), options.signal);
    }
  }
}
