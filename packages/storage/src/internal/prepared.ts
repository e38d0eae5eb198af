import { createHash } from 'node:crypto';
import { pgTypeParsers } from '@stello-ai/db';
import type { RawBuilder } from 'kysely';
import type { SqlContext } from './sql-context';

/** Statement names by SQL text; the texts come from a few fixed templates, so this stays small. */
const names = new Map<string, string>();

function statementName(text: string): string {
  let name = names.get(text);
  if (name === undefined) {
    name = `stello_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`;
    names.set(text, name);
  }
  return name;
}

/**
 * Runs one of the statements every turn sends as a named prepared statement: each connection
 * parses and plans it once instead of on every turn, which is a sizeable share of PostgreSQL's
 * work for a short statement. The name is a hash of the text, so two texts never share a name.
 * Falls back to an unnamed statement when the storage was built with `preparedStatements: false`
 * (poolers that cannot keep named statements per client).
 */
export async function runHot<R>(ctx: SqlContext, query: RawBuilder<R>): Promise<R[]> {
  if (!ctx.prepared) return (await query.execute(ctx.db)).rows;
  const compiled = query.compile(ctx.db);
  const result = await ctx.client.query({
    name: statementName(compiled.sql),
    text: compiled.sql,
    values: compiled.parameters as unknown[],
    types: pgTypeParsers,
  });
  return result.rows as R[];
}
