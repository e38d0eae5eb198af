import type { ColumnType, Insertable, Selectable, Updateable } from 'kysely';
import type { DefaultTimestamp, FixedRef, JsonValue, NullableJsonb } from './columns';

/** Table `core_data`: a space's core memory (L1), one JSON value per path. */
export interface CoreDataTable {
  space_id: FixedRef;
  /** Key within the space's core memory; part of the primary key. */
  path: ColumnType<string, string, never>;
  value: NullableJsonb<JsonValue>;
  updated_at: DefaultTimestamp;
}

/** A row of `core_data` as read. */
export type CoreDataRow = Selectable<CoreDataTable>;
/** A row of `core_data` to insert. */
export type NewCoreDataRow = Insertable<CoreDataTable>;
/** A partial update of a `core_data` row. */
export type CoreDataRowUpdate = Updateable<CoreDataTable>;
