import type { ColumnType } from 'kysely';

/** A JSON value as `pg` parses it out of a `jsonb` column. */
export type JsonValue = string | number | boolean | null | JsonValue[] | JsonObject;

/** A JSON object as `pg` parses it out of a `jsonb` column. */
export interface JsonObject {
  [key: string]: JsonValue;
}

/**
 * A `uuid` primary key the database fills with `gen_random_uuid()`: optional on insert, never
 * updated.
 */
export type GeneratedId = ColumnType<string, string | undefined, never>;

/** A `uuid` reference that is set once on insert and never updated (tenant and owner keys). */
export type FixedRef = ColumnType<string, string, never>;

/** A `timestamptz NOT NULL DEFAULT now()` column: read as `Date`, optional on insert. */
export type DefaultTimestamp = ColumnType<Date, Date | string | undefined, Date | string>;

/** A nullable `timestamptz` column without default. */
export type NullableTimestamp = ColumnType<
  Date | null,
  Date | string | null | undefined,
  Date | string | null
>;

/**
 * A `jsonb NOT NULL DEFAULT ...` column: parsed on read, written as JSON text.
 *
 * Writes take `JSON.stringify(value)` on purpose: `pg` turns a JavaScript array parameter into a
 * PostgreSQL array literal, which is not valid `jsonb`.
 */
export type JsonbWithDefault<TValue extends JsonValue> = ColumnType<TValue, string | undefined, string>;

/** A nullable `jsonb` column: parsed on read, written as JSON text (see `JsonbWithDefault`). */
export type NullableJsonb<TValue extends JsonValue> = ColumnType<
  TValue | null,
  string | null | undefined,
  string | null
>;
