import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { isStorageError, isUuid, type StoredKey, type User, type UserKeyStore } from '@stello-ai/storage';
import { assertNonBlank } from './_validate';
import { RuntimeError } from './errors';

export type { User } from '@stello-ai/storage';

/** Options of the `UserStore` constructor. */
export interface UserStoreOptions {
  /**
   * How long a key that matched nothing is remembered as unknown (default 5 s; 0 disables): a
   * flood of bad keys then costs one query per key per period. A key created in another process
   * may be refused for that long after a failed attempt with it; one created here is not.
   */
  negativeCacheTtlMs?: number;
  /** How long a successful `authenticate` is remembered (default 30 s; 0 disables the cache). */
  cacheTtlMs?: number;
  /** Most keys remembered at once; the oldest are dropped first (default 10 000). */
  cacheMaxEntries?: number;
}

/** Options of `UserStore.createUser`. */
export interface CreateUserOptions {
  /**
   * Use this key instead of generating one (e.g. `STELLO_API_KEY`): 8 to 512 characters, no
   * whitespace. Prefer generated keys: only they carry 256 bits of entropy.
   */
  apiKey?: string;
}

/** Prefix of every generated key, so leaked keys are easy to recognise (and to scan for). */
export const API_KEY_PREFIX = 'stello_';

const DEFAULT_CACHE_TTL_MS = 30_000;
const DEFAULT_CACHE_MAX_ENTRIES = 10_000;
const KEY_BYTES = 32;
/** Characters of a key's secret part kept for display: enough to tell keys apart, too few to help guess one. */
const DISPLAY_SECRET_CHARS = 4;
const MIN_KEY_LENGTH = 8;
/** A supplied key (seeded, not generated) must be this long: 32 random hex digits carry 128 bits. */
export const MIN_SUPPLIED_KEY_LENGTH = 32;
/** …and use this many different characters, so `aaaa…` is not taken for a strong key. */
const MIN_SUPPLIED_KEY_DISTINCT_CHARS = 8;
const MAX_KEY_LENGTH = 512;
const DEFAULT_NEGATIVE_CACHE_TTL_MS = 5_000;

interface CacheEntry {
  userId: string;
  expiresAt: number;
}

/** Generates a new API key: `stello_` + 32 random bytes in base64url (50 characters). */
function generateKey(): string {
  return API_KEY_PREFIX + randomBytes(KEY_BYTES).toString('base64url');
}

/**
 * SHA-256 in hex. A fast hash is the right tool here: generated keys have 256 bits of entropy,
 * so there is nothing to brute-force, and authentication stays one cheap indexed lookup.
 */
function hashKey(apiKey: string): string {
  return createHash('sha256').update(apiKey, 'utf8').digest('hex');
}

/**
 * The part of a key kept for display: the `stello_` tag and 4 characters of the secret (24 bits
 * of a 256-bit key), or the first 4 characters of a supplied key.
 */
function displayPrefix(apiKey: string): string {
  const tag = apiKey.startsWith(API_KEY_PREFIX) ? API_KEY_PREFIX : '';
  return apiKey.slice(0, tag.length + DISPLAY_SECRET_CHARS);
}

/** True when a supplied key is long and varied enough to stand for 128 random bits. */
function isStrongSuppliedKey(apiKey: string): boolean {
  return apiKey.length >= MIN_SUPPLIED_KEY_LENGTH && new Set(apiKey).size >= MIN_SUPPLIED_KEY_DISTINCT_CHARS;
}

function isWellFormedKey(apiKey: unknown): apiKey is string {
  return (
    typeof apiKey === 'string' &&
    apiKey.length >= MIN_KEY_LENGTH &&
    apiKey.length <= MAX_KEY_LENGTH &&
    !/\s/.test(apiKey)
  );
}

/** What the store keeps of a key: its hash and display prefix, never the key. */
function storedKey(apiKey: string): StoredKey {
  return { hash: hashKey(apiKey), prefix: displayPrefix(apiKey) };
}

function userNotFound(userId: string): RuntimeError {
  return new RuntimeError('USER_NOT_FOUND', `user "${userId}" not found`, { details: { userId } });
}

/**
 * Users and their API keys. A user has at most one active key. Keys are shown once, when created,
 * and stored only as a SHA-256 hash plus a short display prefix: the database never holds a key
 * in clear, and neither does this object (its cache is keyed by hash).
 *
 * `authenticate` remembers successful lookups for `cacheTtlMs`, so a warm request costs no query.
 * Revoking or rotating a key clears this process's cache at once; other processes sharing the
 * database keep accepting the old key until their cache entry expires (at most `cacheTtlMs`).
 *
 * @example
 * ```ts
 * const users = new UserStore(new PgStores(pool).users);
 * const { user, apiKey } = await users.createUser('alice'); // show apiKey once
 * const auth = await users.authenticate(apiKey); // { userId: user.id }
 * ```
 */
export class UserStore {
  readonly #store: UserKeyStore;
  readonly #cacheTtlMs: number;
  readonly #cacheMaxEntries: number;
  // Keyed by key hash (never by the key), insertion-ordered for oldest-first eviction.
  readonly #cache = new Map<string, CacheEntry>();
  readonly #lookups = new Map<string, Promise<string | null>>();
  // Bumped by every revoke and rotation: a lookup that started before one is not cached.
  #generation = 0;
  readonly #keyListeners = new Set<(userId: string) => void>();
  // Hashes of keys that matched nothing, briefly: a flood of bad keys costs no query each.
  readonly #misses = new Map<string, number>();
  readonly #negativeCacheTtlMs: number;

  /** @throws RuntimeError `INVALID_ARGUMENT` without a store or with a bad option */
  constructor(store: UserKeyStore, options: UserStoreOptions = {}) {
    if (typeof store !== 'object' || store === null || typeof store.findByKeyHash !== 'function') {
      throw new RuntimeError(
        'INVALID_ARGUMENT',
        'UserStore needs a UserKeyStore (e.g. new PgStores(pool).users)',
        {
          details: { field: 'store' },
        },
      );
    }
    const { cacheTtlMs = DEFAULT_CACHE_TTL_MS, cacheMaxEntries = DEFAULT_CACHE_MAX_ENTRIES } = options;
    if (!Number.isFinite(cacheTtlMs) || cacheTtlMs < 0) {
      throw new RuntimeError('INVALID_ARGUMENT', 'cacheTtlMs must be a finite number >= 0');
    }
    if (!Number.isInteger(cacheMaxEntries) || cacheMaxEntries < 1) {
      throw new RuntimeError('INVALID_ARGUMENT', 'cacheMaxEntries must be a positive integer');
    }
    const negativeCacheTtlMs = options.negativeCacheTtlMs ?? DEFAULT_NEGATIVE_CACHE_TTL_MS;
    if (!Number.isFinite(negativeCacheTtlMs) || negativeCacheTtlMs < 0) {
      throw new RuntimeError('INVALID_ARGUMENT', 'negativeCacheTtlMs must be a finite number >= 0');
    }
    this.#negativeCacheTtlMs = negativeCacheTtlMs;
    this.#store = store;
    this.#cacheTtlMs = cacheTtlMs;
    this.#cacheMaxEntries = cacheMaxEntries;
  }

  /**
   * Creates a user with a new API key and returns the key (the only time it is available).
   * @throws RuntimeError `INVALID_ARGUMENT` for a blank name, a malformed `apiKey`, or an
   * `apiKey` that another user already has
   */
  async createUser(name: string, options: CreateUserOptions = {}): Promise<{ user: User; apiKey: string }> {
    assertNonBlank('name', name);
    if (
      options.apiKey !== undefined &&
      (!isWellFormedKey(options.apiKey) || !isStrongSuppliedKey(options.apiKey))
    ) {
      throw new RuntimeError(
        'INVALID_ARGUMENT',
        `apiKey must carry at least 128 bits: ${MIN_SUPPLIED_KEY_LENGTH} to ${MAX_KEY_LENGTH} varied characters without whitespace (e.g. openssl rand -hex 24)`,
        { details: { field: 'apiKey' } },
      );
    }
    const apiKey = options.apiKey ?? generateKey();
    try {
      const user = await this.#store.createUser(name, storedKey(apiKey));
      this.#misses.clear();
      return { user, apiKey };
    } catch (error) {
      if (isStorageError(error, 'CONFLICT')) {
        // Only reachable with a seeded key: a generated one never collides.
        throw new RuntimeError('INVALID_ARGUMENT', 'apiKey is already assigned to a user', {
          cause: error,
          details: { field: 'apiKey' },
        });
      }
      throw error;
    }
  }

  /**
   * Resolves an API key to its user, or `null` when the key is unknown, revoked or malformed.
   * One indexed lookup by hash, compared in constant time; successful results are cached.
   */
  async authenticate(apiKey: string): Promise<{ userId: string } | null> {
    if (!isWellFormedKey(apiKey)) return null;
    const hash = hashKey(apiKey);
    const cached = this.#cache.get(hash);
    if (cached) {
      if (cached.expiresAt > Date.now()) return { userId: cached.userId };
      this.#cache.delete(hash);
    }
    const missedUntil = this.#misses.get(hash);
    if (missedUntil !== undefined) {
      if (missedUntil > Date.now()) return null;
      this.#misses.delete(hash);
    }
    // Concurrent first requests with one key share a single query.
    let lookup = this.#lookups.get(hash);
    if (!lookup) {
      const started: Promise<string | null> = this.#lookup(hash).finally(() => {
        if (this.#lookups.get(hash) === started) this.#lookups.delete(hash);
      });
      this.#lookups.set(hash, started);
      lookup = started;
    }
    const userId = await lookup;
    return userId === null ? null : { userId };
  }

  /**
   * Issues a new key for the user, replacing (and so invalidating) the previous one.
   * @throws RuntimeError `USER_NOT_FOUND`
   */
  async issueKey(userId: string): Promise<string> {
    if (!isUuid(userId)) throw userNotFound(userId);
    const apiKey = generateKey();
    if (!(await this.#store.replaceKey(userId, storedKey(apiKey)))) throw userNotFound(userId);
    this.#forget(userId);
    return apiKey;
  }

  /**
   * Revokes the active key of a user, given the user id or the key's display prefix. Returns
   * `false` when there is no such user or no active key.
   * @throws RuntimeError `INVALID_ARGUMENT` when a prefix matches the keys of several users
   */
  async revokeKey(userIdOrPrefix: string): Promise<boolean> {
    const userId = await this.resolveKeyOwner(userIdOrPrefix);
    if (userId === null) return false;
    const revoked = await this.#store.revokeKey(userId);
    this.#forget(userId);
    return revoked;
  }

  /**
   * The user named by a user id (returned as is, existing or not) or by the display prefix of an
   * active key; `null` when no active key has the prefix.
   * @throws RuntimeError `INVALID_ARGUMENT` when the prefix matches the keys of several users
   */
  async resolveKeyOwner(userIdOrPrefix: string): Promise<string | null> {
    if (typeof userIdOrPrefix !== 'string' || userIdOrPrefix.length === 0) return null;
    if (isUuid(userIdOrPrefix)) return userIdOrPrefix;
    const matches = await this.#store.findByKeyPrefix(userIdOrPrefix, 2);
    if (matches.length > 1) {
      throw new RuntimeError('INVALID_ARGUMENT', 'key prefix matches several users; name the user by id', {
        details: { field: 'prefix' },
      });
    }
    return matches[0] ?? null;
  }

  /** Drops every cached key check, positive and negative (events between processes may have been missed). */
  forgetAll(): void {
    this.#generation += 1;
    this.#lookups.clear();
    this.#cache.clear();
    this.#misses.clear();
  }

  /** Lists every user, oldest first, with key prefixes but never keys or hashes. */
  async listUsers(): Promise<User[]> {
    return this.#store.listUsers();
  }

  async #lookup(hash: string): Promise<string | null> {
    const generation = this.#generation;
    const row = await this.#store.findByKeyHash(hash);
    if (!row) {
      if (generation === this.#generation) this.#rememberMiss(hash);
      return null;
    }
    // The index lookup already matched; the constant-time comparison is defence in depth.
    const expected = Buffer.from(hash, 'hex');
    const actual = Buffer.from(row.keyHash, 'hex');
    if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) return null;
    if (generation === this.#generation) this.#remember(hash, row.userId);
    return row.userId;
  }

  #rememberMiss(hash: string): void {
    if (this.#negativeCacheTtlMs === 0) return;
    this.#misses.set(hash, Date.now() + this.#negativeCacheTtlMs);
    while (this.#misses.size > this.#cacheMaxEntries) {
      const oldest = this.#misses.keys().next().value;
      if (oldest === undefined) break;
      this.#misses.delete(oldest);
    }
  }

  #remember(hash: string, userId: string): void {
    if (this.#cacheTtlMs === 0) return;
    this.#cache.delete(hash);
    this.#cache.set(hash, { userId, expiresAt: Date.now() + this.#cacheTtlMs });
    while (this.#cache.size > this.#cacheMaxEntries) {
      const oldest = this.#cache.keys().next().value;
      if (oldest === undefined) break;
      this.#cache.delete(oldest);
    }
  }

  /**
   * Calls `listener` with the user id whenever a user's key is revoked or replaced here (or, through
   * {@link forgetUser}, elsewhere), so open connections authenticated with the old key can be closed.
   */
  onKeysChanged(listener: (userId: string) => void): () => void {
    this.#keyListeners.add(listener);
    return () => this.#keyListeners.delete(listener);
  }

  /** Drops what this process remembers of a user's key (its key changed in another process). */
  forgetUser(userId: string): void {
    this.#forget(userId);
  }

  #forget(userId: string): void {
    for (const listener of [...this.#keyListeners]) {
      try {
        listener(userId);
      } catch {
        // A failing listener must not keep a revocation from taking effect here.
      }
    }
    this.#generation += 1;
    this.#misses.clear();
    // Lookups already under way may predate the change; later callers must not join them.
    this.#lookups.clear();
    for (const [hash, entry] of this.#cache) {
      if (entry.userId === userId) this.#cache.delete(hash);
    }
  }
}
