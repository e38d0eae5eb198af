import {
  Kysely,
  PostgresDialect,
  type PostgresPool,
  type PostgresPoolClient,
  type PostgresQueryResult,
} from 'kysely';
import type pg from 'pg';
import { pgTypeParsers } from './pg-type-parsers';
import type { Database } from './schema';

/**
 * Creates a typed Kysely instance over a caller-owned pool, or over one checked-out client.
 *
 * - With a `pg.Pool`, each query (or transaction) borrows a connection and returns it.
 * - With a `pg.PoolClient` (for example a client on which the caller ran `BEGIN`), every query runs
 *   on that very client, so it takes part in the caller's transaction. Do not call
 *   `db.transaction()` on such an instance while the client is already inside a transaction: its
 *   `COMMIT` would end the caller's transaction.
 *
 * Either way the instance borrows the connection: `db.destroy()` neither ends the pool nor
 * releases the client. `int8` values are read as numbers (see `pgTypeParsers`), whatever type
 * parsers the pool was created with. Nothing is cached between calls, so creating an instance is
 * cheap.
 *
 * @example
 * ```ts
 * const db = createDb(pool);
 * const spaces = await db.selectFrom('spaces').selectAll().where('user_id', '=', userId).execute();
 * ```
 */
export function createDb(client: pg.Pool | pg.PoolClient): Kysely<Database> {
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool: toKyselyPool(client) }) });
}

function isPoolClient(client: pg.Pool | pg.PoolClient): client is pg.PoolClient {
  // Duck-typed rather than `instanceof`, so a pool or client from another copy of pg still works.
  return typeof (client as Partial<pg.PoolClient>).release === 'function';
}

function toKyselyPool(client: pg.Pool | pg.PoolClient): PostgresPool {
  if (isPoolClient(client)) {
    const only = wrapClient(client, () => {});
    return { connect: async () => only, end: async () => {}, options: {} };
  }
  // One wrapper per pg client, so Kysely's per-connection state (keyed by object) is reused.
  const wrappers = new WeakMap<pg.PoolClient, PostgresPoolClient>();
  return {
    async connect() {
      const pooled = await client.connect();
      let wrapper = wrappers.get(pooled);
      if (!wrapper) {
        wrapper = wrapClient(pooled, (destroy) => pooled.release(destroy));
        wrappers.set(pooled, wrapper);
      }
      return wrapper;
    },
    // The pool belongs to the caller; destroying the Kysely instance must not end it.
    end: async () => {},
    options: client.options,
  };
}

function wrapClient(client: pg.PoolClient, release: (destroy?: boolean) => void): PostgresPoolClient {
  const query = (
    sqlOrCursor: unknown,
    parameters?: ReadonlyArray<unknown>,
  ): Promise<PostgresQueryResult<unknown>> => {
    if (typeof sqlOrCursor !== 'string') {
      // Only reachable when a cursor constructor is configured, which createDb never does.
      throw new TypeError('streaming queries are not supported by createDb');
    }
    // Per-query parsers win over the client's, so a caller's pool need not be created by createPool.
    const config: pg.QueryConfig = {
      text: sqlOrCursor,
      values: [...(parameters ?? [])],
      types: pgTypeParsers,
    };
    return client.query(config) as unknown as Promise<PostgresQueryResult<unknown>>;
  };
  return {
    get processID() {
      return (client as { processID?: number }).processID;
    },
    query: query as unknown as PostgresPoolClient['query'],
    release,
  };
}
