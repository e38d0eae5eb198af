import type { Insertable, Selectable, Updateable } from 'kysely';
import type { DefaultTimestamp, FixedRef, GeneratedId, JsonbWithDefault, JsonObject } from './columns';

/** Table `spaces`: one agent and its session tree, owned by a user. */
export interface SpacesTable {
  id: GeneratedId;
  /** Owner; deleting the user deletes the space. */
  user_id: FixedRef;
  /** Non-empty (CHECK). */
  label: string;
  system_prompt: string | null;
  consolidate_prompt: string | null;
  integrate_prompt: string | null;
  /** A JSON object (CHECK); defaults to `{}`. */
  config: JsonbWithDefault<JsonObject>;
  created_at: DefaultTimestamp;
  updated_at: DefaultTimestamp;
}

/** A row of `spaces` as read. */
export type SpaceRow = Selectable<SpacesTable>;
/** A row of `spaces` to insert. */
export type NewSpaceRow = Insertable<SpacesTable>;
/** A partial update of a `spaces` row. */
export type SpaceRowUpdate = Updateable<SpacesTable>;
