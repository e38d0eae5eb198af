import type { ColumnType, Insertable, Selectable, Updateable } from 'kysely';
import type { DefaultTimestamp, FixedRef } from './columns';

/** The keys `session_data.key` accepts (CHECK), one named text slot each. */
export const SESSION_DATA_KEYS = [
  'system_prompt',
  'memory',
  'insight',
  'consolidate_prompt',
  'integrate_prompt',
  'scope',
  'index',
] as const;

/** A key of `session_data`. */
export type SessionDataKey = (typeof SESSION_DATA_KEYS)[number];

/** Table `session_data`: named text slots of a session (prompt, memory, insight…). */
export interface SessionDataTable {
  space_id: FixedRef;
  session_id: FixedRef;
  key: ColumnType<SessionDataKey, SessionDataKey, never>;
  content: string;
  updated_at: DefaultTimestamp;
}

/** A row of `session_data` as read. */
export type SessionDataRow = Selectable<SessionDataTable>;
/** A row of `session_data` to insert. */
export type NewSessionDataRow = Insertable<SessionDataTable>;
/** A partial update of a `session_data` row. */
export type SessionDataRowUpdate = Updateable<SessionDataTable>;
