import { type Kysely, sql } from 'kysely';

/** The seven tables of `@stello-ai/server` v0.2.2 (`001_init.sql`, `002`). */
export const V022_TABLES = [
  'users',
  'spaces',
  'sessions',
  'records',
  'session_data',
  'session_refs',
  'core_data',
] as const;

/** What a database holds: nothing yet, Stello's own schema, the v0.2.2 schema, or something else. */
export type SchemaKind = 'empty' | 'stello' | 'v0.2.2' | 'unknown';

/** The v0.2.2 schema's optional columns: later upstream migrations (003, 004) added some. */
export interface V022Columns {
  /** `spaces.integrate_prompt` (migration 002). */
  integratePrompt: boolean;
  /** `records.tool_calls` (upstream migration 003). */
  toolCalls: boolean;
  /** `sessions.source_session_id` (upstream migration 004). */
  sourceSessionId: boolean;
}

/**
 * Tells what the current schema holds, in one statement: the v0.2.2 schema has the seven tables,
 * a plaintext `users.api_key`, and no migration ledger of ours.
 */
// biome-ignore lint/suspicious/noExplicitAny: runs before today's schema exists
export async function detectSchema(db: Kysely<any>): Promise<SchemaKind> {
  const { rows } = await sql<{ tables: number; ledger: boolean; plain_keys: boolean; any_table: boolean }>`
    SELECT
      (SELECT count(*)::int FROM information_schema.tables
        WHERE table_schema = current_schema() AND table_name = ANY(${[...V022_TABLES]})) AS tables,
      EXISTS (SELECT 1 FROM information_schema.tables
        WHERE table_schema = current_schema() AND table_name = 'stello_migration') AS ledger,
      EXISTS (SELECT 1 FROM information_schema.columns
        WHERE table_schema = current_schema() AND table_name = 'users' AND column_name = 'api_key') AS plain_keys,
      EXISTS (SELECT 1 FROM information_schema.tables
        WHERE table_schema = current_schema() AND table_type = 'BASE TABLE') AS any_table`.execute(db);
  const row = rows[0];
  if (!row) return 'unknown';
  if (row.ledger) return 'stello';
  if (row.tables === V022_TABLES.length && row.plain_keys) return 'v0.2.2';
  return row.any_table ? 'unknown' : 'empty';
}

/** Which optional columns the v0.2.2 tables have. */
// biome-ignore lint/suspicious/noExplicitAny: runs before today's schema exists
export async function detectV022Columns(db: Kysely<any>): Promise<V022Columns> {
  const { rows } = await sql<{ table_name: string; column_name: string }>`
    SELECT table_name, column_name FROM information_schema.columns
    WHERE table_schema = current_schema()
      AND (table_name, column_name) IN (('spaces', 'integrate_prompt'), ('records', 'tool_calls'),
                                        ('sessions', 'source_session_id'))`.execute(db);
  const has = (table: string, column: string) =>
    rows.some((row) => row.table_name === table && row.column_name === column);
  return {
    integratePrompt: has('spaces', 'integrate_prompt'),
    toolCalls: has('records', 'tool_calls'),
    sourceSessionId: has('sessions', 'source_session_id'),
  };
}
