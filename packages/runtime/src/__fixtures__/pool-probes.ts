import type { TestDatabase } from '@internal/testing';

type Pool = TestDatabase['pool'];

/** A running count of what a pool was asked to do; `stop()` restores the pool. */
export interface QueryWatch {
  readonly count: number;
  stop(): void;
}

/**
 * Counts every `pool.query` and every `pool.connect` (a client checked out, e.g. for a
 * transaction) from now until `stop()`, to prove that a cached path costs no statement.
 */
export function watchQueries(pool: Pool): QueryWatch {
  const query = pool.query.bind(pool);
  const connect = pool.connect.bind(pool);
  let count = 0;
  // `pool.query` checks a client out through `this.connect` synchronously: one statement, not two.
  let inQuery = false;
  pool.query = ((...args: unknown[]) => {
    count += 1;
    inQuery = true;
    try {
      return (query as (...a: unknown[]) => unknown)(...args);
    } finally {
      inQuery = false;
    }
  }) as typeof pool.query;
  pool.connect = ((...args: unknown[]) => {
    if (!inQuery) count += 1;
    return (connect as (...a: unknown[]) => unknown)(...args);
  }) as typeof pool.connect;
  return {
    get count() {
      return count;
    },
    stop() {
      pool.query = query;
      pool.connect = connect;
    },
  };
}

/** Counts, as {@link watchQueries} does, what `pool` is asked to do while `fn` runs. */
export async function countQueries(pool: Pool, fn: () => Promise<unknown>): Promise<number> {
  const watch = watchQueries(pool);
  try {
    await fn();
  } finally {
    watch.stop();
  }
  return watch.count;
}

/** Resolves with what `promise` rejects with; throws when it resolves instead. */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

/** Inserts a user row directly (no API key) and returns its id. */
export async function insertUser(pool: Pool, name: string): Promise<string> {
  const { rows } = await pool.query<{ id: string }>('insert into users (name) values ($1) returning id', [
    name,
  ]);
  return rows[0]!.id;
}
