import type { Database } from '@stello-ai/db';
import { type Kysely, sql } from 'kysely';
import { withPgErrors } from '../pg-errors';
import type { KeyLimits, KeyLimitsUpdate, KeyUsage, RateLimitStore, UsageSync } from './rate-limit-store';

function toKeyLimits(row: {
  id: string;
  turns_per_minute: number | null;
  concurrent_streams: number | null;
}): KeyLimits {
  return { keyId: row.id, turnsPerMinute: row.turns_per_minute, concurrentStreams: row.concurrent_streams };
}

/** Per-key limits (columns of `users`) and the processes' use (`rate_usage`) in PostgreSQL. */
export class PgRateLimitStore implements RateLimitStore {
  readonly #db: Kysely<Database>;

  /** @internal use `PgStores.rateLimits` */
  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  getKeyLimits(keyId: string): Promise<KeyLimits | null> {
    return withPgErrors(async () => {
      const row = await this.#db
        .selectFrom('users')
        .select(['id', 'turns_per_minute', 'concurrent_streams'])
        .where('id', '=', keyId)
        .executeTakeFirst();
      return row ? toKeyLimits(row) : null;
    });
  }

  setKeyLimits(keyId: string, update: KeyLimitsUpdate): Promise<KeyLimits | null> {
    return withPgErrors(async () => {
      const set = {
        ...(update.turnsPerMinute !== undefined && { turns_per_minute: update.turnsPerMinute }),
        ...(update.concurrentStreams !== undefined && { concurrent_streams: update.concurrentStreams }),
      };
      if (Object.keys(set).length === 0) return this.getKeyLimits(keyId);
      const row = await this.#db
        .updateTable('users')
        .set(set)
        .where('id', '=', keyId)
        .returning(['id', 'turns_per_minute', 'concurrent_streams'])
        .executeTakeFirst();
      return row ? toKeyLimits(row) : null;
    });
  }

  listKeyLimits(): Promise<KeyLimits[]> {
    return withPgErrors(async () => {
      const rows = await this.#db
        .selectFrom('users')
        .select(['id', 'turns_per_minute', 'concurrent_streams'])
        .where((eb) =>
          eb.or([eb('turns_per_minute', 'is not', null), eb('concurrent_streams', 'is not', null)]),
        )
        .execute();
      return rows.map(toKeyLimits);
    });
  }

  /**
   * One statement: the upsert of this process's rows runs as a data-modifying CTE, and the
   * select beside it sums the other processes' rows of the window (it excludes this process, so
   * it does not matter that it sees the table as it was before the upsert).
   */
  syncUsage(sync: UsageSync): Promise<KeyUsage[]> {
    return withPgErrors(async () => {
      const windowStart = new Date(sync.windowStartMs);
      const others = this.#db
        .selectFrom('rate_usage')
        .select((eb) => [
          'key_id',
          eb.fn.sum<string>('turns').as('turns'),
          sql<string>`coalesce(sum(streams) FILTER (WHERE updated_at > now() - make_interval(secs => ${sync.streamsFreshMs / 1000})), 0)`.as(
            'streams',
          ),
        ])
        .where('window_start', '=', windowStart)
        .where('process_id', '<>', sync.processId)
        .groupBy('key_id');
      let rows: { key_id: string; turns: string; streams: string }[];
      if (sync.usage.length === 0) {
        rows = await others.execute();
      } else {
        rows = await this.#db
          .with('written', (db) =>
            db
              .insertInto('rate_usage')
              .values(
                sync.usage.map((usage) => ({
                  key_id: usage.keyId,
                  window_start: windowStart,
                  process_id: sync.processId,
                  turns: usage.turns,
                  streams: usage.streams,
                })),
              )
              .onConflict((oc) =>
                oc.columns(['key_id', 'window_start', 'process_id']).doUpdateSet((eb) => ({
                  turns: eb.ref('excluded.turns'),
                  streams: eb.ref('excluded.streams'),
                  updated_at: sql<Date>`now()`,
                })),
              )
              .returning('key_id'),
          )
          .selectFrom(others.as('others'))
          .selectAll()
          .execute();
      }
      return rows.map((row) => ({
        keyId: row.key_id,
        turns: Number(row.turns),
        streams: Number(row.streams),
      }));
    });
  }

  deleteUsageBefore(windowStartMs: number): Promise<number> {
    return withPgErrors(async () => {
      const result = await this.#db
        .deleteFrom('rate_usage')
        .where('window_start', '<', new Date(windowStartMs))
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    });
  }
}
