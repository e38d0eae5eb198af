// One file over the size rule on purpose: `PgSessionTree` implements the seeds' `SessionTree`, one
// method per member; the shared SQL is in internal/sessions-sql.ts and internal/session-page-sql.ts.
import type {
  CreateChildOptions,
  SessionInfo,
  SessionListOptions,
  SessionListPage,
  SessionMeta,
  SessionMetaPatch,
  SessionTree,
  SessionTreeNode,
  TopologyNode,
} from '@stello-ai/core';
import { isUuid } from '@stello-ai/db';
import { sql } from 'kysely';
import { CoreError, SessionError, sessionNotFoundError } from './internal/domain-errors';
import { selectSessionPage } from './internal/session-page-sql';
import {
  insertChild,
  insertRoot,
  SESSION_COLUMNS,
  SESSION_TOPOLOGY_COLUMNS,
  selectSession,
  selectSessionTopology,
} from './internal/sessions-sql';
import { createSqlContext, type PgTarget, type SqlContext } from './internal/sql-context';
import {
  assertJsonObject,
  assertLabel,
  assertOptionalText,
  assertTags,
  toJsonParam,
} from './internal/validate';
import {
  type SessionDbRow,
  type SessionTopologyDbRow,
  toCoreSessionMeta,
  toSessionInfo,
  toSessionTreeNode,
  toTopologyNode,
} from './mappers';
import { withPgErrors } from './pg-errors';

/** Label of a root created without one (the same default as core's in-memory tree). */
const DEFAULT_ROOT_LABEL = 'Main Session';

function assertTurnCount(value: unknown): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0 || value > 2_147_483_647) {
    throw new SessionError('INVALID_ARGUMENT', 'turnCount must be a non-negative integer', {
      details: { field: 'turnCount' },
    });
  }
}

function invalidRef(fromId: string, toId: string, reason: 'self' | 'lineage'): CoreError {
  const what = reason === 'self' ? 'itself' : 'an ancestor or a descendant';
  return new CoreError('INVALID_REF', `session "${fromId}" cannot reference ${what} "${toId}"`, {
    details: { fromId, toId, reason },
  });
}

/**
 * Core's `SessionTree` over PostgreSQL for one space: the topology of sessions.
 *
 * Every read of a node, of the whole tree, of ancestors or siblings is ONE statement whatever
 * the tree's size (children and refs are aggregated in SQL; ancestors come from a recursive
 * CTE). Forks take the next sibling index under the parent's row lock, so concurrent forks get
 * distinct indexes. Ids of another space, and strings that are not uuids, are missing.
 *
 * @example
 * ```ts
 * const tree = new PgSessionTree(pool, spaceId);
 * const root = await tree.createRoot('My space');
 * const child = await tree.createChild({ parentId: root.id, label: 'Research' });
 * ```
 */
export class PgSessionTree implements SessionTree {
  readonly #ctx: SqlContext;

  /**
   * Binds the tree to a pool or to one checked-out client, for one space.
   *
   * @throws SessionError `INVALID_ARGUMENT` when `spaceId` is not a uuid
   */
  constructor(client: PgTarget, spaceId: string) {
    this.#ctx = createSqlContext(client, spaceId);
  }

  /** Creates the space's root unless it has one; returns the root either way (idempotent, race-safe). */
  createRoot(label: string = DEFAULT_ROOT_LABEL): Promise<TopologyNode> {
    return withPgErrors(async () => {
      const root = await insertRoot(this.#ctx, { label });
      // Only reachable if the root was deleted between the insert and the re-read.
      if (!root) throw sessionNotFoundError('root');
      return toTopologyNode(root);
    });
  }

  /**
   * Creates a child in ONE statement (see `PgSessionStorage.createChild`).
   *
   * @throws SessionError `SESSION_NOT_FOUND`, `SESSION_ARCHIVED` (parent), `INVALID_ARGUMENT`
   */
  createChild(options: CreateChildOptions): Promise<TopologyNode> {
    return withPgErrors(async () => {
      assertJsonObject(options, 'options');
      const { parentId, ...spec } = options;
      const row = await insertChild(this.#ctx, parentId, spec);
      return toTopologyNode({ ...row, children: [], refs: [] });
    });
  }

  /** A session's meta; `null` when not in this space. */
  get(id: string): Promise<SessionMeta | null> {
    return withPgErrors(async () => {
      const row = await selectSession(this.#ctx, id);
      return row ? toCoreSessionMeta(row) : null;
    });
  }

  /** The root's meta. @throws SessionError `SESSION_NOT_FOUND` when the space has no root */
  getRoot(): Promise<SessionMeta> {
    return withPgErrors(async () => {
      const { rows } = await sql<SessionDbRow>`
        SELECT ${SESSION_COLUMNS} FROM sessions s
        WHERE s.space_id = ${this.#ctx.spaceId} AND s.parent_id IS NULL`.execute(this.#ctx.db);
      const row = rows[0];
      if (!row) {
        throw new SessionError('SESSION_NOT_FOUND', 'the space has no root session', {
          details: { spaceId: this.#ctx.spaceId },
        });
      }
      return toCoreSessionMeta(row);
    });
  }

  /** Every session's meta, by depth then index. One statement. */
  listAll(): Promise<SessionMeta[]> {
    return withPgErrors(async () => (await this.#selectAll()).map(toCoreSessionMeta));
  }

  /** Every session with its topology (children by index, refs), by depth then index. One statement. */
  listInfo(): Promise<SessionInfo[]> {
    return withPgErrors(async () => {
      const { rows } = await sql<SessionTopologyDbRow>`
        SELECT ${SESSION_COLUMNS}, NULL::text[] AS children,
          coalesce((SELECT array_agg(r.to_id::text ORDER BY r.created_at, r.to_id) FROM session_refs r
                    WHERE r.from_id = s.id AND r.space_id = s.space_id), '{}'::text[]) AS refs
        FROM sessions s WHERE s.space_id = ${this.#ctx.spaceId}
        ORDER BY s.depth, s."index"`.execute(this.#ctx.db);
      // Rows come by depth then index, so pushing each id onto its parent keeps children in index order.
      const children = new Map<string, string[]>();
      for (const row of rows) {
        if (row.parent_id === null) continue;
        const list = children.get(row.parent_id);
        if (list) list.push(row.id);
        else children.set(row.parent_id, [row.id]);
      }
      return rows.map((row) => toSessionInfo({ ...row, children: children.get(row.id) ?? [] }));
    });
  }

  /**
   * One filtered page of the sessions with their topology, by depth, index, then id, after an
   * opaque cursor (keyset: stable under concurrent forks). One statement; `limit` is capped at
   * 1000. Tags must all be present, the label prefix is literal, metadata values match by JSON
   * equality of the key.
   *
   * @throws SessionError `INVALID_ARGUMENT` for a bad limit, cursor or filter
   */
  listPage(options: SessionListOptions): Promise<SessionListPage> {
    return withPgErrors(() => selectSessionPage(this.#ctx, options));
  }

  /** One session with its topology; `null` when not in this space. One statement. */
  getInfo(id: string): Promise<SessionInfo | null> {
    return withPgErrors(async () => {
      const row = await selectSessionTopology(this.#ctx, id);
      return row ? toSessionInfo(row) : null;
    });
  }

  /** Marks a session archived (children untouched). @throws SessionError `SESSION_NOT_FOUND` */
  archive(id: string): Promise<void> {
    return withPgErrors(async () => {
      if (!isUuid(id)) throw sessionNotFoundError(id);
      const updated = await this.#ctx.db
        .updateTable('sessions')
        // Archiving twice is a no-op: the second call keeps the first `updatedAt`.
        .set({
          status: 'archived',
          updated_at: sql`CASE WHEN status = 'archived' THEN updated_at ELSE now() END`,
        })
        .where('id', '=', id)
        .where('space_id', '=', this.#ctx.spaceId)
        .returning('id')
        .executeTakeFirst();
      if (!updated) throw sessionNotFoundError(id);
    });
  }

  /**
   * Adds a cross-branch reference in ONE statement; idempotent.
   *
   * @throws CoreError `INVALID_REF` for a self, ancestor or descendant reference
   * @throws SessionError `SESSION_NOT_FOUND` when either session is not in this space
   */
  addRef(fromId: string, toId: string): Promise<void> {
    return withPgErrors(async () => {
      if (!isUuid(fromId)) throw sessionNotFoundError(fromId);
      if (!isUuid(toId)) throw sessionNotFoundError(toId);
      // Each lineage walks up from one end (itself included); the pair is related when either end
      // is on the other's lineage, which also covers a self reference.
      const { rows } = await sql<{ has_from: boolean; has_to: boolean; related: boolean }>`
        WITH RECURSIVE from_line(id, parent_id) AS (
          SELECT id, parent_id FROM sessions WHERE id = ${fromId} AND space_id = ${this.#ctx.spaceId}
          UNION ALL
          SELECT p.id, p.parent_id FROM sessions p JOIN from_line l ON p.id = l.parent_id
          WHERE p.space_id = ${this.#ctx.spaceId}
        ),
        to_line(id, parent_id) AS (
          SELECT id, parent_id FROM sessions WHERE id = ${toId} AND space_id = ${this.#ctx.spaceId}
          UNION ALL
          SELECT p.id, p.parent_id FROM sessions p JOIN to_line l ON p.id = l.parent_id
          WHERE p.space_id = ${this.#ctx.spaceId}
        ),
        verdict AS (
          SELECT EXISTS (SELECT 1 FROM from_line WHERE id = ${fromId}) AS has_from,
                 EXISTS (SELECT 1 FROM to_line WHERE id = ${toId}) AS has_to,
                 (EXISTS (SELECT 1 FROM from_line WHERE id = ${toId})
                  OR EXISTS (SELECT 1 FROM to_line WHERE id = ${fromId})) AS related
        ),
        inserted AS (
          INSERT INTO session_refs (space_id, from_id, to_id)
          SELECT ${this.#ctx.spaceId}, ${fromId}, ${toId} FROM verdict
          WHERE verdict.has_from AND verdict.has_to AND NOT verdict.related
          ON CONFLICT (from_id, to_id) DO NOTHING
          RETURNING 1
        )
        SELECT has_from, has_to, related FROM verdict`.execute(this.#ctx.db);
      const verdict = rows[0];
      if (!verdict?.has_from) throw sessionNotFoundError(fromId);
      if (!verdict.has_to) throw sessionNotFoundError(toId);
      if (fromId.toLowerCase() === toId.toLowerCase()) throw invalidRef(fromId, toId, 'self');
      if (verdict.related) throw invalidRef(fromId, toId, 'lineage');
    });
  }

  /**
   * Partially updates label, scope, tags, metadata and the turn count in one statement; returns the
   * new meta. `turnCount` sets the stored count as the original 0.2.x did (its scheduler wrote it
   * after each round); turns keep counting from the value set.
   *
   * @throws SessionError `SESSION_NOT_FOUND`, `INVALID_ARGUMENT`
   */
  updateMeta(id: string, patch: SessionMetaPatch): Promise<SessionMeta> {
    return withPgErrors(async () => {
      assertJsonObject(patch, 'patch');
      if (patch.label !== undefined) assertLabel(patch.label);
      assertOptionalText(patch.scope, 'scope');
      if (patch.tags !== undefined) assertTags(patch.tags, 'tags');
      if (patch.metadata !== undefined) assertJsonObject(patch.metadata, 'metadata');
      if (patch.turnCount !== undefined) assertTurnCount(patch.turnCount);
      if (!isUuid(id)) throw sessionNotFoundError(id);
      const { rows } = await sql<SessionDbRow>`
        UPDATE sessions AS s SET
          label = ${patch.label === undefined ? sql`s.label` : sql`${patch.label}::text`},
          scope = ${patch.scope === undefined ? sql`s.scope` : sql`${patch.scope}::text`},
          tags = ${patch.tags === undefined ? sql`s.tags` : sql`${patch.tags}::text[]`},
          metadata = ${patch.metadata === undefined ? sql`s.metadata` : sql`${toJsonParam(patch.metadata, 'metadata')}::jsonb`},
          turn_count = ${patch.turnCount === undefined ? sql`s.turn_count` : sql`${patch.turnCount}::integer`},
          updated_at = now()
        WHERE s.id = ${id} AND s.space_id = ${this.#ctx.spaceId}
        RETURNING ${SESSION_COLUMNS}`.execute(this.#ctx.db);
      const row = rows[0];
      if (!row) throw sessionNotFoundError(id);
      return toCoreSessionMeta(row);
    });
  }

  /** A session's topology (children by index, refs); `null` when not in this space. One statement. */
  getNode(id: string): Promise<TopologyNode | null> {
    return withPgErrors(async () => {
      const row = await selectSessionTopology(this.#ctx, id);
      return row ? toTopologyNode(row) : null;
    });
  }

  /**
   * The nested tree from the root, children by index: one statement, assembled in memory.
   *
   * @throws SessionError `SESSION_NOT_FOUND` when the space has no root
   */
  getTree(): Promise<SessionTreeNode> {
    return withPgErrors(async () => {
      const rows = await this.#selectAll();
      const nodes = new Map<string, SessionTreeNode>();
      let root: SessionTreeNode | undefined;
      // Rows come by depth then index: every parent precedes its children, in sibling order.
      for (const row of rows) {
        const node = toSessionTreeNode(row);
        nodes.set(row.id, node);
        if (row.parent_id === null) root = node;
        else nodes.get(row.parent_id)?.children.push(node);
      }
      if (!root) {
        throw new SessionError('SESSION_NOT_FOUND', 'the space has no root session', {
          details: { spaceId: this.#ctx.spaceId },
        });
      }
      return root;
    });
  }

  /**
   * The ancestors, parent first, root last; `[]` for the root or an unknown id. One statement.
   * Each is meta and topology together (`SessionInfo`), so it is both our `SessionMeta` and the
   * original 0.2.x interface's `TopologyNode`.
   */
  getAncestors(id: string): Promise<SessionInfo[]> {
    return withPgErrors(async () => {
      if (!isUuid(id)) return [];
      const { rows } = await sql<SessionTopologyDbRow & { level: number }>`
        WITH RECURSIVE line(id, parent_id, level) AS (
          SELECT id, parent_id, 0 FROM sessions WHERE id = ${id} AND space_id = ${this.#ctx.spaceId}
          UNION ALL
          SELECT p.id, p.parent_id, line.level + 1 FROM sessions p JOIN line ON p.id = line.parent_id
          WHERE p.space_id = ${this.#ctx.spaceId}
        )
        SELECT ${SESSION_TOPOLOGY_COLUMNS}, line.level FROM line JOIN sessions s ON s.id = line.id
        WHERE line.level > 0
        ORDER BY line.level`.execute(this.#ctx.db);
      return rows.map(toSessionInfo);
    });
  }

  /** The other children of the session's parent, by index, with their topology; `[]` for the root. One statement. */
  getSiblings(id: string): Promise<TopologyNode[]> {
    return withPgErrors(async () => {
      if (!isUuid(id)) return [];
      const { rows } = await sql<SessionTopologyDbRow>`
        SELECT ${SESSION_TOPOLOGY_COLUMNS}
        FROM sessions me JOIN sessions s ON s.parent_id = me.parent_id AND s.space_id = me.space_id
        WHERE me.id = ${id} AND me.space_id = ${this.#ctx.spaceId} AND s.id <> me.id
        ORDER BY s."index"`.execute(this.#ctx.db);
      return rows.map(toTopologyNode);
    });
  }

  async #selectAll(): Promise<SessionDbRow[]> {
    const { rows } = await sql<SessionDbRow>`
      SELECT ${SESSION_COLUMNS} FROM sessions s WHERE s.space_id = ${this.#ctx.spaceId}
      ORDER BY s.depth, s."index"`.execute(this.#ctx.db);
    return rows;
  }
}
