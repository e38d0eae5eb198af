import { isUuid } from '@stello-ai/db';
import type { ChildSessionSpec, SessionStatus } from '@stello-ai/session';
import { sql } from 'kysely';
import type { SessionDbRow, SessionTopologyDbRow } from '../mappers';
import { SessionArchivedError, SessionError, sessionNotFoundError } from './domain-errors';
import { insertRecordsFrom } from './records-sql';
import type { SqlContext } from './sql-context';
import {
  assertJsonObject,
  assertLabel,
  assertOptionalText,
  assertTags,
  toJsonParam,
  toRecordsParam,
} from './validate';

/** Columns of `sessions` (aliased `s`) every read selects, in `SessionDbRow` shape. */
export const SESSION_COLUMNS = sql`s.id, s.parent_id, s.label, s.role, s.status, s.scope, s.depth, s."index",
  s.turn_count, s.tags, s.metadata, s.source_session_id, s.created_at, s.updated_at, s.last_active_at`;

/**
 * `SESSION_COLUMNS` plus the ids of the children (by index) and of the outgoing refs, aggregated
 * per row with index-backed correlated subqueries, so a node costs no extra round trip.
 */
export const SESSION_TOPOLOGY_COLUMNS = sql`${SESSION_COLUMNS},
  coalesce((SELECT array_agg(c.id::text ORDER BY c."index") FROM sessions c
            WHERE c.parent_id = s.id AND c.space_id = s.space_id), '{}'::text[]) AS children,
  coalesce((SELECT array_agg(r.to_id::text ORDER BY r.created_at, r.to_id) FROM session_refs r
            WHERE r.from_id = s.id AND r.space_id = s.space_id), '{}'::text[]) AS refs`;

/** One session row of the space; `null` when missing (or not a uuid). */
export async function selectSession(ctx: SqlContext, id: string): Promise<SessionDbRow | null> {
  if (!isUuid(id)) return null;
  const { rows } = await sql<SessionDbRow>`
    SELECT ${SESSION_COLUMNS} FROM sessions s WHERE s.id = ${id} AND s.space_id = ${ctx.spaceId}`.execute(
    ctx.db,
  );
  return rows[0] ?? null;
}

/** One session row of the space with its children and refs; `null` when missing. */
export async function selectSessionTopology(
  ctx: SqlContext,
  id: string,
): Promise<SessionTopologyDbRow | null> {
  if (!isUuid(id)) return null;
  const { rows } = await sql<SessionTopologyDbRow>`
    SELECT ${SESSION_TOPOLOGY_COLUMNS} FROM sessions s
    WHERE s.id = ${id} AND s.space_id = ${ctx.spaceId}`.execute(ctx.db);
  return rows[0] ?? null;
}

/** The status of a session of the space, or `null`; only failure paths ask, to explain a write that matched nothing. */
export async function selectSessionStatus(ctx: SqlContext, id: string): Promise<SessionStatus | null> {
  const row = await ctx.db
    .selectFrom('sessions')
    .select('status')
    .where('id', '=', id)
    .where('space_id', '=', ctx.spaceId)
    .executeTakeFirst();
  return row?.status ?? null;
}

/**
 * The provenance the original 0.2.x orchestrator passed in `metadata.sourceSessionId` (it had no
 * field for it); used when the caller gives no `sourceSessionId` of its own.
 */
export function legacySourceId(metadata: Record<string, unknown>): string | undefined {
  const id = metadata.sourceSessionId;
  return typeof id === 'string' ? id : undefined;
}

/** What only `putSession`'s create path fixes itself when it inserts a child. */
export interface ChildOverrides {
  /** The caller's id (the original `fork()` picks it); a random uuid otherwise. */
  id?: string;
  /** The status to create it with; `active` otherwise. */
  status?: SessionStatus;
}

/**
 * Creates a child under `parentId` in ONE statement. The first CTE bumps the parent's
 * `next_child_index` under its row lock: concurrent forks queue on that lock and, under READ
 * COMMITTED, re-read the bumped value, so every child gets its own index (and the unique
 * `(parent_id, index)` backs it). The child row, its system prompt and its seed records are
 * inserted from that CTE, so nothing is written when the parent is missing or archived.
 *
 * @throws SessionError `SESSION_NOT_FOUND` (parent not in the space), `SESSION_ARCHIVED`, `INVALID_ARGUMENT`
 */
export async function insertChild(
  ctx: SqlContext,
  parentId: string,
  spec: ChildSessionSpec,
  fixed: ChildOverrides = {},
): Promise<SessionDbRow> {
  if (typeof spec !== 'object' || spec === null) {
    throw new SessionError('INVALID_ARGUMENT', 'child spec must be an object', {
      details: { field: 'spec' },
    });
  }
  assertLabel(spec.label);
  assertOptionalText(spec.scope, 'scope');
  assertOptionalText(spec.systemPrompt, 'systemPrompt');
  const tags = spec.tags ?? [];
  assertTags(tags, 'tags');
  const metadata = spec.metadata ?? {};
  assertJsonObject(metadata, 'metadata');
  const metadataJson = toJsonParam(metadata, 'metadata');
  const recordsJson = toRecordsParam(spec.records ?? []);
  if (!isUuid(parentId)) throw sessionNotFoundError(parentId);
  const childId = fixed.id ?? null;
  const childStatus = fixed.status ?? 'active';
  // A provenance id that is not a session of this space is dropped rather than leaked across spaces.
  const provenance = spec.sourceSessionId !== undefined ? spec.sourceSessionId : legacySourceId(metadata);
  const sourceId = isUuid(provenance) ? provenance : null;
  const systemPrompt =
    spec.systemPrompt === undefined
      ? sql`(SELECT d.content FROM session_data d
             WHERE d.session_id = parent.id AND d.space_id = parent.space_id AND d.key = 'system_prompt')`
      : sql`${spec.systemPrompt}::text`;

  const { rows } = await sql<SessionDbRow>`
    WITH parent AS (
      UPDATE sessions SET next_child_index = next_child_index + 1
      WHERE id = ${parentId} AND space_id = ${ctx.spaceId} AND status = 'active'
      RETURNING id, space_id, depth, next_child_index - 1 AS child_index
    ),
    child AS (
      INSERT INTO sessions AS s (id, space_id, parent_id, label, role, status, scope, depth, "index", tags, metadata,
                                 source_session_id)
      SELECT coalesce(${childId}::uuid, gen_random_uuid()), parent.space_id, parent.id, ${spec.label}, 'standard',
             ${childStatus}::text, ${spec.scope ?? null}::text,
             parent.depth + 1, parent.child_index, ${tags}::text[], ${metadataJson}::jsonb,
             (SELECT src.id FROM sessions src WHERE src.id = ${sourceId}::uuid AND src.space_id = parent.space_id)
      FROM parent
      RETURNING ${SESSION_COLUMNS}, s.space_id
    ),
    prompt AS (
      INSERT INTO session_data (space_id, session_id, key, content)
      SELECT child.space_id, child.id, 'system_prompt', p.content
      FROM child CROSS JOIN parent CROSS JOIN LATERAL (SELECT ${systemPrompt} AS content) p
      WHERE p.content IS NOT NULL
      RETURNING 1
    ),
    seed AS (${insertRecordsFrom(sql`child`, recordsJson)} RETURNING 1)
    SELECT id, parent_id, label, role, status, scope, depth, "index", turn_count, tags, metadata, source_session_id,
           created_at, updated_at, last_active_at
    FROM child`.execute(ctx.db);

  const row = rows[0];
  if (row) return row;
  const status = await selectSessionStatus(ctx, parentId);
  if (status === 'archived') throw new SessionArchivedError(parentId);
  throw sessionNotFoundError(parentId);
}

/** What `insertRoot` writes. */
export interface RootSpec {
  /** Fixed id (from `putSession`); a random one otherwise. */
  id?: string;
  label: string;
  status?: SessionStatus;
  tags?: string[];
  metadata?: Record<string, unknown>;
}

/**
 * Creates the space's root unless it has one, and returns the root either way, with its children
 * and refs. One statement (`INSERT … ON CONFLICT DO NOTHING` against the one-root index, else the
 * existing row); a second read only when another transaction created the root after this
 * statement's snapshot. `null` when nothing could be inserted and the space has no root (the
 * fixed id is taken in another space).
 */
export async function insertRoot(ctx: SqlContext, spec: RootSpec): Promise<SessionTopologyDbRow | null> {
  assertLabel(spec.label);
  const tags = spec.tags ?? [];
  assertTags(tags, 'tags');
  const metadata = spec.metadata ?? {};
  assertJsonObject(metadata, 'metadata');
  const metadataJson = toJsonParam(metadata, 'metadata');
  const status = spec.status ?? 'active';
  const { rows } = await sql<SessionTopologyDbRow>`
    WITH inserted AS (
      INSERT INTO sessions AS s (id, space_id, parent_id, label, role, status, depth, "index", tags, metadata)
      VALUES (coalesce(${spec.id ?? null}::uuid, gen_random_uuid()), ${ctx.spaceId}, NULL, ${spec.label}, 'main',
              ${status}, 0, 0, ${tags}::text[], ${metadataJson}::jsonb)
      ON CONFLICT DO NOTHING
      RETURNING ${SESSION_COLUMNS}
    )
    SELECT *, '{}'::text[] AS children, '{}'::text[] AS refs FROM inserted
    UNION ALL
    SELECT ${SESSION_TOPOLOGY_COLUMNS} FROM sessions s
    WHERE s.space_id = ${ctx.spaceId} AND s.parent_id IS NULL AND NOT EXISTS (SELECT 1 FROM inserted)`.execute(
    ctx.db,
  );
  if (rows[0]) return rows[0];
  const { rows: later } = await sql<SessionTopologyDbRow>`
    SELECT ${SESSION_TOPOLOGY_COLUMNS} FROM sessions s
    WHERE s.space_id = ${ctx.spaceId} AND s.parent_id IS NULL`.execute(ctx.db);
  return later[0] ?? null;
}
