// One file over the size rule on purpose: the space's one home (reads, cache, holds and change
// events) shares one map of cached spaces; splitting it would expose that map.
import { isStorageError, isUuid, type Space, type SpacePatch, type SpaceStore } from '@stello-ai/storage';
import { assertNonBlank, assertNullableText, assertText, toJsonObject } from './_validate';
import { RuntimeError, spaceNotFound } from './errors';

export type { Space } from '@stello-ai/storage';

import { type Logger, silentLogger } from './logger';

/** What `createSpace` takes. */
export interface SpaceConfig {
  /** Non-blank; also the root session's label. */
  label: string;
  /** Written to the root session's `system_prompt` slot as well. */
  systemPrompt?: string;
  /** The space's consolidation prompt (used when a session has no slot of its own). */
  consolidatePrompt?: string;
  /** The space's integration prompt (used when the root has no slot of its own). */
  integratePrompt?: string;
  /** Free-form JSON object (default `{}`). */
  config?: Record<string, unknown>;
}

/**
 * What `updateSpace` takes: only the fields present change. `null` clears a prompt; `config`
 * replaces the whole object.
 */
export type SpaceUpdate = Partial<Pick<SpaceConfig, 'label' | 'config'>> & {
  systemPrompt?: string | null;
  consolidatePrompt?: string | null;
  integratePrompt?: string | null;
};

/** Options of `SpaceManager.listSpaces`. */
export interface ListSpacesOptions {
  /** Page size, 1 to 1000 (default: every space). */
  limit?: number;
  /** Id of the last space of the previous page; the page starts after it. */
  after?: string;
}

/** Options of the `SpaceManager` constructor. */
export interface SpaceManagerOptions {
  /** Receives the errors thrown by change listeners (default: silent). */
  logger?: Logger;
  /** How long a space read for a request is reused, in ms (default 5 s; 0 reads every time). */
  cacheTtlMs?: number;
}

/**
 * Where a change was made: through this manager (`local`), or by another process and re-read
 * here (`remote`, see `SpaceManager.reload`).
 */
export type SpaceChangeOrigin = 'local' | 'remote';

/**
 * Called after a space is created or updated (`space` is its new state) or deleted (`space` is
 * `null`).
 */
export type SpaceChangeListener = (spaceId: string, space: Space | null, origin: SpaceChangeOrigin) => void;

/** A space kept current for as long as its holder needs it (see `SpaceManager.hold`). */
export interface HeldSpace {
  /** The latest state this process knows: updated at once by every change made through the manager. */
  readonly space: Space;
  /** Ends the hold; the space then ages out of the cache like any other. */
  release(): void;
}

const MAX_PAGE_SIZE = 1000;
const DEFAULT_CACHE_TTL_MS = 5_000;
/** Most spaces cached without a holder; the oldest go first. */
const CACHE_MAX_ENTRIES = 1_000;

interface CacheEntry {
  space: Space;
  expiresAt: number;
  holds: number;
}

function frozenCopy(space: Space): Space {
  return Object.freeze({ ...space, config: Object.freeze({ ...space.config }) });
}

/**
 * The one home of spaces in a process: validates and writes them through a `SpaceStore`, caches
 * what it reads, and tells listeners about every change. The agent pool and the transport's
 * access check read spaces here, so a change is seen by all of them at once.
 *
 * - **Cache.** `getSpace` reuses a space read less than `cacheTtlMs` ago; every write through
 *   this manager replaces the cached copy at once. Spaces are returned frozen.
 * - **Holds.** `hold` keeps a space cached and current, with no expiry, while an agent uses it.
 * - **Changes.** `onChange` listeners are process-local: another server process sharing the
 *   database does not notify them (its cached copies expire after `cacheTtlMs`).
 *
 * @example
 * ```ts
 * const spaces = new SpaceManager(new PgStores(pool).spaces);
 * const space = await spaces.createSpace(userId, { label: 'Research', systemPrompt: 'Be concise.' });
 * ```
 */
export class SpaceManager {
  readonly #store: SpaceStore;
  readonly #logger: Logger;
  readonly #cacheTtlMs: number;
  readonly #cache = new Map<string, CacheEntry>();
  readonly #listeners = new Set<SpaceChangeListener>();
  // Bumped by every change, so a read that raced with one is not cached.
  #changeSeq = 0;

  /** @throws RuntimeError `INVALID_ARGUMENT` without a store or with a bad `cacheTtlMs` */
  constructor(store: SpaceStore, options: SpaceManagerOptions = {}) {
    if (typeof store !== 'object' || store === null || typeof store.get !== 'function') {
      throw new RuntimeError(
        'INVALID_ARGUMENT',
        'SpaceManager needs a SpaceStore (e.g. new PgStores(pool).spaces)',
        {
          details: { field: 'store' },
        },
      );
    }
    const cacheTtlMs = options.cacheTtlMs ?? DEFAULT_CACHE_TTL_MS;
    if (typeof cacheTtlMs !== 'number' || !Number.isFinite(cacheTtlMs) || cacheTtlMs < 0) {
      throw new RuntimeError('INVALID_ARGUMENT', 'cacheTtlMs must be a finite number >= 0', {
        details: { field: 'cacheTtlMs' },
      });
    }
    this.#store = store;
    this.#logger = options.logger ?? silentLogger;
    this.#cacheTtlMs = cacheTtlMs;
  }

  /**
   * Creates a space, its root session (role `main`, depth 0, index 0, labelled like the space)
   * and, when `systemPrompt` is given, the root's `system_prompt` slot, in one write.
   * @throws RuntimeError `INVALID_ARGUMENT` (blank label, bad field) or `USER_NOT_FOUND`
   */
  async createSpace(userId: string, config: SpaceConfig): Promise<Space> {
    if (typeof config !== 'object' || config === null) {
      throw new RuntimeError('INVALID_ARGUMENT', 'space config must be an object');
    }
    assertNonBlank('label', config.label);
    const systemPrompt = optionalText('systemPrompt', config.systemPrompt);
    const consolidatePrompt = optionalText('consolidatePrompt', config.consolidatePrompt);
    const integratePrompt = optionalText('integratePrompt', config.integratePrompt);
    const spaceConfig = config.config === undefined ? {} : toJsonObject('config', config.config);
    if (!isUuid(userId)) throw userNotFound(userId);

    let created: Space;
    try {
      created = await this.#store.create({
        userId,
        label: config.label,
        systemPrompt,
        consolidatePrompt,
        integratePrompt,
        config: spaceConfig,
      });
    } catch (error) {
      if (isStorageError(error, 'INVALID_REFERENCE')) throw userNotFound(userId, error);
      throw error;
    }
    this.#changed(created.id, created, 'local');
    return created;
  }

  /**
   * Returns the space (frozen), or `null` when it does not exist (a malformed id is `null`, with
   * no query). A space held, or read less than `cacheTtlMs` ago, costs no query.
   */
  async getSpace(spaceId: string): Promise<Space | null> {
    if (!isUuid(spaceId)) return null;
    const cached = this.#cache.get(spaceId);
    if (cached) {
      if (cached.holds > 0 || cached.expiresAt > Date.now()) return cached.space;
      this.#cache.delete(spaceId);
    }
    const seq = this.#changeSeq;
    const loaded = await this.#store.get(spaceId);
    if (!loaded) return null;
    const space = frozenCopy(loaded);
    if (seq === this.#changeSeq) this.#remember(space);
    return space;
  }

  /**
   * Keeps `space` (or the newer copy this manager already has) cached and current until
   * `release`. Each hold is released once.
   */
  hold(space: Space): HeldSpace {
    let entry = this.#cache.get(space.id);
    if (!entry) {
      entry = { space: frozenCopy(space), expiresAt: 0, holds: 0 };
      this.#cache.set(space.id, entry);
    }
    entry.holds += 1;
    const held = entry;
    let released = false;
    return {
      get space() {
        return held.space;
      },
      release: () => {
        if (released) return;
        released = true;
        held.holds -= 1;
        if (held.holds === 0) held.expiresAt = Date.now() + this.#cacheTtlMs;
      },
    };
  }

  /** Forgets the cached copy of a space that no one holds (the next `getSpace` reads it again). */
  forget(spaceId: string): void {
    const entry = this.#cache.get(spaceId);
    if (entry && entry.holds === 0) this.#cache.delete(spaceId);
  }

  /**
   * Updates the given fields in one write. `systemPrompt` is mirrored to the root session's
   * `system_prompt` slot (upserted, or deleted on `null`) and `label` to the root's label, so the
   * space and its root never disagree. Validation happens before any write: invalid input
   * changes nothing. An update with no field returns the space unchanged.
   * @throws RuntimeError `SPACE_NOT_FOUND` or `INVALID_ARGUMENT`
   */
  async updateSpace(spaceId: string, updates: SpaceUpdate): Promise<Space> {
    if (typeof updates !== 'object' || updates === null) {
      throw new RuntimeError('INVALID_ARGUMENT', 'space update must be an object');
    }
    const patch: SpacePatch = {};
    if (updates.label !== undefined) {
      assertNonBlank('label', updates.label);
      patch.label = updates.label;
    }
    if (updates.systemPrompt !== undefined) {
      assertNullableText('systemPrompt', updates.systemPrompt);
      patch.systemPrompt = updates.systemPrompt;
    }
    if (updates.consolidatePrompt !== undefined) {
      assertNullableText('consolidatePrompt', updates.consolidatePrompt);
      patch.consolidatePrompt = updates.consolidatePrompt;
    }
    if (updates.integratePrompt !== undefined) {
      assertNullableText('integratePrompt', updates.integratePrompt);
      patch.integratePrompt = updates.integratePrompt;
    }
    if (updates.config !== undefined) patch.config = toJsonObject('config', updates.config);
    if (!isUuid(spaceId)) throw spaceNotFound(spaceId);

    if (Object.keys(patch).length === 0) {
      const current = await this.#store.get(spaceId);
      if (!current) throw spaceNotFound(spaceId);
      return current;
    }
    const updated = await this.#store.update(spaceId, patch);
    if (!updated) throw spaceNotFound(spaceId);
    this.#changed(spaceId, updated, 'local');
    return updated;
  }

  /**
   * Lists a user's spaces, oldest first (ties broken by id). With `limit`, returns one page;
   * pass the last id of a page as `after` to get the next one. A malformed user id lists nothing.
   * @throws RuntimeError `INVALID_ARGUMENT` for a bad `limit` or a malformed `after`
   */
  async listSpaces(userId: string, options: ListSpacesOptions = {}): Promise<Space[]> {
    const { limit, after } = options;
    if (limit !== undefined && (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE)) {
      throw new RuntimeError('INVALID_ARGUMENT', `limit must be an integer from 1 to ${MAX_PAGE_SIZE}`, {
        details: { field: 'limit' },
      });
    }
    if (after !== undefined && !isUuid(after)) {
      throw new RuntimeError('INVALID_ARGUMENT', 'after must be a space id', { details: { field: 'after' } });
    }
    if (!isUuid(userId)) return [];
    const page: { limit?: number; after?: string } = {};
    if (limit !== undefined) page.limit = limit;
    if (after !== undefined) page.after = after;
    return this.#store.list(userId, page);
  }

  /**
   * Deletes the space; the database cascades to its sessions, records and slots.
   * @throws RuntimeError `SPACE_NOT_FOUND`
   */
  async deleteSpace(spaceId: string): Promise<void> {
    if (!isUuid(spaceId)) throw spaceNotFound(spaceId);
    if (!(await this.#store.delete(spaceId))) throw spaceNotFound(spaceId);
    this.#changed(spaceId, null, 'local');
  }

  /**
   * Re-reads a space another process changed or deleted: the cache, holders and listeners see
   * the stored state at once (origin `remote`). A space this process does not cache costs no
   * query (nothing here holds it; a read already under way is not cached).
   */
  async reload(spaceId: string): Promise<void> {
    if (!isUuid(spaceId)) return;
    if (!this.#cache.has(spaceId)) {
      this.#changeSeq += 1;
      return;
    }
    const seq = this.#changeSeq;
    const loaded = await this.#store.get(spaceId);
    // A local write since the read already put a newer state in place.
    if (seq !== this.#changeSeq && loaded !== null) return;
    this.#changed(spaceId, loaded, 'remote');
  }

  /** Re-reads every cached space (after events between processes may have been missed). */
  async reloadAll(): Promise<void> {
    await Promise.all([...this.#cache.keys()].map((spaceId) => this.reload(spaceId)));
  }

  /**
   * Subscribes to changes of any space made through this manager. Returns the unsubscribe
   * function. A listener that throws is logged and skipped.
   */
  onChange(listener: SpaceChangeListener): () => void {
    // Wrapped so that subscribing the same function twice gives two independent subscriptions.
    const entry: SpaceChangeListener = (spaceId, space, origin) => listener(spaceId, space, origin);
    this.#listeners.add(entry);
    return () => {
      this.#listeners.delete(entry);
    };
  }

  /** Updates the cache (holders see the change at once), then tells the listeners. */
  #changed(spaceId: string, changed: Space | null, origin: SpaceChangeOrigin): void {
    this.#changeSeq += 1;
    const space = changed === null ? null : frozenCopy(changed);
    const entry = this.#cache.get(spaceId);
    if (space === null) {
      this.#cache.delete(spaceId);
    } else if (entry) {
      // Only spaces already cached are refreshed: a write does not warm the cache.
      entry.space = space;
      if (entry.holds === 0) entry.expiresAt = Date.now() + this.#cacheTtlMs;
    }
    this.#notify(spaceId, space, origin);
  }

  #notify(spaceId: string, space: Space | null, origin: SpaceChangeOrigin): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener(spaceId, space, origin);
      } catch (error) {
        this.#logger.error('space.listener_failed', { spaceId, error });
      }
    }
  }

  #remember(space: Space): void {
    if (this.#cacheTtlMs === 0) return;
    const held = this.#cache.get(space.id);
    if (held && held.holds > 0) {
      held.space = space;
      return;
    }
    this.#cache.delete(space.id);
    this.#cache.set(space.id, { space, expiresAt: Date.now() + this.#cacheTtlMs, holds: 0 });
    if (this.#cache.size <= CACHE_MAX_ENTRIES) return;
    // Oldest first; held spaces stay (their agents read them).
    for (const [id, entry] of this.#cache) {
      if (this.#cache.size <= CACHE_MAX_ENTRIES) break;
      if (entry.holds === 0) this.#cache.delete(id);
    }
  }
}

function optionalText(field: string, value: unknown): string | null {
  if (value === undefined || value === null) return null;
  assertText(field, value);
  return value;
}

function userNotFound(userId: string, cause?: unknown): RuntimeError {
  return new RuntimeError('USER_NOT_FOUND', `user "${userId}" not found`, { cause, details: { userId } });
}
