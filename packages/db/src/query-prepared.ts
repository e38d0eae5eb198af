import { createHash } from 'node:crypto';
import type { CompiledQuery } from 'kysely';
import type pg from 'pg';
import { pgTypeParsers } from './pg-type-parsers';

// Derived from the text on every call rather than memoised in a module-level map: a SHA-1 of a
// short statement costs about a microsecond, and the function stays free of hidden state.
function statementName(text: string): string {
  return `stello_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`;
}

/**
 * Sends a compiled Kysely query as a named prepared statement: each connection parses and plans
 * it once instead of on every call, a sizeable share of PostgreSQL's work for a short statement.
 * The name is a hash of the text, so two texts never share a name. Only for a fixed query shape
 * run often (each connection keeps the statement for its life), and not behind a pooler that cannot keep
 * prepared statements per client. Rows are read with {@link pgTypeParsers}.
 */
export async function queryPrepared<R>(
  client: pg.Pool | pg.PoolClient,
  compiled: CompiledQuery<R>,
): Promise<R[]> {
  const result = await client.query({
    name: statementName(compiled.sql),
    text: compiled.sql,
    values: compiled.parameters as unknown[],
    types: pgTypeParsers,
  });
  return result.rows as R[];
}
