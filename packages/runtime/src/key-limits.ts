import { randomUUID } from 'node:crypto';
import type { KeyUsage, RateLimitStore, KeyLimits as StoredKeyLimits } from '@stello-ai/storage';
import { RuntimeError } from './errors';
import { KeyRateLimiter, RATE_WINDOW_MS, type RateDecision } from './key-rate-limiter';
import { KeyStreamLimiter, type StreamDecision } from './key-stream-limiter';
import { type Logger, silentLogger } from './logger';

/** How often a process writes its use and reads the others' by default. */
export const DEFAULT_RATE_SYNC_INTERVAL_MS = 1_000;
// Another process's open streams count while its row is this many sync intervals old at most
// (a process that died stops holding its streams soon after).
const STREAMS_FRESH_INTERVALS = 5;
// With no limit in force anywhere, a sync only looks for new per-key limits, this often.
const IDLE_REFRESH_MS = 5_000;
// Usage rows older than this many windows are deleted (one process does it at a time; harmless twice).
const KEEP_WINDOWS = 2;

/** Options of {@link KeyLimits}. */
export interface KeyLimitsOptions {
  /** Turns per minute of a key without a limit of its own (default 0: none). */
  turnsPerMinute?: number;
  /** Streams a key without a limit of its own may run at once (default 0: none). */
  concurrentStreams?: number;
  /**
   * Where the keys' own limits are read and the processes' use is shared (`PgStores.rateLimits`).
   * Without it the limits hold in this process only, with the defaults above.
   */
  store?: RateLimitStore;
  /** How often the background sync runs, in ms (default 1 s). */
  syncIntervalMs?: number;
  /** This process's id in the shared usage (default: a random UUID). */
  processId?: string;
  /** Where a failed sync is reported (default: silent). */
  logger?: Logger;
  /** Clock in ms; injectable for tests. */
  now?: () => number;
}

function limitOption(name: string, value: number | undefined): number {
  if (value === undefined) return 0;
  if (!Number.isInteger(value) || value < 0) {
    throw new RuntimeError('INVALID_ARGUMENT', `${name} must be an integer >= 0, got ${String(value)}`, {
      details: { field: name },
    });
  }
  return value;
}

/**
 * Per-key rate limits: turns per minute and streams at once, each key with its own limits or the
 * server's defaults. Every decision is made in memory, so a turn costs no extra round trip; a
 * background sync (every `syncIntervalMs`) writes this process's use to the store, reads the other
 * processes' use of the same window into the budget, and refreshes the keys' own limits.
 *
 * How exact it is: a process sees the others' use at most one sync late, so together N processes
 * can admit a key's limit plus what the other N - 1 admitted in the last interval (at a steady
 * rate, about limit × (N - 1) × interval / 60 s extra per minute). A key's new limit set with the
 * CLI applies within one interval (within 5 s while no limit at all is in force: the sync then only
 * looks for new per-key limits, so an unlimited server costs one small read every 5 s). Windows
 * are wall-clock minutes, so every process agrees on them.
 */
export class KeyLimits {
  readonly #turns: KeyRateLimiter;
  readonly #streams = new KeyStreamLimiter();
  readonly #defaultTurns: number;
  readonly #defaultStreams: number;
  readonly #store: RateLimitStore | undefined;
  readonly #syncIntervalMs: number;
  readonly #processId: string;
  readonly #logger: Logger;
  readonly #now: () => number;
  #own = new Map<string, StoredKeyLimits>();
  #timer: NodeJS.Timeout | null = null;
  #syncing: Promise<void> | null = null;
  #failing = false;
  #sweptWindow = 0;
  #limitsReadAt = Number.NEGATIVE_INFINITY;
  // What the last sync wrote per key, so an idle key is not written again.
  #written = new Map<string, string>();
  #writtenWindow = 0;

  /** @throws RuntimeError `INVALID_ARGUMENT` for a negative or fractional limit or interval */
  constructor(options: KeyLimitsOptions = {}) {
    this.#defaultTurns = limitOption('turnsPerMinute', options.turnsPerMinute);
    this.#defaultStreams = limitOption('concurrentStreams', options.concurrentStreams);
    this.#syncIntervalMs = options.syncIntervalMs ?? DEFAULT_RATE_SYNC_INTERVAL_MS;
    if (!Number.isInteger(this.#syncIntervalMs) || this.#syncIntervalMs < 1) {
      throw new RuntimeError('INVALID_ARGUMENT', 'syncIntervalMs must be a positive integer', {
        details: { field: 'syncIntervalMs' },
      });
    }
    this.#store = options.store;
    this.#processId = options.processId ?? randomUUID();
    this.#logger = options.logger ?? silentLogger;
    this.#now = options.now ?? Date.now;
    this.#turns = new KeyRateLimiter({ now: this.#now });
  }

  /** Takes one turn of the key's per-minute budget, or says how long until the next window. */
  takeTurn(keyId: string): RateDecision {
    return this.#turns.tryTake(keyId, this.turnsPerMinuteOf(keyId));
  }

  /** Opens one stream of the key (release it when the streamed turn ends), or refuses it. */
  openStream(keyId: string): StreamDecision {
    return this.#streams.tryOpen(keyId, this.concurrentStreamsOf(keyId));
  }

  /** The key's turns per minute as this process knows it (0: no limit). */
  turnsPerMinuteOf(keyId: string): number {
    return this.#own.get(keyId)?.turnsPerMinute ?? this.#defaultTurns;
  }

  /** The key's streams at once as this process knows it (0: no limit). */
  concurrentStreamsOf(keyId: string): number {
    return this.#own.get(keyId)?.concurrentStreams ?? this.#defaultStreams;
  }

  /** Starts the background sync (a first one at once); no-op without a store or when started. */
  start(): void {
    if (!this.#store || this.#timer) return;
    void this.sync();
    this.#timer = setInterval(() => void this.sync(), this.#syncIntervalMs);
    this.#timer.unref();
  }

  /** Stops the background sync and waits for one under way. */
  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await this.#syncing;
  }

  /**
   * One sync: writes this process's use of the current window, reads the others' into the
   * budgets, refreshes the keys' own limits and, once per window, deletes old usage. Never throws
   * (a failure is logged once, and the next sync tries again). Concurrent calls share one run.
   */
  sync(): Promise<void> {
    this.#syncing ??= this.#syncOnce().finally(() => {
      this.#syncing = null;
    });
    return this.#syncing;
  }

  async #syncOnce(): Promise<void> {
    const store = this.#store;
    if (!store) return;
    // Nothing limited: no usage to share, only the keys' own limits to look for (less often).
    const idle = this.#defaultTurns === 0 && this.#defaultStreams === 0 && this.#own.size === 0;
    if (idle && this.#now() - this.#limitsReadAt < IDLE_REFRESH_MS) return;
    try {
      if (idle) {
        await this.#readOwnLimits(store);
        if (this.#own.size === 0) {
          this.#recovered();
          return;
        }
      }
      const windowStart = Math.floor(this.#now() / RATE_WINDOW_MS) * RATE_WINDOW_MS;
      const usage = this.#usageToWrite(windowStart);
      const others = await store.syncUsage({
        processId: this.#processId,
        windowStartMs: windowStart,
        usage,
        streamsFreshMs: this.#syncIntervalMs * STREAMS_FRESH_INTERVALS,
      });
      for (const written of usage) this.#written.set(written.keyId, `${written.turns}:${written.streams}`);
      const remoteStreams = new Map<string, number>();
      for (const other of others) {
        this.#turns.recordRemoteUsage(other.keyId, windowStart, other.turns);
        remoteStreams.set(other.keyId, other.streams);
      }
      this.#streams.replaceRemoteStreams(remoteStreams);
      if (!idle) await this.#readOwnLimits(store);
      if (this.#sweptWindow !== windowStart) {
        this.#sweptWindow = windowStart;
        await store.deleteUsageBefore(windowStart - KEEP_WINDOWS * RATE_WINDOW_MS);
      }
      this.#recovered();
    } catch (error) {
      // Until the store answers again, each process enforces the limits on its own use.
      if (!this.#failing) this.#logger.warn('rate.sync_failed', { error });
      this.#failing = true;
    }
  }

  async #readOwnLimits(store: RateLimitStore): Promise<void> {
    this.#own = new Map((await store.listKeyLimits()).map((limits) => [limits.keyId, limits]));
    this.#limitsReadAt = this.#now();
  }

  #recovered(): void {
    if (this.#failing) this.#logger.info('rate.sync_recovered', {});
    this.#failing = false;
  }

  /** This process's use that changed since the last write, and every key with streams open (kept fresh). */
  #usageToWrite(windowStart: number): KeyUsage[] {
    if (this.#writtenWindow !== windowStart) {
      this.#writtenWindow = windowStart;
      this.#written.clear();
    }
    const byKey = new Map<string, KeyUsage>();
    for (const { key, count } of this.#turns.localUsages())
      byKey.set(key, { keyId: key, turns: count, streams: 0 });
    for (const { key, count } of this.#streams.localStreams()) {
      const entry = byKey.get(key) ?? { keyId: key, turns: 0, streams: 0 };
      entry.streams = count;
      byKey.set(key, entry);
    }
    // A key whose streams all ended is written once more with 0, so the others stop counting them.
    for (const [key, last] of this.#written) {
      if (!byKey.has(key) && !last.endsWith(':0')) byKey.set(key, { keyId: key, turns: 0, streams: 0 });
    }
    return [...byKey.values()].filter(
      (usage) => usage.streams > 0 || this.#written.get(usage.keyId) !== `${usage.turns}:${usage.streams}`,
    );
  }
}
