import type { KeyLimits, KeyLimitsUpdate, KeyUsage, RateLimitStore, UsageSync } from './rate-limit-store';

interface UsageRow extends KeyUsage {
  windowStartMs: number;
  processId: string;
  updatedAt: number;
}

/** Options of `InMemoryRateLimitStore`. */
export interface InMemoryRateLimitStoreOptions {
  /** Whether a key (user) exists; default: every key does. */
  keyExists?: (keyId: string) => boolean;
  /** Clock in ms, for the freshness of open streams. */
  now?: () => number;
}

/**
 * A `RateLimitStore` in process memory: several `KeyLimits` of one process (tests, embedding)
 * can share one to act as separate processes.
 */
export class InMemoryRateLimitStore implements RateLimitStore {
  readonly #limits = new Map<string, KeyLimits>();
  readonly #usage = new Map<string, UsageRow>();
  readonly #keyExists: (keyId: string) => boolean;
  readonly #now: () => number;

  constructor(options: InMemoryRateLimitStoreOptions = {}) {
    this.#keyExists = options.keyExists ?? (() => true);
    this.#now = options.now ?? Date.now;
  }

  async getKeyLimits(keyId: string): Promise<KeyLimits | null> {
    if (!this.#keyExists(keyId)) return null;
    return { ...(this.#limits.get(keyId) ?? { keyId, turnsPerMinute: null, concurrentStreams: null }) };
  }

  async setKeyLimits(keyId: string, update: KeyLimitsUpdate): Promise<KeyLimits | null> {
    const current = await this.getKeyLimits(keyId);
    if (!current) return null;
    const next: KeyLimits = {
      keyId,
      turnsPerMinute: update.turnsPerMinute === undefined ? current.turnsPerMinute : update.turnsPerMinute,
      concurrentStreams:
        update.concurrentStreams === undefined ? current.concurrentStreams : update.concurrentStreams,
    };
    this.#limits.set(keyId, next);
    return { ...next };
  }

  async listKeyLimits(): Promise<KeyLimits[]> {
    return [...this.#limits.values()]
      .filter((limits) => limits.turnsPerMinute !== null || limits.concurrentStreams !== null)
      .map((limits) => ({ ...limits }));
  }

  async syncUsage(sync: UsageSync): Promise<KeyUsage[]> {
    const now = this.#now();
    const totals = new Map<string, KeyUsage>();
    for (const row of this.#usage.values()) {
      if (row.windowStartMs !== sync.windowStartMs || row.processId === sync.processId) continue;
      const total = totals.get(row.keyId) ?? { keyId: row.keyId, turns: 0, streams: 0 };
      total.turns += row.turns;
      if (row.updatedAt > now - sync.streamsFreshMs) total.streams += row.streams;
      totals.set(row.keyId, total);
    }
    for (const usage of sync.usage) {
      const id = `${usage.keyId}|${sync.windowStartMs}|${sync.processId}`;
      this.#usage.set(id, {
        ...usage,
        windowStartMs: sync.windowStartMs,
        processId: sync.processId,
        updatedAt: now,
      });
    }
    return [...totals.values()];
  }

  async deleteUsageBefore(windowStartMs: number): Promise<number> {
    let deleted = 0;
    for (const [id, row] of this.#usage) {
      if (row.windowStartMs < windowStartMs) {
        this.#usage.delete(id);
        deleted += 1;
      }
    }
    return deleted;
  }
}
