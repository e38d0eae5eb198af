/**
 * @module @stello-ai/db
 * PostgreSQL schema (Kysely types), migrations, pool factory and Kysely factory of Stello Server.
 * It knows tables, not agents: the SQL against them lives in `@stello-ai/storage`.
 */

// Connections, errors, migrations and value checks, then the schema types.
export { createDb } from './create-db';
export {
  createPool,
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_POOL_MAX,
  DEFAULT_STATEMENT_TIMEOUT_MS,
  type PoolOptions,
} from './create-pool';
export { DbError, type DbErrorCode, isDbError, MigrationError, type MigrationErrorDetails } from './errors';
export { isUuid, UUID_PATTERN } from './is-uuid';
export { migrate } from './migrate';
export { pgTypeParsers } from './pg-type-parsers';
export { queryPrepared } from './query-prepared';
export {
  type CoreDataRow,
  type CoreDataRowUpdate,
  type CoreDataTable,
  type Database,
  type DefaultTimestamp,
  type FixedRef,
  type GeneratedId,
  type JsonbWithDefault,
  type JsonObject,
  type JsonValue,
  type NewCoreDataRow,
  type NewRateUsageRow,
  type NewRecordRow,
  type NewSessionDataRow,
  type NewSessionRefRow,
  type NewSessionRow,
  type NewSpaceRow,
  type NewUserRow,
  type NullableJsonb,
  type NullableTimestamp,
  type RateUsageRow,
  type RateUsageRowUpdate,
  type RateUsageTable,
  type RecordRow,
  type RecordRowRole,
  type RecordRowUpdate,
  type RecordsTable,
  SESSION_DATA_KEYS,
  type SessionDataKey,
  type SessionDataRow,
  type SessionDataRowUpdate,
  type SessionDataTable,
  type SessionRefRow,
  type SessionRefRowUpdate,
  type SessionRefsTable,
  type SessionRow,
  type SessionRowRole,
  type SessionRowStatus,
  type SessionRowUpdate,
  type SessionsTable,
  type SpaceRow,
  type SpaceRowUpdate,
  type SpacesTable,
  type UserRow,
  type UserRowUpdate,
  type UsersTable,
} from './schema';
export { sqlSummary, type TraceSqlOptions, traceSqlStatements } from './telemetry';
export { type JsonbProblem, type JsonbText, toJsonbText } from './to-jsonb-text';
export type { V022Offense } from './upgrade-v022/check-v022';
export { detectSchema, type SchemaKind } from './upgrade-v022/detect-v022';
export { upgradeFromV022, type V022UpgradeReport } from './upgrade-v022/upgrade-from-v022';
