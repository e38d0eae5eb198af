import { isUuid } from '@stello-ai/db';
import type { ChildL2Summary, MainStorage, SessionFilter, SessionMeta } from '@stello-ai/session';
import { sql } from 'kysely';
import type pg from 'pg';
import { readCoreValue, writeCoreValue } from './internal/core-data-sql';
import { removeNodeRefusedError, SessionError, sessionNotFoundError } from './internal/domain-errors';
import { SESSION_COLUMNS } from './internal/sessions-sql';
import { createSqlContext, type PgTarget, type SqlContext } from './internal/sql-context';
import { runInTransaction } from './internal/transaction';
import { assertJsonObject, assertLabel, assertTags, assertText, toJsonParam } from './internal/validate';
import { type SessionDbRow, toSessionMeta } from './mappers';
import { withPgErrors } from './pg-errors';
import { PgSessionStorage, type PgSessionStorageOptions } from './pg-session-storage';

/** A lightweight topology node of the session package (`putNode`, `getChildren`). */
interface LightNode {
  id: string;
  parentId: string | null;
  label: string;
}

/**
 * `MainStorage` over PostgreSQL for one space: everything `PgSessionStorage` does, plus the
 * integration inputs and commit, the session list, light topology edits and space-wide globals
 * (`core_data`, shared with `PgMemoryEngine.readCore`).
 *
 * @example
 * ```ts
 * const main = new PgMainStorage(pool, spaceId);
 * const children = await main.getAllSessionL2s();
 * await main.commitIntegration(rootId, synthesis, insights);
 * ```
 */
export class PgMainStorage extends PgSessionStorage implements MainStorage {
  readonly #client: pg.Pool | pg.PoolClient;
  readonly #ctx: SqlContext;

  /**
   * Binds the storage to a pool or to one checked-out client, for one space (options as
   * `PgSessionStorage`'s).
   *
   * @throws SessionError `INVALID_ARGUMENT` when `spaceId` is not a uuid or an option is invalid
   */
  constructor(client: PgTarget, spaceId: string, options: PgSessionStorageOptions = {}) {
    super(client, spaceId, options);
    this.#ctx = createSqlContext(client, spaceId, options.preparedStatements ?? true);
    this.#client = this.#ctx.client;
  }

  /** Active standard sessions that have a memory slot, with it, ordered by depth then index. One statement. */
  getAllSessionL2s(): Promise<ChildL2Summary[]> {
    return withPgErrors(async () => {
      const rows = await this.#ctx.db
        .selectFrom('sessions as s')
        .innerJoin('session_data as d', (join) =>
          join
            .onRef('d.session_id', '=', 's.id')
            .onRef('d.space_id', '=', 's.space_id')
            .on('d.key', '=', 'memory'),
        )
        .select(['s.id', 's.label', 'd.content'])
        .where('s.space_id', '=', this.#ctx.spaceId)
        .where('s.role', '=', 'standard')
        .where('s.status', '=', 'active')
        .orderBy('s.depth')
        .orderBy('s.index')
        .execute();
      return rows.map((row) => ({ sessionId: row.id, label: row.label, l2: row.content }));
    });
  }

  /** Sessions of the space, filtered by status, role and tags (all of them), ordered by depth then index. */
  listSessions(filter: SessionFilter = {}): Promise<SessionMeta[]> {
    return withPgErrors(async () => {
      if (filter.tags !== undefined) assertTags(filter.tags, 'tags');
      const { rows } = await sql<SessionDbRow>`
        SELECT ${SESSION_COLUMNS} FROM sessions s
        WHERE s.space_id = ${this.#ctx.spaceId}
          ${filter.status === undefined ? sql`` : sql`AND s.status = ${filter.status}`}
          ${filter.role === undefined ? sql`` : sql`AND s.role = ${filter.role}`}
          ${filter.tags === undefined || filter.tags.length === 0 ? sql`` : sql`AND s.tags @> ${filter.tags}::text[]`}
        ORDER BY s.depth, s."index"`.execute(this.#ctx.db);
      return rows.map(toSessionMeta);
    });
  }

  /**
   * Renames a node, or moves it under another parent of the space: it takes the new parent's
   * next sibling index and the depth of its whole subtree is recomputed in the same statement.
   * Moves are serialized per space (a transaction-scoped advisory lock), so two concurrent moves
   * cannot build a cycle.
   *
   * @throws SessionError `SESSION_NOT_FOUND` (node or parent), `INVALID_ARGUMENT` (moving under
   * itself or a descendant, detaching a non-root, giving the root a parent)
   */
  putNode(node: LightNode): Promise<void> {
    return withPgErrors(async () => {
      assertJsonObject(node, 'node');
      assertLabel(node.label);
      if (!isUuid(node.id)) throw sessionNotFoundError(String(node.id));
      if (node.parentId === null) return this.#renameRoot(node.id, node.label);
      if (!isUuid(node.parentId)) throw sessionNotFoundError(String(node.parentId));
      const parentId = node.parentId;
      const outcome = await runInTransaction(this.#client, async (connection) => {
        const ctx = createSqlContext(connection, this.#ctx.spaceId);
        // Serializes moves within the space; the move below takes its snapshot after the lock.
        await sql`SELECT pg_advisory_xact_lock(hashtextextended(${`stello.tree:${ctx.spaceId}`}, 0))`.execute(
          ctx.db,
        );
        const { rows } = await sql<{ found: boolean; changed: number }>`
          WITH RECURSIVE node AS (
            SELECT id, parent_id FROM sessions
            WHERE id = ${node.id} AND space_id = ${ctx.spaceId} AND parent_id IS NOT NULL
          ),
          subtree(id, rel) AS (
            SELECT id, 0 FROM node
            UNION ALL
            SELECT c.id, subtree.rel + 1 FROM sessions c JOIN subtree ON c.parent_id = subtree.id
            WHERE c.space_id = ${ctx.spaceId}
          ),
          renamed AS (
            UPDATE sessions s SET label = ${node.label}, updated_at = now()
            FROM node WHERE s.id = node.id AND node.parent_id = ${parentId}
            RETURNING s.id
          ),
          new_parent AS (
            UPDATE sessions SET next_child_index = next_child_index + 1
            WHERE id = ${parentId} AND space_id = ${ctx.spaceId}
              AND EXISTS (SELECT 1 FROM node WHERE node.parent_id <> ${parentId})
              AND id NOT IN (SELECT subtree.id FROM subtree)
            RETURNING id, depth, next_child_index - 1 AS child_index
          ),
          moved AS (
            UPDATE sessions s
            SET parent_id = np.id, "index" = np.child_index, depth = np.depth + 1, label = ${node.label},
                updated_at = now()
            FROM node, new_parent np WHERE s.id = node.id
            RETURNING s.id
          ),
          redepth AS (
            UPDATE sessions s SET depth = np.depth + 1 + subtree.rel
            FROM subtree, new_parent np
            WHERE s.id = subtree.id AND subtree.rel > 0 AND s.space_id = ${ctx.spaceId}
            RETURNING s.id
          )
          SELECT EXISTS (SELECT 1 FROM node) AS found,
                 ((SELECT count(*) FROM renamed) + (SELECT count(*) FROM moved))::int AS changed`.execute(
          ctx.db,
        );
        return rows[0];
      });
      if (outcome?.changed) return;
      if (!outcome?.found) {
        const row = await this.getSessionRow(node.id);
        if (row?.parentId === null) {
          throw new SessionError('INVALID_ARGUMENT', 'the root session cannot be moved under a parent', {
            details: { field: 'parentId' },
          });
        }
        throw sessionNotFoundError(node.id);
      }
      if (!(await this.getSessionRow(parentId))) throw sessionNotFoundError(parentId);
      throw new SessionError(
        'INVALID_ARGUMENT',
        `cannot move session "${node.id}" under itself or a descendant`,
        {
          details: { field: 'parentId' },
        },
      );
    });
  }

  async #renameRoot(id: string, label: string): Promise<void> {
    const updated = await this.#ctx.db
      .updateTable('sessions')
      .set({ label, updated_at: sql`now()` })
      .where('id', '=', id)
      .where('space_id', '=', this.#ctx.spaceId)
      .where('parent_id', 'is', null)
      .returning('id')
      .executeTakeFirst();
    if (updated) return;
    if (await this.getSessionRow(id)) {
      throw new SessionError('INVALID_ARGUMENT', 'only the root session has no parent', {
        details: { field: 'parentId' },
      });
    }
    throw sessionNotFoundError(id);
  }

  /** The direct children of a session, by index; `[]` when it has none or is not in this space. */
  getChildren(parentId: string): Promise<LightNode[]> {
    return withPgErrors(async () => {
      if (!isUuid(parentId)) return [];
      const rows = await this.#ctx.db
        .selectFrom('sessions')
        .select(['id', 'parent_id', 'label'])
        .where('parent_id', '=', parentId)
        .where('space_id', '=', this.#ctx.spaceId)
        .orderBy('index')
        .execute();
      return rows.map((row) => ({ id: row.id, parentId: row.parent_id, label: row.label }));
    });
  }

  /**
   * Deletes a session and its whole subtree (records, slots and refs cascade) in one statement.
   * An id that is not a session of this space is a no-op: nothing of another space is touched.
   *
   * @throws SessionError `INVALID_ARGUMENT` for the root (a space keeps its root)
   */
  deleteSubtree(id: string): Promise<void> {
    return withPgErrors(async () => {
      if (!isUuid(id)) return;
      const removed = await this.#ctx.db
        .deleteFrom('sessions')
        .where('id', '=', id)
        .where('space_id', '=', this.#ctx.spaceId)
        .where('parent_id', 'is not', null)
        .returning('id')
        .executeTakeFirst();
      if (removed) return;
      // Nothing deleted: either the id is not here (a no-op) or it is the root, which stays.
      if (await this.getSessionRow(id)) {
        throw new SessionError('INVALID_ARGUMENT', 'the root session cannot be removed', {
          details: { field: 'id' },
        });
      }
    });
  }

  /**
   * Refuses, always, with `INVALID_OPERATION`, writing nothing. The original 0.2.x detached the
   * node here (`parent_id = NULL`), which left a second root; this name cannot keep that meaning
   * and must not quietly take another. Delete with `deleteSubtree`, move with `putNode`.
   */
  removeNode(id: string): Promise<never> {
    return Promise.reject(removeNodeRefusedError(id));
  }

  /** A space-wide value (`core_data`); `null` when the key is missing. */
  getGlobal(key: string): Promise<unknown | null> {
    return withPgErrors(async () => {
      assertText(key, 'key');
      return readCoreValue(this.#ctx, key);
    });
  }

  /** Upserts a space-wide JSON value. @throws SessionError `INVALID_ARGUMENT` for values JSON cannot hold */
  putGlobal(key: string, value: unknown): Promise<void> {
    return withPgErrors(async () => {
      assertLabel(key, 'key');
      await writeCoreValue(this.#ctx, key, toJsonParam(value, 'value'));
    });
  }

  /**
   * Integration's commit, in ONE statement: writes the main session's `memory` slot (the
   * synthesis) and upserts the `insight` slot of each named session. Every named id must be a
   * session of this space, or nothing at all is written; named sessions that are archived (or
   * the main session itself) are skipped, since only active standard sessions take insights.
   * When one id appears twice, the last insight wins.
   *
   * @throws SessionError `SESSION_NOT_FOUND` (main or a named session not in the space),
   * `NOT_MAIN_SESSION`, `INVALID_ARGUMENT`
   */
  commitIntegration(
    mainId: string,
    synthesis: string,
    insights: { sessionId: string; content: string }[],
  ): Promise<void> {
    return withPgErrors(async () => {
      assertText(synthesis, 'synthesis');
      if (!Array.isArray(insights)) {
        throw new SessionError('INVALID_ARGUMENT', 'insights must be an array', {
          details: { field: 'insights' },
        });
      }
      const latest = new Map<string, string>();
      for (const insight of insights) {
        assertJsonObject(insight, 'insights');
        assertText(insight.content, 'insights.content');
        if (!isUuid(insight.sessionId)) throw sessionNotFoundError(String(insight.sessionId));
        latest.set(insight.sessionId.toLowerCase(), insight.content);
      }
      if (!isUuid(mainId)) throw sessionNotFoundError(mainId);
      const insightsJson = toJsonParam(
        [...latest].map(([session_id, content]) => ({ session_id, content })),
        'insights',
      );
      const { rows } = await sql<{ main_found: boolean; missing_target: string | null }>`
        WITH main AS (
          SELECT id, space_id FROM sessions WHERE id = ${mainId} AND space_id = ${this.#ctx.spaceId} AND role = 'main'
        ),
        wanted AS (
          SELECT x.session_id, x.content FROM jsonb_to_recordset(${insightsJson}::jsonb) AS x(session_id uuid, content text)
        ),
        missing AS (
          SELECT w.session_id FROM wanted w
          WHERE NOT EXISTS (SELECT 1 FROM sessions s WHERE s.id = w.session_id AND s.space_id = ${this.#ctx.spaceId})
          LIMIT 1
        ),
        allowed AS (
          SELECT main.space_id, main.id FROM main WHERE NOT EXISTS (SELECT 1 FROM missing)
        ),
        synthesis AS (
          INSERT INTO session_data (space_id, session_id, key, content)
          SELECT allowed.space_id, allowed.id, 'memory', ${synthesis}::text FROM allowed
          ON CONFLICT (session_id, key) DO UPDATE SET content = excluded.content, updated_at = now()
          RETURNING 1
        ),
        delivered AS (
          INSERT INTO session_data (space_id, session_id, key, content)
          SELECT s.space_id, s.id, 'insight', w.content
          FROM wanted w
          JOIN sessions s ON s.id = w.session_id AND s.space_id = ${this.#ctx.spaceId}
                         AND s.role = 'standard' AND s.status = 'active'
          WHERE EXISTS (SELECT 1 FROM allowed)
          ON CONFLICT (session_id, key) DO UPDATE SET content = excluded.content, updated_at = now()
          RETURNING 1
        )
        SELECT EXISTS (SELECT 1 FROM main) AS main_found,
               (SELECT missing.session_id::text FROM missing) AS missing_target`.execute(this.#ctx.db);
      const outcome = rows[0];
      if (outcome?.main_found && outcome.missing_target === null) return;
      if (outcome?.main_found && outcome.missing_target !== null)
        throw sessionNotFoundError(outcome.missing_target);
      if (await this.getSessionRow(mainId)) {
        throw new SessionError('NOT_MAIN_SESSION', `session "${mainId}" is not the main session`, {
          details: { sessionId: mainId },
        });
      }
      throw sessionNotFoundError(mainId);
    });
  }
}
