import { type Kysely, sql } from 'kysely';

// Frozen in time: this file never imports application code (see the initial schema).

/**
 * Adds the turn lease of a session: the owner of the turn running on it and when that claim
 * lapses. A turn takes the lease in the statement that reads its context and clears it in the
 * statement that commits it, so turns on one session run one at a time across server instances.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen in time and must not see today's schema types
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('sessions')
    .addColumn('turn_lease_owner', 'text')
    .addColumn('turn_lease_expires_at', 'timestamptz')
    .execute();
  // An owner always comes with its expiry, so a crashed owner's lease lapses.
  await db.schema
    .alterTable('sessions')
    .addCheckConstraint(
      'sessions_turn_lease_check',
      sql`(turn_lease_owner IS NULL) = (turn_lease_expires_at IS NULL)`,
    )
    .execute();
}

/** Drops the turn lease columns. */
// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen in time and must not see today's schema types
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('sessions').dropConstraint('sessions_turn_lease_check').execute();
  await db.schema
    .alterTable('sessions')
    .dropColumn('turn_lease_owner')
    .dropColumn('turn_lease_expires_at')
    .execute();
}
