import pg from 'pg';
import { DbError } from './errors';

/** PostgreSQL type OID of `int8` / `bigint` (also the type of `count(*)` and `sum(int)`). */
const INT8_OID = 20;

function parseInt8(text: string): number {
  const value = Number(text);
  // Returning a rounded number would silently corrupt ids; a string would change the column's type.
  if (!Number.isSafeInteger(value)) {
    throw new DbError('INT8_OUT_OF_RANGE', `int8 value ${text} is outside the safe integer range`, {
      details: { value: text },
    });
  }
  return value;
}

/**
 * Type parsers that read `int8` as a JavaScript `number` and leave every other type to `pg`.
 *
 * `pg` returns `int8` as a string by default, which makes `count(*)` and `records.id` awkward.
 * These parsers are passed per pool and per query (`createPool` and `createDb` use them), so
 * `pg.types` is never mutated globally. A value beyond `Number.MAX_SAFE_INTEGER` makes the query
 * fail with `DbError` code `INT8_OUT_OF_RANGE` instead of losing precision.
 *
 * @example
 * ```ts
 * const pool = new pg.Pool({ connectionString, types: pgTypeParsers });
 * ```
 */
export const pgTypeParsers: { getTypeParser: typeof pg.types.getTypeParser } = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (oid === INT8_OID && (format === undefined || format === 'text')) return parseInt8;
    return pg.types.getTypeParser(oid, format);
  }) as typeof pg.types.getTypeParser,
};
