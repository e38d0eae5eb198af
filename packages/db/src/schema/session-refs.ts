import type { Insertable, Selectable, Updateable } from 'kysely';
import type { DefaultTimestamp, FixedRef } from './columns';

/** Table `session_refs`: directed cross-references between two sessions of one space. */
export interface SessionRefsTable {
  space_id: FixedRef;
  from_id: FixedRef;
  /** Never equal to `from_id` (CHECK). */
  to_id: FixedRef;
  created_at: DefaultTimestamp;
}

/** A row of `session_refs` as read. */
export type SessionRefRow = Selectable<SessionRefsTable>;
/** A row of `session_refs` to insert. */
export type NewSessionRefRow = Insertable<SessionRefsTable>;
/** A partial update of a `session_refs` row. */
export type SessionRefRowUpdate = Updateable<SessionRefsTable>;
