import type { ColumnType, Insertable, Selectable, Updateable } from 'kysely';
import type { DefaultTimestamp, FixedRef, JsonObject, JsonValue, NullableJsonb } from './columns';

/** Values of `records.role`. */
export type RecordRowRole = 'system' | 'user' | 'assistant' | 'tool';

/** Table `records`: the messages (L3) of each session, in insertion order. */
export interface RecordsTable {
  /** `bigint GENERATED ALWAYS AS IDENTITY`: the ordering key; read as a number, never written. */
  id: ColumnType<number, never, never>;
  space_id: FixedRef;
  /** Always a session of `space_id` (composite foreign key). */
  session_id: FixedRef;
  role: RecordRowRole;
  content: ColumnType<string, string | undefined, string>;
  /** A JSON array (CHECK) of the assistant's tool calls. */
  tool_calls: NullableJsonb<JsonValue[]>;
  tool_call_id: string | null;
  metadata: NullableJsonb<JsonObject>;
  timestamp: DefaultTimestamp;
}

/** A row of `records` as read. */
export type RecordRow = Selectable<RecordsTable>;
/** A row of `records` to insert. */
export type NewRecordRow = Insertable<RecordsTable>;
/** A partial update of a `records` row. */
export type RecordRowUpdate = Updateable<RecordsTable>;
