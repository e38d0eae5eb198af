import type { ColumnType, Insertable, Selectable, Updateable } from 'kysely';
import type { DefaultTimestamp, FixedRef, JsonValue, NullableJsonb, NullableTimestamp } from './columns';

/** Values of `turns.status`. */
export type TurnRowStatus = 'queued' | 'running' | 'completed' | 'cancelled' | 'failed';

/** Table `turns`: the ledger of a space's turns, one row per turn id (retries, cancel, status). */
export interface TurnsTable {
  /** Tenant key; with `turn_id` the primary key. */
  space_id: FixedRef;
  turn_id: FixedRef;
  /** The session the turn runs on (composite FK with `space_id`, cascade). */
  session_id: FixedRef;
  /** Hash of what the turn was asked (kind and input): a retry must match it. `''` for a cancel tombstone. */
  request_hash: string;
  status: ColumnType<TurnRowStatus, TurnRowStatus, TurnRowStatus>;
  /** The process running (or waiting to run) the turn; `NULL` without a control channel. */
  owner_instance: number | null;
  /** The turn's result (`{turn:{…}}`) once completed. */
  result: NullableJsonb<JsonValue>;
  /** `{code, message}` of a failed or cancelled turn. */
  error: NullableJsonb<JsonValue>;
  /** The last stream sequence number the turn produced. */
  last_seq: number | null;
  /** Set by a cancel: the commit is fenced on it. */
  cancel_requested_at: NullableTimestamp;
  created_at: DefaultTimestamp;
  finished_at: NullableTimestamp;
}

/** A row of `turns` as read. */
export type TurnRow = Selectable<TurnsTable>;
/** A row of `turns` to insert. */
export type NewTurnRow = Insertable<TurnsTable>;
/** A partial update of a `turns` row. */
export type TurnRowUpdate = Updateable<TurnsTable>;
