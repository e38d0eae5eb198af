import type { AssembledContext, MemoryEngine, TurnRecord } from '@stello-ai/core';
import { isUuid } from '@stello-ai/db';
import type { SlotKey } from '@stello-ai/session';
import { sql } from 'kysely';
import { readCoreObject, readCoreValue, writeCoreValue } from './internal/core-data-sql';
import { SessionError, sessionNotFoundError } from './internal/domain-errors';
import { appendRecords, listRecords, RECORD_COLUMNS, replaceRecords } from './internal/records-sql';
import { getSlot, putSlot } from './internal/slots-sql';
import { createSqlContext, type PgTarget, type SqlContext } from './internal/sql-context';
import { assertLabel, assertText, toJsonParam, toRecordsParam } from './internal/validate';
import { type RecordDbRow, toTurnRecord } from './mappers';
import { withPgErrors } from './pg-errors';

/** Largest page `readRecordPage` returns, so one call stays bounded whatever the caller asks. */
export const MAX_RECORD_PAGE_SIZE = 1000;

/** One row of `assembleContext`'s statement. */
interface AssembledDbRow {
  found: boolean;
  core: Record<string, unknown>;
  memories: string[];
  current_memory: string | null;
  scope: string | null;
}

function encodeCursor(recordId: number): string {
  return Buffer.from(`r${recordId}`, 'utf8').toString('base64url');
}

/** A cursor this engine made, or a record's `id` (its bigint id in decimal). */
function decodeCursor(cursor: string, field: 'after' | 'before'): number {
  let text = '';
  if (/^\d{1,16}$/.test(cursor)) text = `r${cursor}`;
  else if (/^[A-Za-z0-9_-]+$/.test(cursor)) text = Buffer.from(cursor, 'base64url').toString('utf8');
  const match = /^r(\d{1,16})$/.exec(text);
  const id = match ? Number(match[1]) : Number.NaN;
  if (!Number.isSafeInteger(id)) {
    throw new SessionError('INVALID_ARGUMENT', 'invalid records cursor', { details: { field } });
  }
  return id;
}

/** A record of a page: its public fields and its stable id. */
function toPagedRecord(row: RecordDbRow): TurnRecord {
  return { id: String(row.id), ...toTurnRecord(row) };
}

/**
 * Core's `MemoryEngine` over PostgreSQL for one space: L1 core data (`core_data`), the memory,
 * scope and index slots, and L3 records.
 *
 * `readRecordPage` pages with an opaque keyset cursor (the last record's id), so every page
 * costs the same whatever the history length. `assembleContext` is ONE statement: a recursive
 * CTE walks the ancestors and picks their memories nearest first, next to the session's own
 * memory and scope slots and the space's core data.
 *
 * @example
 * ```ts
 * const memory = new PgMemoryEngine(pool, spaceId);
 * const { records, nextCursor } = await memory.readRecordPage(sessionId, { limit: 100 });
 * const context = await memory.assembleContext(sessionId);
 * ```
 */
export class PgMemoryEngine implements MemoryEngine {
  readonly #ctx: SqlContext;

  /**
   * Binds the engine to a pool or to one checked-out client, for one space.
   *
   * @throws SessionError `INVALID_ARGUMENT` when `spaceId` is not a uuid
   */
  constructor(client: PgTarget, spaceId: string) {
    this.#ctx = createSqlContext(client, spaceId);
  }

  /** One core value by exact key (`null` when missing), or, without a path, all of them as one object. */
  readCore(path?: string): Promise<unknown> {
    return withPgErrors(async () => {
      if (path === undefined) return readCoreObject(this.#ctx);
      assertText(path, 'path');
      return readCoreValue(this.#ctx, path);
    });
  }

  /** Upserts one core value. @throws SessionError `INVALID_ARGUMENT` for values JSON cannot hold */
  writeCore(path: string, value: unknown): Promise<void> {
    return withPgErrors(async () => {
      assertLabel(path, 'path');
      await writeCoreValue(this.#ctx, path, toJsonParam(value, 'value'));
    });
  }

  /** The session's `memory` slot (its L2); `null` when unset. */
  readMemory(sessionId: string): Promise<string | null> {
    return this.#readSlot(sessionId, 'memory');
  }

  /** Sets the `memory` slot. @throws SessionError `SESSION_NOT_FOUND` */
  writeMemory(sessionId: string, content: string): Promise<void> {
    return this.#writeSlot(sessionId, 'memory', content);
  }

  /** The session's `scope` slot; `null` when unset. */
  readScope(sessionId: string): Promise<string | null> {
    return this.#readSlot(sessionId, 'scope');
  }

  /** Sets the `scope` slot. @throws SessionError `SESSION_NOT_FOUND` */
  writeScope(sessionId: string, content: string): Promise<void> {
    return this.#writeSlot(sessionId, 'scope', content);
  }

  /** The session's `index` slot; `null` when unset. */
  readIndex(sessionId: string): Promise<string | null> {
    return this.#readSlot(sessionId, 'index');
  }

  /** Sets the `index` slot. @throws SessionError `SESSION_NOT_FOUND` */
  writeIndex(sessionId: string, content: string): Promise<void> {
    return this.#writeSlot(sessionId, 'index', content);
  }

  /** Appends one record. @throws SessionError `SESSION_NOT_FOUND`, `INVALID_ARGUMENT` */
  appendRecord(sessionId: string, record: TurnRecord): Promise<void> {
    return withPgErrors(async () => {
      const recordsJson = toRecordsParam([record], 'record');
      if (!isUuid(sessionId) || !(await appendRecords(this.#ctx, sessionId, recordsJson))) {
        throw sessionNotFoundError(sessionId);
      }
    });
  }

  /** Replaces all records of the session, atomically (one statement). @throws SessionError `SESSION_NOT_FOUND` */
  replaceRecords(sessionId: string, records: TurnRecord[]): Promise<void> {
    return withPgErrors(async () => {
      const recordsJson = toRecordsParam(records);
      if (!isUuid(sessionId) || !(await replaceRecords(this.#ctx, sessionId, recordsJson))) {
        throw sessionNotFoundError(sessionId);
      }
    });
  }

  /** All records, oldest first; `[]` for an unknown session. */
  readRecords(sessionId: string): Promise<TurnRecord[]> {
    return withPgErrors(async () => {
      if (!isUuid(sessionId)) return [];
      return (await listRecords(this.#ctx, sessionId)).map(toTurnRecord);
    });
  }

  /**
   * One page of records, oldest first, after an opaque cursor (keyset pagination on the
   * `(session_id, id)` index); `nextCursor` is `null` on the last page. With `before`, the newest
   * records older than that cursor, still oldest first, and `prevCursor` for the page before them
   * (`null` when nothing older remains). Each record carries its `id`, itself a valid cursor.
   * `limit` is capped at `MAX_RECORD_PAGE_SIZE`.
   *
   * @throws SessionError `INVALID_ARGUMENT` for a limit below 1, a cursor this engine did not
   *   make, or both `after` and `before`
   */
  readRecordPage(
    sessionId: string,
    options: { limit: number; after?: string | null; before?: string | null },
  ): Promise<{ records: TurnRecord[]; nextCursor: string | null; prevCursor?: string | null }> {
    return withPgErrors(async () => {
      const limit = options?.limit;
      if (typeof limit !== 'number' || !Number.isSafeInteger(limit) || limit < 1) {
        throw new SessionError('INVALID_ARGUMENT', 'limit must be a positive integer', {
          details: { field: 'limit' },
        });
      }
      if (options.after != null && options.before != null) {
        throw new SessionError('INVALID_ARGUMENT', 'give `after` or `before`, not both', {
          details: { field: 'before' },
        });
      }
      const pageSize = Math.min(limit, MAX_RECORD_PAGE_SIZE);
      const after = options.after == null ? 0 : decodeCursor(String(options.after), 'after');
      const before = options.before == null ? null : decodeCursor(String(options.before), 'before');
      if (!isUuid(sessionId))
        return { records: [], nextCursor: null, ...(before !== null && { prevCursor: null }) };
      if (before !== null) return this.#readOlderPage(sessionId, before, pageSize);
      const { rows } = await sql<RecordDbRow>`
        SELECT ${RECORD_COLUMNS} FROM records r
        WHERE r.session_id = ${sessionId} AND r.space_id = ${this.#ctx.spaceId} AND r.id > ${after}
        ORDER BY r.id
        LIMIT ${pageSize + 1}`.execute(this.#ctx.db);
      // One extra row tells whether another page exists without a count.
      const page = rows.slice(0, pageSize);
      const last = page.at(-1);
      const nextCursor = rows.length > pageSize && last ? encodeCursor(Number(last.id)) : null;
      return { records: page.map(toPagedRecord), nextCursor };
    });
  }

  /** The newest `pageSize` records below `before`, read backwards on the same index, returned oldest first. */
  async #readOlderPage(
    sessionId: string,
    before: number,
    pageSize: number,
  ): Promise<{ records: TurnRecord[]; nextCursor: null; prevCursor: string | null }> {
    const { rows } = await sql<RecordDbRow>`
      SELECT ${RECORD_COLUMNS} FROM records r
      WHERE r.session_id = ${sessionId} AND r.space_id = ${this.#ctx.spaceId} AND r.id < ${before}
      ORDER BY r.id DESC
      LIMIT ${pageSize + 1}`.execute(this.#ctx.db);
    const page = rows.slice(0, pageSize).reverse();
    const first = page[0];
    const prevCursor = rows.length > pageSize && first ? encodeCursor(Number(first.id)) : null;
    return { records: page.map(toPagedRecord), nextCursor: null, prevCursor };
  }

  /**
   * The session's assembled memory in ONE statement: the space's core data, the ancestors'
   * memories nearest first (blank ones skipped), the session's own memory and scope slot.
   *
   * @throws SessionError `SESSION_NOT_FOUND` when the session is not in this space
   */
  assembleContext(sessionId: string): Promise<AssembledContext> {
    return withPgErrors(async () => {
      if (!isUuid(sessionId)) throw sessionNotFoundError(sessionId);
      const spaceId = this.#ctx.spaceId;
      const { rows } = await sql<AssembledDbRow>`
        WITH RECURSIVE line(id, parent_id, level) AS (
          SELECT id, parent_id, 0 FROM sessions WHERE id = ${sessionId} AND space_id = ${spaceId}
          UNION ALL
          SELECT p.id, p.parent_id, line.level + 1 FROM sessions p JOIN line ON p.id = line.parent_id
          WHERE p.space_id = ${spaceId}
        )
        SELECT
          EXISTS (SELECT 1 FROM line) AS found,
          (SELECT coalesce(jsonb_object_agg(c.path, c.value), '{}'::jsonb) FROM core_data c
           WHERE c.space_id = ${spaceId}) AS core,
          (SELECT coalesce(json_agg(d.content ORDER BY line.level), '[]'::json)
           FROM line JOIN session_data d ON d.session_id = line.id AND d.space_id = ${spaceId} AND d.key = 'memory'
           WHERE line.level > 0 AND d.content ~ '[^[:space:]]') AS memories,
          (SELECT d.content FROM session_data d
           WHERE d.session_id = ${sessionId} AND d.space_id = ${spaceId} AND d.key = 'memory') AS current_memory,
          (SELECT d.content FROM session_data d
           WHERE d.session_id = ${sessionId} AND d.space_id = ${spaceId} AND d.key = 'scope') AS scope`.execute(
        this.#ctx.db,
      );
      const row = rows[0];
      if (!row?.found) throw sessionNotFoundError(sessionId);
      return { core: row.core, memories: row.memories, currentMemory: row.current_memory, scope: row.scope };
    });
  }

  #readSlot(sessionId: string, key: SlotKey): Promise<string | null> {
    return withPgErrors(async () => (isUuid(sessionId) ? getSlot(this.#ctx, sessionId, key) : null));
  }

  #writeSlot(sessionId: string, key: SlotKey, content: string): Promise<void> {
    return withPgErrors(async () => {
      assertText(content, 'content');
      if (!isUuid(sessionId) || !(await putSlot(this.#ctx, sessionId, key, content))) {
        throw sessionNotFoundError(sessionId);
      }
    });
  }
}
