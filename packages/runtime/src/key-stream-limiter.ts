/**
 * Per-key cap on streams running at once (REST SSE and WebSocket streams alike), decided in
 * process memory. Other processes' open streams of the same key come in through the background
 * sync (`recordRemoteStreams`), so across processes the cap holds to within what the others
 * opened since their last sync.
 */

/** The outcome of `tryOpen`: a slot to release when the stream ends, or a refusal with a retry hint. */
export type StreamDecision =
  | { allowed: true; release: () => void }
  | { allowed: false; retryAfterMs: number };

/** Options of `KeyStreamLimiter`. */
export interface KeyStreamLimiterOptions {
  /** The retry hint of a refusal, in ms (default 1 s: a slot frees when a stream ends, unannounced). */
  retryAfterMs?: number;
}

const DEFAULT_STREAM_RETRY_MS = 1_000;
const NO_SLOT = () => {};

/** Counts the open streams of each key and refuses new ones past the key's cap. */
export class KeyStreamLimiter {
  readonly #local = new Map<string, number>();
  readonly #remote = new Map<string, number>();
  readonly #retryAfterMs: number;

  constructor(options: KeyStreamLimiterOptions = {}) {
    this.#retryAfterMs = options.retryAfterMs ?? DEFAULT_STREAM_RETRY_MS;
  }

  /**
   * Opens a stream for `key` under `limit` (0 or less: unlimited, and not counted). The returned
   * `release` is idempotent: call it once the stream's turn has ended.
   */
  tryOpen(key: string, limit: number): StreamDecision {
    if (limit <= 0) return { allowed: true, release: NO_SLOT };
    const local = this.#local.get(key) ?? 0;
    if (local + (this.#remote.get(key) ?? 0) >= limit) {
      return { allowed: false, retryAfterMs: this.#retryAfterMs };
    }
    this.#local.set(key, local + 1);
    let released = false;
    return {
      allowed: true,
      release: () => {
        if (released) return;
        released = true;
        const left = (this.#local.get(key) ?? 1) - 1;
        if (left > 0) this.#local.set(key, left);
        else this.#local.delete(key);
      },
    };
  }

  /** This process's open streams of `key`. */
  localOpen(key: string): number {
    return this.#local.get(key) ?? 0;
  }

  /** Every key with streams open here, and how many. */
  localStreams(): { key: string; count: number }[] {
    return [...this.#local].map(([key, count]) => ({ key, count }));
  }

  /** Replaces what is known of the other processes' open streams (keys absent: none). */
  replaceRemoteStreams(counts: ReadonlyMap<string, number>): void {
    this.#remote.clear();
    for (const [key, count] of counts) if (count > 0) this.#remote.set(key, count);
  }
}
