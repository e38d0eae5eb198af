/**
 * Per-key turn rate limit over fixed one-minute windows, decided in process memory so a warm turn
 * adds no database round trip. Other processes' use of the same key and window is fed in by a
 * background sync (`recordRemoteUsage`); until the next sync a process only knows its own use, so
 * with N processes and a sync every S ms a key can overshoot its limit by at most what the other
 * N - 1 processes admit in S ms (bounded by N - 1 times the limit within one window).
 */

/** Length of one counting window. */
export const RATE_WINDOW_MS = 60_000;

/** The outcome of `tryTake`: allowed, or refused with how long until the next window opens. */
export type RateDecision = { allowed: true } | { allowed: false; retryAfterMs: number };

/** One key's use in the current window: this process's own and the others' last synced total. */
interface WindowUsage {
  windowStart: number;
  local: number;
  remote: number;
}

/** Options of `KeyRateLimiter`. */
export interface KeyRateLimiterOptions {
  /** Clock in ms; injectable for tests. */
  now?: () => number;
}

/** Counts turns per key and window and refuses them past the key's per-minute limit. */
export class KeyRateLimiter {
  readonly #now: () => number;
  readonly #usage = new Map<string, WindowUsage>();

  constructor(options: KeyRateLimiterOptions = {}) {
    this.#now = options.now ?? Date.now;
  }

  /** Takes one turn for `key` under `limitPerMinute`; a limit of 0 or less means unlimited. */
  tryTake(key: string, limitPerMinute: number): RateDecision {
    if (limitPerMinute <= 0) return { allowed: true };
    const usage = this.#current(key);
    if (usage.local + usage.remote >= limitPerMinute) {
      return { allowed: false, retryAfterMs: usage.windowStart + RATE_WINDOW_MS - this.#now() };
    }
    usage.local += 1;
    return { allowed: true };
  }

  /** This process's own count of `key` in the current window (what a sync writes out). */
  localUsage(key: string): { windowStart: number; count: number } {
    const usage = this.#current(key);
    return { windowStart: usage.windowStart, count: usage.local };
  }

  /**
   * Every key this process counted in the current window, with its own count (what a sync
   * writes out). Keys of past windows are forgotten here, so the map stays bounded by the keys
   * active in one window.
   */
  localUsages(): { key: string; windowStart: number; count: number }[] {
    const windowStart = this.#windowStart();
    const out: { key: string; windowStart: number; count: number }[] = [];
    for (const [key, usage] of this.#usage) {
      if (usage.windowStart !== windowStart) this.#usage.delete(key);
      else if (usage.local > 0) out.push({ key, windowStart, count: usage.local });
    }
    return out;
  }

  /** Records the other processes' total for `key` in `windowStart`; stale windows are ignored. */
  recordRemoteUsage(key: string, windowStart: number, othersCount: number): void {
    const usage = this.#current(key);
    if (usage.windowStart === windowStart) usage.remote = Math.max(0, othersCount);
  }

  /** Start of the current window (wall-clock minutes, so every process agrees). */
  #windowStart(): number {
    return Math.floor(this.#now() / RATE_WINDOW_MS) * RATE_WINDOW_MS;
  }

  #current(key: string): WindowUsage {
    const windowStart = this.#windowStart();
    let usage = this.#usage.get(key);
    if (!usage || usage.windowStart !== windowStart) {
      usage = { windowStart, local: 0, remote: 0 };
      this.#usage.set(key, usage);
    }
    return usage;
  }
}
