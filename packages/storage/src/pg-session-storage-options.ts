import { SessionError } from './internal/domain-errors';
import type { TurnControlBinding } from './internal/turns-sql';
import { assertCount } from './internal/validate';

/** Sessions whose history window one pool-bound storage keeps by default. */
export const DEFAULT_HISTORY_CACHE_SESSIONS = 32;

/** Options of `PgSessionStorage` (and `PgMainStorage`). */
export interface PgSessionStorageOptions {
  /**
   * How many sessions' history windows to keep in memory (least recently used first out), so a
   * turn reads none of the records it already knows: its one read statement compares the
   * session's records revision and sends the window only when another writer changed it.
   * Only a storage built on a pool caches; `0` turns it off. Default 32.
   */
  historyCacheSessions?: number;
  /**
   * Sends the two statements of every turn as named prepared statements, parsed and planned once
   * per connection. Turn it off behind a pooler that cannot keep named statements per client
   * (PgBouncer in transaction mode before 1.21, or without `max_prepared_statements`). Default true.
   */
  preparedStatements?: boolean;
  /**
   * The process's control channel (`PgControlChannel`): turn leases record its instance id, so a
   * session whose turn process died accepts a new turn at once (its lease and ledger rows are seen
   * as dead through PostgreSQL's advisory locks), and a cancel publishes `turn.cancel` in its own
   * statement. Without it (or behind a transaction pooler, where advisory locks do not hold) only
   * the lease TTL frees a dead process's session.
   */
  control?: TurnControlBinding;
}

/**
 * Checks `PgSessionStorageOptions` without building anything.
 * @throws SessionError `INVALID_ARGUMENT` naming the bad option
 */
export function assertStorageOptions(options: PgSessionStorageOptions): void {
  if (typeof options !== 'object' || options === null) {
    throw new SessionError('INVALID_ARGUMENT', 'storage options must be an object', {
      details: { field: 'options' },
    });
  }
  if (options.preparedStatements !== undefined && typeof options.preparedStatements !== 'boolean') {
    throw new SessionError('INVALID_ARGUMENT', 'preparedStatements must be a boolean', {
      details: { field: 'preparedStatements' },
    });
  }
  assertCount(options.historyCacheSessions ?? DEFAULT_HISTORY_CACHE_SESSIONS, 'historyCacheSessions');
}
