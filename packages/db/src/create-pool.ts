import pg from 'pg';
import { DbError } from './errors';
import { pgTypeParsers } from './pg-type-parsers';

/** Default maximum number of connections of a pool made by `createPool`. */
export const DEFAULT_POOL_MAX = 20;

/** Default time, in milliseconds, an idle connection stays open in a pool made by `createPool`. */
export const DEFAULT_IDLE_TIMEOUT_MS = 30_000;

/** Options of `createPool`. */
export interface PoolOptions {
  /** PostgreSQL connection string, e.g. `postgresql://user:password@host:5432/db`. */
  connectionString: string;
  /** Maximum number of open connections. Defaults to 20. */
  max?: number;
  /** Milliseconds an idle connection is kept before it is closed. Defaults to 30000. */
  idleTimeoutMillis?: number;
}

/**
 * Creates a `pg.Pool` for Stello Server.
 *
 * The pool reads `int8` values as numbers (see `pgTypeParsers`) and sets `application_name` to
 * `stello` unless the connection string names one. An error on an idle connection (for example
 * a server restart) does not crash the process: `pg` discards that connection and the next query
 * opens a new one. The caller owns the pool and ends it with `pool.end()`.
 *
 * @throws DbError `INVALID_OPTIONS` when the connection string is empty or a number is not positive
 * @example
 * ```ts
 * const pool = createPool({ connectionString: process.env.DATABASE_URL! });
 * await migrate(pool);
 * ```
 */
export function createPool(options: PoolOptions): pg.Pool {
  const { connectionString, max = DEFAULT_POOL_MAX, idleTimeoutMillis = DEFAULT_IDLE_TIMEOUT_MS } = options;
  if (typeof connectionString !== 'string' || connectionString.trim() === '') {
    throw new DbError('INVALID_OPTIONS', 'connectionString must be a non-empty string');
  }
  if (!Number.isInteger(max) || max < 1) {
    throw new DbError('INVALID_OPTIONS', `max must be a positive integer, got ${String(max)}`);
  }
  // pg reads 0 as "never close idle connections"; negative values make no sense.
  if (!Number.isFinite(idleTimeoutMillis) || idleTimeoutMillis < 0) {
    throw new DbError(
      'INVALID_OPTIONS',
      `idleTimeoutMillis must be a non-negative number, got ${String(idleTimeoutMillis)}`,
    );
  }
  const pool = new pg.Pool({
    connectionString,
    max,
    idleTimeoutMillis,
    application_name: 'stello',
    types: pgTypeParsers,
  });
  // Without a listener, pg re-emits an idle client's error as an uncaught 'error' event.
  pool.on('error', () => {});
  return pool;
}
