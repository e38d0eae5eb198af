import { createDb, type Database, isUuid } from '@stello-ai/db';
import type { Kysely } from 'kysely';
import type pg from 'pg';
import { SessionError } from './domain-errors';

/** A pool with the Kysely instance made once for it (what `PgStores` is), shared by the adapters it builds. */
export interface SharedPool {
  readonly pool: pg.Pool;
  /** @internal */
  readonly kysely: Kysely<Database>;
}

/** What an adapter is built on: a pool, one checked-out client, or a `PgStores`. */
export type PgTarget = pg.Pool | pg.PoolClient | SharedPool;

/** What every statement needs: the Kysely instance over the caller's pool or client, and the space it is scoped to. */
export interface SqlContext {
  readonly db: Kysely<Database>;
  readonly spaceId: string;
  /**
   * True on a pool, where every statement commits on its own; false on a caller's client, which
   * may be inside the caller's transaction (whose settings a statement must not change).
   */
  readonly autocommit: boolean;
  /** The pool or client itself, for statements sent without Kysely (see `runHot`) and transactions. */
  readonly client: pg.Pool | pg.PoolClient;
  /** Whether the per-turn statements are sent as named prepared statements. */
  readonly prepared: boolean;
}

function isSharedPool(target: PgTarget): target is SharedPool {
  return 'kysely' in target && 'pool' in target;
}

/**
 * Builds the context of one adapter instance. On a `PgStores` it reuses its Kysely instance; on
 * a bare pool or client it makes one for this adapter (cheap, and owned by no hidden registry).
 *
 * @throws SessionError `INVALID_ARGUMENT` when `spaceId` is not a uuid (no space could match it)
 */
export function createSqlContext(target: PgTarget, spaceId: string, prepared = true): SqlContext {
  if (typeof target !== 'object' || target === null) throw invalidClient();
  const shared = isSharedPool(target) ? target : null;
  const client = shared ? shared.pool : (target as pg.Pool | pg.PoolClient);
  if (typeof client.query !== 'function') throw invalidClient();
  if (!isUuid(spaceId)) {
    throw new SessionError('INVALID_ARGUMENT', `space id "${String(spaceId)}" is not a uuid`, {
      details: { field: 'spaceId' },
    });
  }
  // A pg.Pool counts its clients; a PoolClient does not.
  const autocommit = 'totalCount' in client;
  return { db: shared ? shared.kysely : createDb(client), spaceId, autocommit, client, prepared };
}

function invalidClient(): SessionError {
  return new SessionError('INVALID_ARGUMENT', 'client must be a pg.Pool, a pg.PoolClient or a PgStores', {
    details: { field: 'client' },
  });
}
