import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';
import type {
  DefaultTimestamp,
  FixedRef,
  GeneratedId,
  JsonbWithDefault,
  JsonObject,
  NullableTimestamp,
} from './columns';

/** Values of `sessions.role`: the root of a space's tree is `main`, every other session `standard`. */
export type SessionRowRole = 'main' | 'standard';

/** Values of `sessions.status`. */
export type SessionRowStatus = 'active' | 'archived';

/** Table `sessions`: the nodes of each space's session tree. */
export interface SessionsTable {
  id: GeneratedId;
  /** Tenant key; every query filters by it. */
  space_id: FixedRef;
  /** `NULL` exactly for the root (`role = 'main'`); always a session of the same space. */
  parent_id: string | null;
  label: string;
  role: ColumnType<SessionRowRole, SessionRowRole | undefined, SessionRowRole>;
  status: ColumnType<SessionRowStatus, SessionRowStatus | undefined, SessionRowStatus>;
  scope: string | null;
  /** 0 for the root, parent's depth + 1 otherwise. */
  depth: Generated<number>;
  /** Position among siblings; unique per parent. */
  index: Generated<number>;
  /** The next child's `index`; a fork increments it under the parent's row lock. */
  next_child_index: Generated<number>;
  turn_count: Generated<number>;
  tags: ColumnType<string[], string[] | undefined, string[]>;
  /** A JSON object (CHECK); defaults to `{}`. */
  metadata: JsonbWithDefault<JsonObject>;
  /** The session this one was forked from, if any; set to `NULL` when that session is deleted. */
  source_session_id: string | null;
  created_at: DefaultTimestamp;
  updated_at: DefaultTimestamp;
  last_active_at: DefaultTimestamp;
  /** Who holds the turn lease (one running turn); `NULL` when no turn holds it. */
  turn_lease_owner: string | null;
  /** When the turn lease lapses unless renewed; `NULL` exactly when `turn_lease_owner` is. */
  turn_lease_expires_at: NullableTimestamp;
  /**
   * The process (control-channel instance id) whose turn holds the lease; the lease is free at
   * once when that process is dead. `NULL` without a control channel: then only the expiry frees it.
   */
  turn_lease_instance: number | null;
  /**
   * Incremented by every statement that inserts or deletes records of the session, under its row
   * lock: equal revisions mean identical records (what a cached history window is checked against).
   */
  records_rev: Generated<number>;
  /** Bytes of the session's records (content and tool calls), kept by triggers on `records`. */
  stored_bytes: Generated<number>;
  /** Turn count at the last consolidation; `NULL` before the first. */
  consolidated_turn_count: number | null;
}

/** A row of `sessions` as read. */
export type SessionRow = Selectable<SessionsTable>;
/** A row of `sessions` to insert. */
export type NewSessionRow = Insertable<SessionsTable>;
/** A partial update of a `sessions` row. */
export type SessionRowUpdate = Updateable<SessionsTable>;
