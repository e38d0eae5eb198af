import pg from 'pg';
import { DbError } from './errors';
import { pgTypeParsers } from './pg-type-parsers';

/** Default maximum number of connections of a pool made by `createPool`. */
export const DEFAULT_POOL_MAX = 20;

/** Default time, in milliseconds, an idle connection stays open in a pool made by `createPool`. */
export const DEFAULT_IDLE_TIMEOUT_MS = 30_000;

/** Default time, in milliseconds, opening a connection may take before the query fails: 10 s. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/** Default longest statement, in milliseconds (PostgreSQL's `statement_timeout`): 30 s. */
export const DEFAULT_STATEMENT_TIMEOUT_MS = 30_000;

/** Options of `createPool`. */
export interface PoolOptions {
  /** PostgreSQL connection string, e.g. `postgresql://user:password@host:5432/db`. */
  connectionString: string;
  /** Maximum number of open connections. Defaults to 20. */
  max?: number;
  /** Milliseconds an idle connection is kept before it is closed. Defaults to 30000. */
  idleTimeoutMillis?: number;
  /**
   * Milliseconds opening a connection may take (an unreachable host fails with a clear error
   * instead of hanging). Defaults to 10000; 0 waits forever.
   */
  connectionTimeoutMillis?: number;
  /**
   * PostgreSQL's `statement_timeout` for every connection, in milliseconds: a statement running
   * longer is cancelled (SQLSTATE 57014). Defaults to 30000; 0 disables it.
   */
  statementTimeoutMillis?: number;
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
  const {
    connectionString,
    max = DEFAULT_POOL_MAX,
    idleTimeoutMillis = DEFAULT_IDLE_TIMEOUT_MS,
    connectionTimeoutMillis = DEFAULT_CONNECT_TIMEOUT_MS,
    statementTimeoutMillis = DEFAULT_STATEMENT_TIMEOUT_MS,
  } = options;
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
  for (const [name, value] of Object.entries({ connectionTimeoutMillis, statementTimeoutMillis })) {
    if (!Number.isInteger(value) || value < 0) {
      throw new DbError('INVALID_OPTIONS', `${name} must be a non-negative integer, got ${String(value)}`);
    }
  }
  const pool = new pg.Pool({
    connectionString,
    max,
    idleTimeoutMillis,
    connectionTimeoutMillis,
    // Sent in the startup packet, so it costs no statement (0 leaves the server's default).
    ...(statementTimeoutMillis > 0 && { statement_timeout: statementTimeoutMillis }),
    application_name: 'stello',
    types: pgTypeParsers,
  });
  // Without a listener, pg re-emits an idle client's error as an uncaught 'error' event.
  pool.on('error', () => {});
  return pool;
}
