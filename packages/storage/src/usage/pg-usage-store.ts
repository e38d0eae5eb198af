import type { Database } from '@stello-ai/db';
import { type Kysely, sql } from 'kysely';
import { withPgErrors } from '../pg-errors';

/** What one user holds: the figures quotas are checked against. */
export interface UserUsage {
  spaces: number;
  sessions: number;
  /** Bytes of every record in the user's sessions (content and tool calls, UTF-8). */
  storedBytes: number;
}

/** Reads what users hold; every figure comes from indexed counts and per-session byte totals. */
export class PgUsageStore {
  readonly #db: Kysely<Database>;

  /** @internal use `PgStores.usage` */
  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  /**
   * The usage of `userId` in one statement: spaces by the user index, sessions and bytes by the
   * sessions of those spaces (`stored_bytes` is kept by triggers on `records`). Zeros for an
   * unknown user.
   */
  usageOf(userId: string): Promise<UserUsage> {
    return withPgErrors(async () => {
      const { rows } = await sql<{ spaces: number; sessions: number; stored_bytes: number }>`
        SELECT count(DISTINCT sp.id)::int AS spaces,
               count(s.id)::int AS sessions,
               coalesce(sum(s.stored_bytes), 0)::bigint AS stored_bytes
        FROM spaces sp LEFT JOIN sessions s ON s.space_id = sp.id
        WHERE sp.user_id = ${userId}::uuid`.execute(this.#db);
      const row = rows[0];
      return {
        spaces: row?.spaces ?? 0,
        sessions: row?.sessions ?? 0,
        storedBytes: Number(row?.stored_bytes ?? 0),
      };
    });
  }
}
