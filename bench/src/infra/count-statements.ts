import type pg from 'pg';

/** The number of SQL round trips a pool has made since the last reset. */
export interface StatementCounter {
  /** Round trips counted so far. */
  readonly count: number;
  /** Starts counting from zero again. */
  reset(): void;
}

type QueryFn = (...args: unknown[]) => unknown;

/**
 * Counts every `query` call of the clients a pool hands out; each call is one round trip to
 * PostgreSQL (`BEGIN` and `COMMIT` included). Install it before the pool's first query.
 *
 * Only the clients are wrapped: `pool.query` runs on a pooled client, so wrapping it too would
 * count its statements twice.
 */
export function countStatements(pool: pg.Pool): StatementCounter {
  let count = 0;
  pool.on('connect', (client) => {
    const query = client.query as unknown as QueryFn;
    (client as unknown as { query: QueryFn }).query = function countedQuery(this: unknown, ...args: unknown[]) {
      count += 1;
      return query.apply(this, args);
    };
  });
  return {
    get count() {
      return count;
    },
    reset() {
      count = 0;
    },
  };
}
