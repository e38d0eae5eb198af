import type { Kysely } from 'kysely';

// Frozen in time: this file never imports application code (see the initial schema).

/**
 * Adds a revision counter of a session's records: every statement that inserts or deletes records
 * of a session increments it under the session's row lock. A process that caches a session's
 * history window compares it to know, in the turn's own read, whether its copy is still exact.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen in time and must not see today's schema types
export async function up(db: Kysely<any>): Promise<void> {
  // A constant default: PostgreSQL adds the column without rewriting the table.
  await db.schema
    .alterTable('sessions')
    .addColumn('records_rev', 'bigint', (column) => column.notNull().defaultTo(0))
    .execute();
}

/** Drops the records revision. */
// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen in time and must not see today's schema types
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('sessions').dropColumn('records_rev').execute();
}
