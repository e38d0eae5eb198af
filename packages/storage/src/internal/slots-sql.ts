import type { SlotKey } from '@stello-ai/session';
import { sql } from 'kysely';
import type { SqlContext } from './sql-context';

/** Reads one slot of one session of the space; `null` when the slot (or the session) is missing. */
export async function getSlot(ctx: SqlContext, sessionId: string, key: SlotKey): Promise<string | null> {
  const row = await ctx.db
    .selectFrom('session_data')
    .select('content')
    .where('session_id', '=', sessionId)
    .where('space_id', '=', ctx.spaceId)
    .where('key', '=', key)
    .executeTakeFirst();
  return row?.content ?? null;
}

/**
 * Upserts one slot in one statement. The row is built from the session's own row, so nothing is
 * written for a session of another space; returns false in that case.
 */
export async function putSlot(
  ctx: SqlContext,
  sessionId: string,
  key: SlotKey,
  content: string,
): Promise<boolean> {
  const row = await ctx.db
    .insertInto('session_data')
    .columns(['space_id', 'session_id', 'key', 'content'])
    .expression((eb) =>
      eb
        .selectFrom('sessions')
        .select([
          'space_id',
          'id',
          sql<SlotKey>`${key}::text`.as('key'),
          sql<string>`${content}::text`.as('content'),
        ])
        .where('id', '=', sessionId)
        .where('space_id', '=', ctx.spaceId),
    )
    .onConflict((oc) =>
      oc.columns(['session_id', 'key']).doUpdateSet({
        content: (eb) => eb.ref('excluded.content'),
        updated_at: sql`now()`,
      }),
    )
    .returning('session_id')
    .executeTakeFirst();
  return row !== undefined;
}

/** Deletes one slot in one statement; returns false when the session is not in the space. */
export async function deleteSlot(ctx: SqlContext, sessionId: string, key: SlotKey): Promise<boolean> {
  const { rows } = await sql<{ found: boolean }>`
    WITH target AS (SELECT id FROM sessions WHERE id = ${sessionId} AND space_id = ${ctx.spaceId}),
    removed AS (
      DELETE FROM session_data d USING target
      WHERE d.session_id = target.id AND d.space_id = ${ctx.spaceId} AND d.key = ${key}
      RETURNING 1
    )
    SELECT EXISTS (SELECT 1 FROM target) AS found`.execute(ctx.db);
  return rows[0]?.found === true;
}
