import { type Kysely, sql } from 'kysely';

// Frozen in time: this file never imports application code (see the initial schema).

/**
 * Adds what quotas and memory work need on `sessions`:
 * - `stored_bytes`: the bytes of the session's records (content and tool calls), kept by statement
 *   triggers on `records`, so a user's stored bytes are a sum over their sessions instead of a scan
 *   of every record, and no writer of records has to remember to count;
 * - `consolidated_turn_count`: the turn count at the last consolidation, so an agent rebuilt after
 *   a restart or a space change does not consolidate an unchanged session again.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen in time and must not see today's schema types
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('sessions')
    .addColumn('stored_bytes', 'bigint', (column) =>
      column.notNull().defaultTo(0).check(sql`stored_bytes >= 0`),
    )
    .addColumn('consolidated_turn_count', 'integer')
    .execute();
  await sql`
    UPDATE sessions s SET stored_bytes = totals.bytes
    FROM (
      SELECT r.session_id,
             sum(octet_length(r.content) + coalesce(octet_length(r.tool_calls::text), 0)) AS bytes
      FROM records r GROUP BY r.session_id
    ) totals
    WHERE totals.session_id = s.id`.execute(db);

  // Statement-level triggers with transition tables: one UPDATE per statement and session, under
  // the row lock the writing statement already holds (a turn's commit updates the same row).
  await sql`
    CREATE FUNCTION stello_records_bytes_added() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      UPDATE sessions s SET stored_bytes = s.stored_bytes + d.bytes
      FROM (
        SELECT session_id, sum(octet_length(content) + coalesce(octet_length(tool_calls::text), 0)) AS bytes
        FROM added GROUP BY session_id
      ) d
      WHERE s.id = d.session_id AND d.bytes <> 0;
      RETURN NULL;
    END $$`.execute(db);
  await sql`
    CREATE FUNCTION stello_records_bytes_removed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      UPDATE sessions s SET stored_bytes = greatest(0, s.stored_bytes - d.bytes)
      FROM (
        SELECT session_id, sum(octet_length(content) + coalesce(octet_length(tool_calls::text), 0)) AS bytes
        FROM removed GROUP BY session_id
      ) d
      WHERE s.id = d.session_id AND d.bytes <> 0;
      RETURN NULL;
    END $$`.execute(db);
  await sql`
    CREATE TRIGGER records_bytes_added AFTER INSERT ON records
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION stello_records_bytes_added()`.execute(
    db,
  );
  await sql`
    CREATE TRIGGER records_bytes_removed AFTER DELETE ON records
    REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION stello_records_bytes_removed()`.execute(
    db,
  );
}

/** Drops the triggers and the two columns. */
// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen in time and must not see today's schema types
export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TRIGGER IF EXISTS records_bytes_added ON records`.execute(db);
  await sql`DROP TRIGGER IF EXISTS records_bytes_removed ON records`.execute(db);
  await sql`DROP FUNCTION IF EXISTS stello_records_bytes_added()`.execute(db);
  await sql`DROP FUNCTION IF EXISTS stello_records_bytes_removed()`.execute(db);
  await db.schema
    .alterTable('sessions')
    .dropColumn('stored_bytes')
    .dropColumn('consolidated_turn_count')
    .execute();
}
