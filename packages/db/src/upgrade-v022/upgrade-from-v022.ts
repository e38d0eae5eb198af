import { type Kysely, sql } from 'kysely';
import type pg from 'pg';
import { createDb } from '../create-db';
import { DbError } from '../errors';
import { migrateWithin } from '../migrate';
import { findV022Offenses, type V022Offense } from './check-v022';
import { detectSchema, detectV022Columns, V022_TABLES, type V022Columns } from './detect-v022';

/** Where the old tables wait, inside the upgrade's transaction, while their rows are copied. */
const LEGACY_SCHEMA = 'stello_v022_legacy';

/** What `upgradeFromV022` did. Counts only: nothing secret. */
export interface V022UpgradeReport {
  /** Our migrations it applied on the way. */
  migrations: string[];
  users: number;
  spaces: number;
  sessions: number;
  records: number;
  slots: number;
  refs: number;
  globals: number;
  /** Sessions whose sibling index changed (repeated or gapped indexes of the old data). */
  reindexedSessions: number;
  /** Sessions whose depth changed (the old `putNode` never recomputed it). */
  redepthedSessions: number;
  /** Sessions whose fork provenance was taken from `metadata.sourceSessionId`. */
  provenanceFromMetadata: number;
  /** Refs dropped because they joined two spaces or a session to itself. */
  droppedRefs: number;
  /**
   * Users whose old key cannot authenticate any more (shorter than 8 characters, longer than 512,
   * or with whitespace): issue them a new key (`stello keys issue <userId>`).
   */
  usersWithUnusableKeys: string[];
}

/**
 * Upgrades a `@stello-ai/server` v0.2.2 database in place, in ONE transaction: checks the old
 * data, sets the old tables aside, creates today's schema (every migration, ledger included),
 * copies the rows over (API keys become SHA-256 hashes with a display prefix; depths and sibling
 * indexes are recomputed; the provenance kept in `metadata.sourceSessionId` fills
 * `source_session_id`), and drops the old tables. Any failure rolls everything back.
 *
 * @throws DbError `NOT_V022_SCHEMA` when the database does not hold the v0.2.2 schema (already
 *   upgraded, empty, or something else); `UPGRADE_REFUSED` when rows break an invariant of the
 *   new schema (two roots in a space, a cycle…): `details.offenses` lists them and nothing is
 *   changed. `MIGRATION_FAILED` (from the migrations) or a PostgreSQL error for the rest, after a
 *   rollback.
 */
export async function upgradeFromV022(pool: pg.Pool): Promise<V022UpgradeReport> {
  const db = createDb(pool);
  try {
    // biome-ignore lint/suspicious/noExplicitAny: the old schema has no types here
    return await (db as Kysely<any>).transaction().execute(async (trx) => {
      // Two upgrades started at once: the second waits, then finds the new schema and stops.
      await sql`SELECT pg_advisory_xact_lock(hashtext('stello_v022_upgrade'))`.execute(trx);
      const kind = await detectSchema(trx);
      if (kind !== 'v0.2.2') throw notV022(kind);
      const offenses = await findV022Offenses(trx);
      if (offenses.length > 0) throw upgradeRefused(offenses);
      const columns = await detectV022Columns(trx);

      await sql`CREATE SCHEMA ${sql.id(LEGACY_SCHEMA)}`.execute(trx);
      for (const table of V022_TABLES) {
        await sql`ALTER TABLE ${sql.id(table)} SET SCHEMA ${sql.id(LEGACY_SCHEMA)}`.execute(trx);
      }
      const migrations = await migrateWithin(trx);
      const report = await copyRows(trx, columns);
      await sql`DROP SCHEMA ${sql.id(LEGACY_SCHEMA)} CASCADE`.execute(trx);
      return { migrations, ...report };
    });
  } finally {
    await db.destroy();
  }
}

function notV022(kind: string): DbError {
  const why =
    kind === 'stello'
      ? 'it already holds the Stello Server schema (run `stello migrate`)'
      : kind === 'empty'
        ? 'it is empty (run `stello migrate`)'
        : 'its tables are not those of v0.2.2 (users with a plaintext api_key, spaces, sessions, records, session_data, session_refs, core_data)';
  return new DbError('NOT_V022_SCHEMA', `not a @stello-ai/server v0.2.2 database: ${why}`, {
    details: { schema: kind },
  });
}

function upgradeRefused(offenses: V022Offense[]): DbError {
  const lines = offenses.map((offense) => `  - ${offense.message}`).join('\n');
  return new DbError(
    'UPGRADE_REFUSED',
    `the v0.2.2 data breaks ${offenses.length} invariant${offenses.length === 1 ? '' : 's'} of the new schema; nothing was changed. Fix these rows, then run the upgrade again:\n${lines}`,
    { details: { offenses } },
  );
}

type Copied = Omit<V022UpgradeReport, 'migrations'>;

/** Copies every old row into today's tables (the old ones wait in `LEGACY_SCHEMA`). */
async function copyRows(
  // biome-ignore lint/suspicious/noExplicitAny: the old schema has no types here
  trx: Kysely<any>,
  columns: V022Columns,
): Promise<Copied> {
  const L = sql.id(LEGACY_SCHEMA);
  const count = async (query: ReturnType<typeof sql>) =>
    Number((await query.execute(trx)).numAffectedRows ?? 0);

  // The hash and the display prefix are computed as the server computes them (SHA-256 hex; the
  // `stello_` tag plus 4 characters, else the first 4): nothing secret leaves the database.
  const users = await count(sql`
    INSERT INTO users (id, name, api_key_hash, api_key_prefix, created_at, key_created_at)
    SELECT id, coalesce(nullif(btrim(name), ''), 'user ' || left(id::text, 8)),
           encode(sha256(convert_to(api_key, 'UTF8')), 'hex'),
           CASE WHEN api_key LIKE 'stello\\_%' THEN left(api_key, 11) ELSE left(api_key, 4) END,
           created_at, created_at
    FROM ${L}.users`);
  const unusable = await sql<{ id: string }>`
    SELECT id::text FROM ${L}.users
    WHERE length(api_key) < 8 OR length(api_key) > 512 OR api_key ~ '\\s' ORDER BY id`.execute(trx);

  const spaces = await count(sql`
    INSERT INTO spaces (id, user_id, label, system_prompt, consolidate_prompt, integrate_prompt, config,
                        created_at, updated_at)
    SELECT id, user_id, label, system_prompt, consolidate_prompt,
           ${columns.integratePrompt ? sql`integrate_prompt` : sql`NULL::text`}, config, created_at, updated_at
    FROM ${L}.spaces`);

  const storedSource = columns.sourceSessionId
    ? sql`(SELECT src.id FROM ${L}.sessions src WHERE src.id = s.source_session_id AND src.space_id = s.space_id)`
    : sql`NULL::uuid`;
  const metadataSource = sql`(SELECT src.id FROM ${L}.sessions src
    WHERE src.space_id = s.space_id AND src.id::text = s.metadata->>'sourceSessionId')`;
  const { rows: tree } = await sql<{
    sessions: number;
    reindexed: number;
    redepthed: number;
    from_metadata: number;
  }>`
    WITH RECURSIVE tree(id, depth) AS (
      SELECT id, 0 FROM ${L}.sessions WHERE parent_id IS NULL
      UNION ALL
      SELECT c.id, t.depth + 1 FROM ${L}.sessions c JOIN tree t ON c.parent_id = t.id
    ),
    ordered AS (
      SELECT id, (row_number() OVER (PARTITION BY parent_id ORDER BY "index", created_at, id) - 1)::int AS idx
      FROM ${L}.sessions WHERE parent_id IS NOT NULL
    ),
    shaped AS (
      SELECT s.*, t.depth AS new_depth, coalesce(o.idx, 0) AS new_index,
             ${storedSource} AS stored_source, ${metadataSource} AS metadata_source
      FROM ${L}.sessions s JOIN tree t ON t.id = s.id LEFT JOIN ordered o ON o.id = s.id
    ),
    inserted AS (
      INSERT INTO sessions (id, space_id, parent_id, label, role, status, scope, depth, "index",
                            next_child_index, turn_count, tags, metadata, source_session_id,
                            created_at, updated_at, last_active_at)
      SELECT s.id, s.space_id, s.parent_id, s.label, s.role, s.status, s.scope, s.new_depth, s.new_index,
             (SELECT count(*) FROM ${L}.sessions k WHERE k.parent_id = s.id)::int,
             greatest(s.turn_count, 0), coalesce(s.tags, '{}'), s.metadata,
             coalesce(s.stored_source, s.metadata_source), s.created_at, s.updated_at, s.last_active_at
      FROM shaped s ORDER BY s.new_depth
      RETURNING id
    )
    SELECT (SELECT count(*) FROM inserted)::int AS sessions,
           count(*) FILTER (WHERE new_index <> "index")::int AS reindexed,
           count(*) FILTER (WHERE new_depth <> depth)::int AS redepthed,
           count(*) FILTER (WHERE stored_source IS NULL AND metadata_source IS NOT NULL)::int AS from_metadata
    FROM shaped`.execute(trx);

  const records = await count(sql`
    INSERT INTO records (space_id, session_id, role, content, tool_calls, tool_call_id, metadata, "timestamp")
    SELECT s.space_id, r.session_id, r.role, r.content,
           ${columns.toolCalls ? sql`CASE WHEN jsonb_typeof(r.tool_calls) = 'array' THEN r.tool_calls END` : sql`NULL::jsonb`},
           r.tool_call_id, r.metadata, r."timestamp"
    FROM ${L}.records r JOIN ${L}.sessions s ON s.id = r.session_id
    ORDER BY r.id`);
  const slots = await count(sql`
    INSERT INTO session_data (space_id, session_id, key, content, updated_at)
    SELECT s.space_id, d.session_id, d.key, d.content, d.updated_at
    FROM ${L}.session_data d JOIN ${L}.sessions s ON s.id = d.session_id`);
  const refs = await count(sql`
    INSERT INTO session_refs (space_id, from_id, to_id)
    SELECT f.space_id, r.from_id, r.to_id
    FROM ${L}.session_refs r
    JOIN ${L}.sessions f ON f.id = r.from_id
    JOIN ${L}.sessions t ON t.id = r.to_id AND t.space_id = f.space_id
    WHERE r.from_id <> r.to_id`);
  const { rows: allRefs } = await sql<{
    n: number;
  }>`SELECT count(*)::int AS n FROM ${L}.session_refs`.execute(trx);
  const globals = await count(sql`
    INSERT INTO core_data (space_id, path, value) SELECT space_id, path, value FROM ${L}.core_data`);

  const shape = tree[0] ?? { sessions: 0, reindexed: 0, redepthed: 0, from_metadata: 0 };
  return {
    users,
    spaces,
    sessions: shape.sessions,
    records,
    slots,
    refs,
    globals,
    reindexedSessions: shape.reindexed,
    redepthedSessions: shape.redepthed,
    provenanceFromMetadata: shape.from_metadata,
    droppedRefs: (allRefs[0]?.n ?? 0) - refs,
    usersWithUnusableKeys: unusable.rows.map((row) => row.id),
  };
}
