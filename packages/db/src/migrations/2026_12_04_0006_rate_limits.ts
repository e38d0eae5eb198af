import { type Kysely, sql } from 'kysely';

// Frozen in time: this file never imports application code (see the initial schema).

/**
 * Adds per-key rate limits. A user holds at most one active key, so a key's limits are columns of
 * its user (`NULL`: the server's default; `0`: no limit for this key). `rate_usage` holds each
 * process's use of a key in one one-minute window (turns started, streams open), written by the
 * process's background sync; every process sums the others' rows into its in-memory budget.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen in time and must not see today's schema types
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('users')
    .addColumn('turns_per_minute', 'integer', (column) => column.check(sql`turns_per_minute >= 0`))
    .addColumn('concurrent_streams', 'integer', (column) => column.check(sql`concurrent_streams >= 0`))
    .execute();
  await db.schema
    .createTable('rate_usage')
    .addColumn('key_id', 'uuid', (column) => column.notNull().references('users.id').onDelete('cascade'))
    .addColumn('window_start', 'timestamptz', (column) => column.notNull())
    .addColumn('process_id', 'text', (column) => column.notNull())
    .addColumn('turns', 'integer', (column) => column.notNull().defaultTo(0).check(sql`turns >= 0`))
    .addColumn('streams', 'integer', (column) => column.notNull().defaultTo(0).check(sql`streams >= 0`))
    .addColumn('updated_at', 'timestamptz', (column) => column.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('rate_usage_pkey', ['key_id', 'window_start', 'process_id'])
    .execute();
  // The sync reads one window of every key; the sweep deletes old windows.
  await db.schema.createIndex('rate_usage_window_idx').on('rate_usage').column('window_start').execute();
}

/** Drops the rate limits. */
// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen in time and must not see today's schema types
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('rate_usage').execute();
  await db.schema
    .alterTable('users')
    .dropColumn('turns_per_minute')
    .dropColumn('concurrent_streams')
    .execute();
}
