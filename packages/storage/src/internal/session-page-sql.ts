import type { SessionListOptions, SessionListPage } from '@stello-ai/core';
import { type RawBuilder, sql } from 'kysely';
import { type SessionTopologyDbRow, toSessionInfo } from '../mappers';
import { SessionError } from './domain-errors';
import { decodeSessionCursor, encodeSessionCursor } from './session-cursor';
import { SESSION_TOPOLOGY_COLUMNS } from './sessions-sql';
import type { SqlContext } from './sql-context';
import { assertTags, assertText, toJsonParam } from './validate';

/** Largest page `listPage` returns, so one statement stays bounded whatever the caller asks. */
export const MAX_SESSION_PAGE_SIZE = 1000;

const STATUSES: ReadonlySet<string> = new Set(['active', 'archived']);

function invalid(message: string, field: string): SessionError {
  return new SessionError('INVALID_ARGUMENT', message, { details: { field } });
}

/** `text` as a LIKE pattern that matches itself literally, followed by anything. */
export function likePrefixPattern(text: string): string {
  return `${text.replace(/[\\%_]/g, (char) => `\\${char}`)}%`;
}

/** One condition per given filter, each validated first (a bad filter throws, it never widens the page). */
function filterConditions(options: SessionListOptions): RawBuilder<unknown>[] {
  const conditions: RawBuilder<unknown>[] = [];
  if (options.status !== undefined) {
    if (!STATUSES.has(options.status)) throw invalid('status must be "active" or "archived"', 'status');
    conditions.push(sql`s.status = ${options.status}`);
  }
  if (options.tags !== undefined && options.tags.length > 0) {
    assertTags(options.tags, 'tags');
    conditions.push(sql`s.tags @> ${options.tags}::text[]`);
  }
  if (options.labelPrefix !== undefined && options.labelPrefix !== '') {
    assertText(options.labelPrefix, 'labelPrefix');
    // The backslash escapes the caller's own `%`, `_` and `\`: a prefix is literal text.
    conditions.push(sql`s.label LIKE ${likePrefixPattern(options.labelPrefix)} ESCAPE '\\'`);
  }
  for (const [key, values] of Object.entries(options.metadata ?? {})) {
    assertText(key, 'metadata');
    if (!Array.isArray(values) || values.length === 0)
      throw invalid('metadata values must be a non-empty array', 'metadata');
    // Containment of `{key: value}` is equality of that top-level key for scalars; it can use a GIN index.
    const alternatives = values.map((value) => {
      if (value !== null && !['string', 'number', 'boolean'].includes(typeof value)) {
        throw invalid('metadata values must be strings, numbers, booleans or null', 'metadata');
      }
      return sql`s.metadata @> ${toJsonParam({ [key]: value }, 'metadata')}::jsonb`;
    });
    conditions.push(sql`(${sql.join(alternatives, sql` OR `)})`);
  }
  return conditions;
}

/**
 * One filtered page of the space's sessions with their topology, by (depth, index, id), after an
 * opaque cursor: ONE statement on the `(space_id, depth, index)` index, whatever the page.
 *
 * @throws SessionError `INVALID_ARGUMENT` for a limit below 1, a bad cursor or a bad filter
 */
export async function selectSessionPage(
  ctx: SqlContext,
  options: SessionListOptions,
): Promise<SessionListPage> {
  const limit = options?.limit;
  if (typeof limit !== 'number' || !Number.isSafeInteger(limit) || limit < 1) {
    throw invalid('limit must be a positive integer', 'limit');
  }
  const pageSize = Math.min(limit, MAX_SESSION_PAGE_SIZE);
  const conditions = [sql`s.space_id = ${ctx.spaceId}`, ...filterConditions(options)];
  if (options.after != null) {
    const after = decodeSessionCursor(String(options.after));
    conditions.push(sql`(s.depth, s."index", s.id) > (${after.depth}, ${after.index}, ${after.id}::uuid)`);
  }
  const { rows } = await sql<SessionTopologyDbRow>`
    SELECT ${SESSION_TOPOLOGY_COLUMNS} FROM sessions s
    WHERE ${sql.join(conditions, sql` AND `)}
    ORDER BY s.depth, s."index", s.id
    LIMIT ${pageSize + 1}`.execute(ctx.db);
  // One extra row tells whether another page exists without a count.
  const page = rows.slice(0, pageSize);
  const last = page.at(-1);
  return {
    sessions: page.map(toSessionInfo),
    nextCursor: rows.length > pageSize && last ? encodeSessionCursor(last) : null,
  };
}
