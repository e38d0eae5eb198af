// One file over the size rule on purpose: export, import and archive of a subtree share the
// recursive CTEs and the row mapping of one document format (subtree-document.ts).
import { randomUUID } from 'node:crypto';
import { isUuid } from '@stello-ai/db';
import { sql } from 'kysely';
import { CoreError, SessionArchivedError, sessionNotFoundError } from '../internal/domain-errors';
import { selectSessionStatus } from '../internal/sessions-sql';
import { createSqlContext, type PgTarget, type SqlContext } from '../internal/sql-context';
import { toJsonParam } from '../internal/validate';
import { toIso } from '../mappers';
import { withPgErrors } from '../pg-errors';
import {
  parseSubtreeDocument,
  type ResolvedSubtreeLimits,
  resolveSubtreeLimits,
  SUBTREE_FORMAT,
  SUBTREE_VERSION,
  type SubtreeDocument,
  type SubtreeLimits,
  type SubtreeRecord,
  type SubtreeSession,
  type SubtreeSlots,
  subtreeTooLarge,
} from './subtree-document';

/** What `importSubtree` created. */
export interface SubtreeImportResult {
  /** The database id of the copy's root (a new child of the parent). */
  rootId: string;
  /** The parent the copy was attached under. */
  parentId: string;
  /** Each relative id of the document → the database id of its copy. */
  idMap: Record<string, string>;
  /** Sessions created. */
  sessions: number;
  /** Records created. */
  records: number;
}

/** What `archiveSubtree` changed. */
export interface SubtreeArchiveResult {
  /** The subtree's root. */
  sessionId: string;
  /** The sessions this call archived (those already archived are left as they were). */
  archivedIds: string[];
}

interface ExportRow {
  id: string;
  parent_id: string | null;
  label: string;
  status: 'active' | 'archived';
  scope: string | null;
  index: number;
  next_child_index: number;
  turn_count: number;
  tags: string[];
  metadata: Record<string, unknown> | null;
  source_session_id: string | null;
  slots: SubtreeSlots | null;
  refs: string[] | null;
  records: ExportRecordRow[] | null;
  session_count: string | number;
  record_count: string | number;
  byte_count: string | number;
}

interface ExportRecordRow {
  role: SubtreeRecord['role'];
  content: string;
  tool_calls: unknown[] | null;
  tool_call_id: string | null;
  metadata: Record<string, unknown> | null;
  timestamp: string;
}

/**
 * Whole subtrees of one space's session tree, over PostgreSQL: export as a JSON document
 * (`SubtreeDocument`), import a document as a new copy, archive. Each is ONE statement, so an
 * export reads one snapshot and an import or an archive is all or nothing. Every statement is
 * scoped to the space; ids of another space are missing.
 *
 * @example
 * ```ts
 * const doc = await new PgSubtreeStore(stores, spaceA).exportSubtree(sessionId);
 * const { rootId, idMap } = await new PgSubtreeStore(stores, spaceB).importSubtree(doc);
 * ```
 */
export class PgSubtreeStore {
  readonly #ctx: SqlContext;
  readonly #limits: ResolvedSubtreeLimits;

  /**
   * Binds the store to a pool (or client, or `PgStores`) and one space, with its bounds.
   *
   * @throws SessionError `INVALID_ARGUMENT` when `spaceId` is not a uuid or a limit is not a positive integer
   */
  constructor(client: PgTarget, spaceId: string, limits: SubtreeLimits = {}) {
    this.#ctx = createSqlContext(client, spaceId);
    this.#limits = resolveSubtreeLimits(limits);
  }

  /** The bounds in force, defaults filled in. */
  get limits(): Readonly<ResolvedSubtreeLimits> {
    return this.#limits;
  }

  /**
   * The subtree under `sessionId` (the whole tree from the root when omitted) as a document.
   * The bounds are checked in the same statement before any record is aggregated.
   *
   * @throws SessionError `SESSION_NOT_FOUND`; StorageError `SUBTREE_TOO_LARGE`
   */
  exportSubtree(sessionId?: string): Promise<SubtreeDocument> {
    return withPgErrors(async () => {
      if (sessionId !== undefined && !isUuid(sessionId)) throw sessionNotFoundError(sessionId);
      const rows = await this.#selectSubtree(sessionId ?? null);
      const root = rows[0];
      if (!root) throw sessionNotFoundError(sessionId ?? 'root');
      const { maxSessions, maxRecords, maxBytes } = this.#limits;
      const sessions = Number(root.session_count);
      const records = Number(root.record_count);
      const bytes = Number(root.byte_count);
      if (sessions > maxSessions) throw subtreeTooLarge('maxSessions', maxSessions, sessions);
      if (records > maxRecords) throw subtreeTooLarge('maxRecords', maxRecords, records);
      if (bytes > maxBytes) throw subtreeTooLarge('maxBytes', maxBytes, bytes);
      return toDocument(rows);
    });
  }

  /**
   * Imports `document` as a new subtree: new ids, the same shape and contents. Its root becomes
   * the next child of `parentId` (of the space's root when omitted); statuses, turn counts,
   * slots, refs and record timestamps are kept. One statement: nothing is written unless all is.
   *
   * @throws SessionError `INVALID_ARGUMENT` (bad document), `SESSION_NOT_FOUND`, `SESSION_ARCHIVED`
   *   (parent); StorageError `SUBTREE_TOO_LARGE`
   */
  importSubtree(document: unknown, parentId?: string): Promise<SubtreeImportResult> {
    return withPgErrors(async () => {
      const doc = parseSubtreeDocument(document, this.#limits);
      if (parentId !== undefined && !isUuid(parentId)) throw sessionNotFoundError(parentId);
      const idMap: Record<string, string> = {};
      for (const session of doc.sessions) idMap[session.id] = randomUUID();
      const params = toImportParams(doc, idMap);
      const { rows } = await sql<{ parent_id: string | null }>`
        WITH parent AS (
          UPDATE sessions SET next_child_index = next_child_index + 1
          WHERE space_id = ${this.#ctx.spaceId} AND status = 'active'
            AND ${parentId === undefined ? sql`parent_id IS NULL` : sql`id = ${parentId}`}
          RETURNING id, space_id, depth, next_child_index - 1 AS child_index
        ),
        new_sessions AS (
          INSERT INTO sessions (id, space_id, parent_id, label, role, status, scope, depth, "index",
                                next_child_index, turn_count, tags, metadata, source_session_id)
          SELECT (e->>'id')::uuid, parent.space_id, coalesce((e->>'parent_id')::uuid, parent.id), e->>'label',
                 'standard', e->>'status', e->>'scope', parent.depth + 1 + (e->>'depth')::int,
                 CASE WHEN e->>'parent_id' IS NULL THEN parent.child_index ELSE (e->>'index')::int END,
                 (e->>'next_child_index')::int, (e->>'turn_count')::int,
                 ARRAY(SELECT jsonb_array_elements_text(e->'tags')), e->'metadata', (e->>'source_session_id')::uuid
          FROM parent CROSS JOIN jsonb_array_elements(${params.sessions}::jsonb) AS x(e)
          RETURNING 1
        ),
        new_records AS (
          INSERT INTO records (space_id, session_id, role, content, tool_calls, tool_call_id, metadata, "timestamp")
          SELECT parent.space_id, (e->>'session_id')::uuid, e->>'role', e->>'content', e->'tool_calls',
                 e->>'tool_call_id', e->'metadata', (e->>'timestamp')::timestamptz
          FROM parent CROSS JOIN jsonb_array_elements(${params.records}::jsonb) WITH ORDINALITY AS x(e, ord)
          ORDER BY x.ord
          RETURNING 1
        ),
        new_slots AS (
          INSERT INTO session_data (space_id, session_id, key, content)
          SELECT parent.space_id, (e->>'session_id')::uuid, e->>'key', e->>'content'
          FROM parent CROSS JOIN jsonb_array_elements(${params.slots}::jsonb) AS x(e)
          RETURNING 1
        ),
        new_refs AS (
          INSERT INTO session_refs (space_id, from_id, to_id)
          SELECT parent.space_id, (e->>'from_id')::uuid, (e->>'to_id')::uuid
          FROM parent CROSS JOIN jsonb_array_elements(${params.refs}::jsonb) AS x(e)
          RETURNING 1
        )
        SELECT id::text AS parent_id FROM parent`.execute(this.#ctx.db);
      const attachedTo = rows[0]?.parent_id;
      if (!attachedTo) throw await this.#missingParent(parentId);
      const rootRelative = doc.sessions[0]!.id;
      return {
        rootId: idMap[rootRelative]!,
        parentId: attachedTo,
        idMap,
        sessions: doc.sessions.length,
        records: params.recordCount,
      };
    });
  }

  /**
   * Archives `sessionId` and every descendant in ONE statement (a recursive CTE); sessions
   * already archived keep their `updatedAt`. The root of the tree (the main session) cannot be
   * archived.
   *
   * @throws SessionError `SESSION_NOT_FOUND`; CoreError `INVALID_OPERATION` for the main session
   */
  archiveSubtree(sessionId: string): Promise<SubtreeArchiveResult> {
    return withPgErrors(async () => {
      if (!isUuid(sessionId)) throw sessionNotFoundError(sessionId);
      const space = this.#ctx.spaceId;
      const { rows } = await sql<{ found: boolean; is_main: boolean; archived_ids: string[] | null }>`
        WITH RECURSIVE target AS (
          SELECT id, parent_id FROM sessions WHERE id = ${sessionId} AND space_id = ${space}
        ),
        subtree(id) AS (
          SELECT id FROM target WHERE parent_id IS NOT NULL
          UNION ALL
          SELECT c.id FROM sessions c JOIN subtree ON c.parent_id = subtree.id WHERE c.space_id = ${space}
        ),
        archived AS (
          UPDATE sessions s SET status = 'archived', updated_at = now()
          FROM subtree WHERE s.id = subtree.id AND s.space_id = ${space} AND s.status <> 'archived'
          RETURNING s.id, s.depth, s."index"
        )
        SELECT EXISTS (SELECT 1 FROM target) AS found,
               coalesce((SELECT parent_id IS NULL FROM target), false) AS is_main,
               (SELECT array_agg(id::text ORDER BY depth, "index") FROM archived) AS archived_ids`.execute(
        this.#ctx.db,
      );
      const verdict = rows[0];
      if (!verdict?.found) throw sessionNotFoundError(sessionId);
      if (verdict.is_main) {
        throw new CoreError('INVALID_OPERATION', 'the main session cannot be archived', {
          details: { sessionId },
        });
      }
      return { sessionId, archivedIds: verdict.archived_ids ?? [] };
    });
  }

  /**
   * The subtree's rows, root first then by depth and index, each with its slots, internal refs
   * and (only when within the bounds) its records; every row carries the subtree's totals.
   */
  async #selectSubtree(sessionId: string | null): Promise<ExportRow[]> {
    const space = this.#ctx.spaceId;
    const { maxSessions, maxRecords, maxBytes } = this.#limits;
    const start = sessionId === null ? sql`s.parent_id IS NULL` : sql`s.id = ${sessionId}`;
    const { rows } = await sql<ExportRow>`
      WITH RECURSIVE subtree(id, rel_depth) AS (
        SELECT s.id, 0 FROM sessions s WHERE s.space_id = ${space} AND ${start}
        UNION ALL
        SELECT c.id, subtree.rel_depth + 1 FROM sessions c JOIN subtree ON c.parent_id = subtree.id
        WHERE c.space_id = ${space}
      ),
      totals AS (
        SELECT (SELECT count(*) FROM subtree) AS session_count,
               (SELECT count(*) FROM records r JOIN subtree ON r.session_id = subtree.id
                WHERE r.space_id = ${space}) AS record_count,
               coalesce((SELECT sum(octet_length(r.content) + coalesce(octet_length(r.tool_calls::text), 0)
                                    + coalesce(octet_length(r.metadata::text), 0))
                         FROM records r JOIN subtree ON r.session_id = subtree.id WHERE r.space_id = ${space}), 0)
               + coalesce((SELECT sum(octet_length(d.content)) FROM session_data d
                           JOIN subtree ON d.session_id = subtree.id WHERE d.space_id = ${space}), 0) AS byte_count
      ),
      verdict AS (
        SELECT totals.*, (session_count <= ${maxSessions} AND record_count <= ${maxRecords}
                          AND byte_count <= ${maxBytes}) AS within FROM totals
      )
      SELECT s.id, s.parent_id, s.label, s.status, s.scope, s."index", s.next_child_index, s.turn_count, s.tags,
             s.metadata, s.source_session_id,
             (SELECT jsonb_object_agg(d.key, d.content) FROM session_data d
              WHERE d.session_id = s.id AND d.space_id = s.space_id) AS slots,
             (SELECT array_agg(r.to_id::text) FROM session_refs r
              WHERE r.from_id = s.id AND r.space_id = s.space_id) AS refs,
             CASE WHEN verdict.within THEN
               (SELECT jsonb_agg(jsonb_build_object('role', r.role, 'content', r.content, 'tool_calls', r.tool_calls,
                                                    'tool_call_id', r.tool_call_id, 'metadata', r.metadata,
                                                    'timestamp', r."timestamp") ORDER BY r.id)
                FROM records r WHERE r.session_id = s.id AND r.space_id = s.space_id)
             END AS records,
             verdict.session_count, verdict.record_count, verdict.byte_count
      FROM subtree JOIN sessions s ON s.id = subtree.id AND s.space_id = ${space} CROSS JOIN verdict
      -- Over a bound, only the root's row comes back: enough to report the totals.
      WHERE verdict.within OR subtree.rel_depth = 0
      ORDER BY subtree.rel_depth, s."index"`.execute(this.#ctx.db);
    return rows;
  }

  /** Why an import matched no parent: archived, or not in this space. */
  async #missingParent(parentId: string | undefined): Promise<Error> {
    if (parentId === undefined) return sessionNotFoundError('root');
    const status = await selectSessionStatus(this.#ctx, parentId);
    return status === 'archived' ? new SessionArchivedError(parentId) : sessionNotFoundError(parentId);
  }
}

/** Exported rows (root first, parents before children) → the document, with relative ids `s0`, `s1`, …. */
function toDocument(rows: readonly ExportRow[]): SubtreeDocument {
  const relative = new Map(rows.map((row, i) => [row.id, `s${i}`]));
  const order = new Map(rows.map((row, i) => [row.id, i]));
  const sessions = rows.map((row, i): SubtreeSession => {
    const refs = (row.refs ?? [])
      .filter((id) => relative.has(id))
      .sort((a, b) => order.get(a)! - order.get(b)!)
      .map((id) => relative.get(id)!);
    return {
      id: relative.get(row.id)!,
      parentId: i === 0 || row.parent_id === null ? null : (relative.get(row.parent_id) ?? null),
      index: i === 0 ? 0 : row.index,
      nextChildIndex: row.next_child_index,
      label: row.label,
      status: row.status,
      scope: row.scope,
      turnCount: row.turn_count,
      tags: row.tags ?? [],
      metadata: row.metadata ?? {},
      sourceSessionId: row.source_session_id === null ? null : (relative.get(row.source_session_id) ?? null),
      refs,
      slots: sortedSlots(row.slots ?? {}),
      records: (row.records ?? []).map(toSubtreeRecord),
    };
  });
  return { format: SUBTREE_FORMAT, version: SUBTREE_VERSION, sessions };
}

function sortedSlots(slots: SubtreeSlots): SubtreeSlots {
  return Object.fromEntries(Object.entries(slots).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function toSubtreeRecord(row: ExportRecordRow): SubtreeRecord {
  const record: SubtreeRecord = { role: row.role, content: row.content, timestamp: toIso(row.timestamp) };
  if (row.tool_calls !== null) record.toolCalls = row.tool_calls;
  if (row.tool_call_id !== null) record.toolCallId = row.tool_call_id;
  if (row.metadata !== null) record.metadata = row.metadata;
  return record;
}

/** The `jsonb` parameters of the import statement, with the new ids in place of the relative ones. */
function toImportParams(doc: SubtreeDocument, idMap: Record<string, string>) {
  const depth = new Map<string, number>();
  const sessions: unknown[] = [];
  const records: unknown[] = [];
  const slots: unknown[] = [];
  const refs: unknown[] = [];
  for (const session of doc.sessions) {
    const id = idMap[session.id]!;
    const level = session.parentId === null ? 0 : depth.get(session.parentId)! + 1;
    depth.set(session.id, level);
    sessions.push({
      id,
      parent_id: session.parentId === null ? null : idMap[session.parentId],
      label: session.label,
      status: session.status,
      scope: session.scope,
      depth: level,
      index: session.index,
      next_child_index: session.nextChildIndex,
      turn_count: session.turnCount,
      tags: session.tags,
      metadata: session.metadata,
      source_session_id: session.sourceSessionId === null ? null : idMap[session.sourceSessionId],
    });
    for (const record of session.records) {
      // Absent fields stay absent: `e->'tool_calls'` is then SQL NULL, not a JSON null.
      records.push({
        session_id: id,
        role: record.role,
        content: record.content,
        timestamp: record.timestamp,
        ...(record.toolCalls !== undefined && { tool_calls: record.toolCalls }),
        ...(record.toolCallId !== undefined && { tool_call_id: record.toolCallId }),
        ...(record.metadata !== undefined && { metadata: record.metadata }),
      });
    }
    for (const [key, content] of Object.entries(session.slots)) slots.push({ session_id: id, key, content });
    for (const ref of session.refs) refs.push({ from_id: id, to_id: idMap[ref] });
  }
  return {
    sessions: toJsonParam(sessions, 'document.sessions'),
    records: toJsonParam(records, 'document.records'),
    slots: toJsonParam(slots, 'document.slots'),
    refs: toJsonParam(refs, 'document.refs'),
    recordCount: records.length,
  };
}
