import { type Kysely, sql } from 'kysely';

// Frozen in time: this file never imports application code (see the initial schema).

/**
 * Adds the turn ledger: one row per turn id of a space, so a retried submission finds the first
 * attempt's outcome (or waits for it), a cancel reaches the process that runs the turn, and a turn
 * whose process died reads as failed. Sessions also record the process that holds their turn
 * lease, so a lease of a dead process is free at once.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen in time and must not see today's schema types
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('sessions').addColumn('turn_lease_instance', 'integer').execute();
  await db.schema
    .createTable('turns')
    .addColumn('space_id', 'uuid', (column) => column.notNull())
    .addColumn('turn_id', 'uuid', (column) => column.notNull())
    .addColumn('session_id', 'uuid', (column) => column.notNull())
    .addColumn('request_hash', 'text', (column) => column.notNull())
    .addColumn('status', 'text', (column) => column.notNull())
    .addColumn('owner_instance', 'integer')
    .addColumn('result', 'jsonb')
    .addColumn('error', 'jsonb')
    .addColumn('last_seq', 'integer')
    .addColumn('cancel_requested_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (column) => column.notNull().defaultTo(sql`now()`))
    .addColumn('finished_at', 'timestamptz')
    .addPrimaryKeyConstraint('turns_pkey', ['space_id', 'turn_id'])
    .addForeignKeyConstraint(
      'turns_session_id_space_id_fkey',
      ['session_id', 'space_id'],
      'sessions',
      ['id', 'space_id'],
      (fk) => fk.onDelete('cascade'),
    )
    .addCheckConstraint(
      'turns_status_check',
      sql`status IN ('queued', 'running', 'completed', 'cancelled', 'failed')`,
    )
    .execute();
  // The running turn of a session (what SESSION_BUSY names) and the sweep of dead owners' turns.
  await db.schema
    .createIndex('turns_session_open_idx')
    .on('turns')
    .columns(['session_id', 'status'])
    .where(sql<boolean>`status IN ('queued', 'running')`)
    .execute();
  // The retention sweep deletes finished rows by age.
  await db.schema.createIndex('turns_finished_at_idx').on('turns').column('finished_at').execute();
}

/** Drops the turn ledger. */
// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen in time and must not see today's schema types
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('turns').execute();
  await db.schema.alterTable('sessions').dropColumn('turn_lease_instance').execute();
}
