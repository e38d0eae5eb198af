import { createDb, type Database } from '@stello-ai/db';
import type { Kysely } from 'kysely';
import type pg from 'pg';
import { SessionError } from './internal/domain-errors';
import type { SharedPool } from './internal/sql-context';
import { PgMainStorage } from './pg-main-storage';
import { PgMemoryEngine } from './pg-memory-engine';
import { assertStorageOptions, PgSessionStorage, type PgSessionStorageOptions } from './pg-session-storage';
import { PgSessionTree } from './pg-session-tree';
import { PgSpaceStore } from './spaces/pg-space-store';
import { PgUsageStore } from './usage/pg-usage-store';
import { PgRateLimitStore } from './users/pg-rate-limit-store';
import { PgUserStore } from './users/pg-user-store';

/** The PostgreSQL adapters of one space, as `PgStores.forSpace` binds them. */
export interface PgSpaceStores {
  /** Sessions, records and slots of the space. */
  sessions: PgSessionStorage;
  /** `sessions` plus integration inputs and space-wide data. */
  main: PgMainStorage;
  /** The space's session tree. */
  tree: PgSessionTree;
  /** The space's memory access. */
  memory: PgMemoryEngine;
}

/** Options of `PgStores`: those of every space's `PgSessionStorage` and `PgMainStorage`, and of the space lookup. */
export type PgStoresOptions = PgSessionStorageOptions;

/**
 * Every PostgreSQL store of Stello on one pool, made once and passed down: the spaces, the users
 * and their keys, and a factory binding the per-space adapters. It holds the one Kysely instance
 * of the pool, so nothing is kept in a hidden registry. It never ends the pool.
 *
 * @example
 * ```ts
 * const stores = new PgStores(pool, { preparedStatements: false });
 * const { sessions, main, tree, memory } = stores.forSpace(spaceId);
 * ```
 */
export class PgStores implements SharedPool {
  readonly pool: pg.Pool;
  /** @internal shared by the adapters this object builds */
  readonly kysely: Kysely<Database>;
  /** The options every space's adapters get (frozen). */
  readonly options: Readonly<PgStoresOptions>;
  /** The spaces. */
  readonly spaces: PgSpaceStore;
  /** The users and their API key hashes. */
  readonly users: PgUserStore;
  /** What each user holds (quotas). */
  readonly usage: PgUsageStore;
  /** Per-key rate limits and each process's use of them. */
  readonly rateLimits: PgRateLimitStore;

  /** @throws SessionError `INVALID_ARGUMENT` for a value that is not a pool, or a bad option */
  constructor(pool: pg.Pool, options: PgStoresOptions = {}) {
    if (typeof pool !== 'object' || pool === null || typeof pool.connect !== 'function') {
      throw new SessionError('INVALID_ARGUMENT', 'pool must be a pg.Pool', { details: { field: 'pool' } });
    }
    this.options = Object.freeze({ ...options });
    // Bad options fail here, once, not at the first request of every space.
    assertStorageOptions(this.options);
    this.pool = pool;
    this.kysely = createDb(pool);
    this.spaces = new PgSpaceStore(pool, this.kysely, this.options.preparedStatements ?? true);
    this.users = new PgUserStore(this.kysely);
    this.usage = new PgUsageStore(this.kysely);
    this.rateLimits = new PgRateLimitStore(this.kysely);
  }

  /**
   * The four adapters of one space, on this pool and with these options.
   * @throws SessionError `INVALID_ARGUMENT` when `spaceId` is not a uuid
   */
  forSpace(spaceId: string): PgSpaceStores {
    return {
      sessions: new PgSessionStorage(this, spaceId, this.options),
      main: new PgMainStorage(this, spaceId, this.options),
      tree: new PgSessionTree(this, spaceId),
      memory: new PgMemoryEngine(this, spaceId),
    };
  }
}
