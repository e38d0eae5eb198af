import { queryPrepared } from '@stello-ai/db';
import type { RawBuilder } from 'kysely';
import type { SqlContext } from './sql-context';

/**
 * Runs one of the statements every turn sends as a named prepared statement (`queryPrepared`).
 * Falls back to an unnamed statement when the storage was built with `preparedStatements: false`
 * (poolers that cannot keep named statements per client).
 */
export async function runHot<R>(ctx: SqlContext, query: RawBuilder<R>): Promise<R[]> {
  if (!ctx.prepared) return (await query.execute(ctx.db)).rows;
  return queryPrepared(ctx.client, query.compile(ctx.db));
}
