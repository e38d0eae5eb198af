import type { ColumnType, Insertable, Selectable, Updateable } from 'kysely';
import type { DefaultTimestamp, GeneratedId, NullableTimestamp } from './columns';

/** Table `users`: the owners of spaces, authenticated by a hashed API key. */
export interface UsersTable {
  id: GeneratedId;
  name: string;
  /** Hex SHA-256 of the API key; unique; `NULL` once the key is revoked. */
  api_key_hash: string | null;
  /** First 12 characters of the API key, kept for display only. */
  api_key_prefix: string | null;
  created_at: DefaultTimestamp;
  key_created_at: NullableTimestamp;
  key_revoked_at: NullableTimestamp;
  /** Turns per minute this user's key may start; `NULL`: the server's default, `0`: no limit. */
  turns_per_minute: ColumnType<number | null, number | null | undefined, number | null>;
  /** Streams this user's key may run at once; `NULL`: the server's default, `0`: no limit. */
  concurrent_streams: ColumnType<number | null, number | null | undefined, number | null>;
}

/** A row of `users` as read. */
export type UserRow = Selectable<UsersTable>;
/** A row of `users` to insert. */
export type NewUserRow = Insertable<UsersTable>;
/** A partial update of a `users` row. */
export type UserRowUpdate = Updateable<UsersTable>;
