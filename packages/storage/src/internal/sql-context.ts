import { createDb, type Database, isUuid } from '@stello-ai/db';
import { SessionError } from '@stello-ai/session';
import type { Kysely } from 'kysely';
import type pg from 'pg';

/** What every statement needs: the Kysely instance over the caller's pool or client, and the space it is scoped to. */
export interface SqlContext {
  readonly db: Kysely<Database>;
  readonly spaceId: string;
  /**
   * True on a pool, where every statement commits on its own; false on a caller's client, which
   * may be inside the caller's transaction (whose settings a statement must not change).
   */
  readonly autocommit: boolean;
  /** The pool or client itself, for statements sent without Kysely (see `runHot`). */
  readonly client: pg.Pool | pg.PoolClient;
  /** Whether the per-turn statements are sent as named prepared statements. */
  readonly prepared: boolean;
}

/**
 * Builds the context of one adapter instance.
 *
 * @throws SessionError `INVALID_ARGUMENT` when `spaceId` is not a uuid (no space could match it)
 */
export function createSqlContext(
  client: pg.Pool | pg.PoolClient,
  spaceId: string,
  prepared = true,
): SqlContext {
  if (typeof client !== 'object' || client === null || typeof client.query !== 'function') {
    throw new SessionError('INVALID_ARGUMENT', 'client must be a pg.Pool or a pg.PoolClient', {
      details: { field: 'client' },
    });
  }
  if (!isUuid(spaceId)) {
    throw new SessionError('INVALID_ARGUMENT', `space id "${String(spaceId)}" is not a uuid`, {
      details: { field: 'spaceId' },
    });
  }
  // A pg.Pool counts its clients; a PoolClient does not.
  const autocommit = 'totalCount' in client;
  return {
    db: autocommit ? dbOfPool(client as pg.Pool) : createDb(client),
    spaceId,
    autocommit,
    client,
    prepared,
  };
}

/** One Kysely instance per pool, shared by every adapter on it (storage never destroys it). */
const poolDbs = new WeakMap<pg.Pool, Kysely<Database>>();

function dbOfPool(pool: pg.Pool): Kysely<Database> {
  let db = poolDbs.get(pool);
  if (db === undefined) {
    db = createDb(pool);
    poolDbs.set(pool, db);
  }
  return db;
}
