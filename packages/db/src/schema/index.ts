import type { CoreDataTable } from './core-data';
import type { RateUsageTable } from './rate-usage';
import type { RecordsTable } from './records';
import type { SessionDataTable } from './session-data';
import type { SessionRefsTable } from './session-refs';
import type { SessionsTable } from './sessions';
import type { SpacesTable } from './spaces';
import type { TurnsTable } from './turns';
import type { UsersTable } from './users';

/** The tables of Stello Server's schema, as Kysely sees them (snake_case columns). */
export interface Database {
  users: UsersTable;
  spaces: SpacesTable;
  sessions: SessionsTable;
  records: RecordsTable;
  session_data: SessionDataTable;
  session_refs: SessionRefsTable;
  core_data: CoreDataTable;
  turns: TurnsTable;
  rate_usage: RateUsageTable;
}

export type {
  DefaultTimestamp,
  FixedRef,
  GeneratedId,
  JsonbWithDefault,
  JsonObject,
  JsonValue,
  NullableJsonb,
  NullableTimestamp,
} from './columns';
export type { CoreDataRow, CoreDataRowUpdate, CoreDataTable, NewCoreDataRow } from './core-data';
export type { NewRateUsageRow, RateUsageRow, RateUsageRowUpdate, RateUsageTable } from './rate-usage';
export type { NewRecordRow, RecordRow, RecordRowRole, RecordRowUpdate, RecordsTable } from './records';
export {
  type NewSessionDataRow,
  SESSION_DATA_KEYS,
  type SessionDataKey,
  type SessionDataRow,
  type SessionDataRowUpdate,
  type SessionDataTable,
} from './session-data';
export type { NewSessionRefRow, SessionRefRow, SessionRefRowUpdate, SessionRefsTable } from './session-refs';
export type {
  NewSessionRow,
  SessionRow,
  SessionRowRole,
  SessionRowStatus,
  SessionRowUpdate,
  SessionsTable,
} from './sessions';
export type { NewSpaceRow, SpaceRow, SpaceRowUpdate, SpacesTable } from './spaces';
export type { NewTurnRow, TurnRow, TurnRowStatus, TurnRowUpdate, TurnsTable } from './turns';
export type { NewUserRow, UserRow, UserRowUpdate, UsersTable } from './users';
