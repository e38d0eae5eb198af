import type { ListRecordsOptions } from '@stello-ai/session';
import { type RawBuilder, sql } from 'kysely';
import type { RecordDbRow } from '../mappers';
import type { SqlContext } from './sql-context';

/** Columns of `records` every read selects, in `RecordDbRow` shape. */
export const RECORD_COLUMNS = sql`r.id, r.role, r.content, r.tool_calls, r.tool_call_id, r.metadata, r."timestamp"`;

/**
 * `INSERT INTO records … SELECT` from the rows of `source` (a CTE with `id` and `space_id` of one
 * session) crossed with the `jsonb` array built by `toRecordsParam`. Nothing is inserted when
 * `source` is empty; ids grow in array order (ORDER BY the ordinality), which is the record order.
 */
export function insertRecordsFrom(source: RawBuilder<unknown>, recordsJson: string): RawBuilder<unknown> {
  return sql`INSERT INTO records (space_id, session_id, role, content, tool_calls, tool_call_id, metadata, "timestamp")
    SELECT src.space_id, src.id, e.rec->>'role', e.rec->>'content', e.rec->'tool_calls', e.rec->>'tool_call_id',
           e.rec->'metadata', coalesce((e.rec->>'timestamp')::timestamptz, now())
    FROM ${source} AS src
    CROSS JOIN jsonb_array_elements(${recordsJson}::jsonb) WITH ORDINALITY AS e(rec, ord)
    ORDER BY e.ord`;
}

/**
 * `UPDATE sessions … RETURNING id, space_id` that increments the records revision of one session
 * of the space: the target of every statement that inserts or deletes its records. The row lock
 * it takes orders those statements, so equal revisions always mean identical records.
 */
export function bumpRecordsRev(ctx: SqlContext, sessionId: string): RawBuilder<unknown> {
  return sql`UPDATE sessions SET records_rev = records_rev + 1
    WHERE id = ${sessionId} AND space_id = ${ctx.spaceId} RETURNING id, space_id`;
}

/** Appends records to one session of the space in one statement; false when the session is not there. */
export async function appendRecords(
  ctx: SqlContext,
  sessionId: string,
  recordsJson: string,
): Promise<boolean> {
  const { rows } = await sql<{ found: boolean }>`
    WITH target AS (${bumpRecordsRev(ctx, sessionId)}),
    inserted AS (${insertRecordsFrom(sql`target`, recordsJson)} RETURNING 1)
    SELECT EXISTS (SELECT 1 FROM target) AS found`.execute(ctx.db);
  return rows[0]?.found === true;
}

/**
 * Replaces all records of one session of the space in one statement (the delete and the insert
 * see the same snapshot, so the new rows survive); false when the session is not there.
 */
export async function replaceRecords(
  ctx: SqlContext,
  sessionId: string,
  recordsJson: string,
): Promise<boolean> {
  const { rows } = await sql<{ found: boolean }>`
    WITH target AS (${bumpRecordsRev(ctx, sessionId)}),
    removed AS (
      DELETE FROM records r USING target
      WHERE r.session_id = target.id AND r.space_id = target.space_id
      RETURNING 1
    ),
    inserted AS (${insertRecordsFrom(sql`target`, recordsJson)} RETURNING 1)
    SELECT EXISTS (SELECT 1 FROM target) AS found`.execute(ctx.db);
  return rows[0]?.found === true;
}

/** Records of one session of the space, oldest first; the role filter applies before limit and offset. */
export async function listRecords(
  ctx: SqlContext,
  sessionId: string,
  options: ListRecordsOptions = {},
): Promise<RecordDbRow[]> {
  const { rows } = await sql<RecordDbRow>`
    SELECT ${RECORD_COLUMNS} FROM records r
    WHERE r.session_id = ${sessionId} AND r.space_id = ${ctx.spaceId}
      ${options.role === undefined ? sql`` : sql`AND r.role = ${options.role}`}
    ORDER BY r.id
    ${options.limit === undefined ? sql`` : sql`LIMIT ${options.limit}`}
    ${options.offset === undefined ? sql`` : sql`OFFSET ${options.offset}`}`.execute(ctx.db);
  return rows;
}
