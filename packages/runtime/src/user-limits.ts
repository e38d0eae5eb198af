import { RuntimeError } from './errors';

// Per-user bounds that keep one tenant from growing without end: quotas on what a user holds
// (spaces, sessions, stored bytes) and a cap on the turns a user runs at once in this process.

/** What one user holds, as storage counts it (`PgUsageStore.usageOf`). */
export interface UserUsageFigures {
  spaces: number;
  sessions: number;
  storedBytes: number;
}

/** Default quota of spaces per user. */
export const DEFAULT_SPACES_PER_USER = 10_000;
/** Default quota of sessions per user, over all their spaces. */
export const DEFAULT_SESSIONS_PER_USER = 100_000;
/** Default quota of stored record bytes per user: 10 GiB. */
export const DEFAULT_STORED_BYTES_PER_USER = 10 * 1024 ** 3;
/** Default number of turns one user may run at once in one process (REST, SSE and WS together). */
export const DEFAULT_RUNNING_TURNS_PER_USER = 64;
/** How long a user's usage figures are served from memory before they are re-read in the background. */
export const DEFAULT_USAGE_TTL_MS = 2_000;
const MAX_CACHED_USERS = 10_000;

/** Options of {@link UserLimits}; a limit of `Infinity` turns that bound off. */
export interface UserLimitsOptions {
  /** Reads a user's usage; without it the three quotas are not checked. */
  readUsage?: (userId: string) => Promise<UserUsageFigures>;
  spacesPerUser?: number;
  sessionsPerUser?: number;
  storedBytesPerUser?: number;
  runningTurnsPerUser?: number;
  /** Freshness of cached usage (default 2 s). */
  usageTtlMs?: number;
  /** Clock in ms; injectable for tests. */
  now?: () => number;
}

interface CachedUsage {
  usage: UserUsageFigures;
  readAt: number;
  refreshing: Promise<UserUsageFigures> | null;
}

type Quota = 'spacesPerUser' | 'sessionsPerUser' | 'storedBytesPerUser';

/**
 * Admits or refuses what a user asks for. Quotas are checked against usage read from storage and
 * cached per user: a fresh figure costs no query, a stale one is served while a background read
 * renews it, so the turn path only waits for the very first read of a user. Admitted creations
 * count at once in the cached figure, so a burst on this process cannot pass a quota; other
 * processes' creations show up at the next read (at most `usageTtlMs` later), which bounds the
 * overshoot to what a user creates elsewhere in that time.
 */
export class UserLimits {
  readonly #read: UserLimitsOptions['readUsage'];
  readonly #limits: Record<Quota | 'runningTurnsPerUser', number>;
  readonly #ttlMs: number;
  readonly #now: () => number;
  readonly #usage = new Map<string, CachedUsage>();
  readonly #running = new Map<string, number>();

  constructor(options: UserLimitsOptions = {}) {
    this.#read = options.readUsage;
    this.#limits = {
      spacesPerUser: positive(options.spacesPerUser, DEFAULT_SPACES_PER_USER, 'spacesPerUser'),
      sessionsPerUser: positive(options.sessionsPerUser, DEFAULT_SESSIONS_PER_USER, 'sessionsPerUser'),
      storedBytesPerUser: positive(
        options.storedBytesPerUser,
        DEFAULT_STORED_BYTES_PER_USER,
        'storedBytesPerUser',
      ),
      runningTurnsPerUser: positive(
        options.runningTurnsPerUser,
        DEFAULT_RUNNING_TURNS_PER_USER,
        'runningTurnsPerUser',
      ),
    };
    this.#ttlMs = options.usageTtlMs ?? DEFAULT_USAGE_TTL_MS;
    this.#now = options.now ?? Date.now;
  }

  /** The limits in force. */
  get limits(): Readonly<Record<Quota | 'runningTurnsPerUser', number>> {
    return this.#limits;
  }

  /**
   * Admits a turn of `userId`: refuses it with `QUOTA_EXCEEDED` when the user's stored bytes are
   * at their quota, and with `TOO_MANY_TURNS` (retry shortly) when the user already runs the most
   * turns allowed here. Call the returned function when the turn ends, however it ends.
   */
  async admitTurn(userId: string): Promise<() => void> {
    const usage = await this.#usageOf(userId);
    if (usage) this.#check('storedBytesPerUser', usage.storedBytes);
    const running = this.#running.get(userId) ?? 0;
    if (running >= this.#limits.runningTurnsPerUser) {
      throw new RuntimeError(
        'TOO_MANY_TURNS',
        `this user already runs ${running} turns at once, the most allowed; retry when one ended`,
        { details: { limit: this.#limits.runningTurnsPerUser, retryAfterMs: 1_000 } },
      );
    }
    this.#running.set(userId, running + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.#running.get(userId) ?? 1) - 1;
      if (left <= 0) this.#running.delete(userId);
      else this.#running.set(userId, left);
    };
  }

  /** Admits a new space (and its root session); counts it at once. @throws RuntimeError `QUOTA_EXCEEDED` */
  async admitSpace(userId: string): Promise<void> {
    const usage = await this.#usageOf(userId);
    if (!usage) return;
    this.#check('spacesPerUser', usage.spaces);
    this.#check('sessionsPerUser', usage.sessions);
    usage.spaces += 1;
    usage.sessions += 1;
  }

  /** Admits `count` new sessions (a fork, an import); counts them at once. @throws RuntimeError `QUOTA_EXCEEDED` */
  async admitSessions(userId: string, count = 1): Promise<void> {
    const usage = await this.#usageOf(userId);
    if (!usage) return;
    this.#check('sessionsPerUser', usage.sessions + count - 1);
    this.#check('storedBytesPerUser', usage.storedBytes);
    usage.sessions += count;
  }

  /** Turns of `userId` running now in this process. */
  runningTurns(userId: string): number {
    return this.#running.get(userId) ?? 0;
  }

  /** Drops the cached usage of `userId` (after a deletion, so its room shows at once). */
  forget(userId: string): void {
    this.#usage.delete(userId);
  }

  #check(quota: Quota, used: number): void {
    const limit = this.#limits[quota];
    if (used < limit) return;
    throw new RuntimeError('QUOTA_EXCEEDED', `the ${quota} quota of ${limit} is used up (${used})`, {
      details: { quota, limit, used },
    });
  }

  async #usageOf(userId: string): Promise<UserUsageFigures | null> {
    const read = this.#read;
    if (!read) return null;
    const cached = this.#usage.get(userId);
    const now = this.#now();
    if (cached) {
      if (now - cached.readAt >= this.#ttlMs && !cached.refreshing) {
        // Stale: serve it and renew it off the request's path.
        cached.refreshing = read(userId).then(
          (usage) => {
            this.#store(userId, usage);
            return usage;
          },
          () => {
            cached.refreshing = null;
            return cached.usage;
          },
        );
      }
      return cached.usage;
    }
    const usage = await read(userId);
    return this.#store(userId, usage).usage;
  }

  #store(userId: string, usage: UserUsageFigures): CachedUsage {
    const entry: CachedUsage = { usage: { ...usage }, readAt: this.#now(), refreshing: null };
    this.#usage.delete(userId);
    this.#usage.set(userId, entry);
    if (this.#usage.size > MAX_CACHED_USERS) {
      const oldest = this.#usage.keys().next().value;
      if (oldest !== undefined) this.#usage.delete(oldest);
    }
    return entry;
  }
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!(value > 0) || (Number.isFinite(value) && !Number.isInteger(value))) {
    throw new RuntimeError('INVALID_ARGUMENT', `${name} must be a positive integer or Infinity`, {
      details: { field: name },
    });
  }
  return value;
}
