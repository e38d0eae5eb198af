/**
 * @module @stello-ai/storage
 * PostgreSQL implementations of the Stello storage interfaces, scoped to one space each:
 * `PgSessionStorage` and `PgMainStorage` (from `@stello-ai/session`), `PgSessionTree` and
 * `PgMemoryEngine` (from `@stello-ai/core`).
 */

// Cross-process control: events (LISTEN/NOTIFY) and process liveness (an advisory lock per process)
export {
  type ControlChannel,
  type ControlEvent,
  type ControlEventInput,
  type ControlResyncReason,
  MAX_CONTROL_EVENT_BYTES,
} from './control/control-channel';
export { InMemoryControlBus, InMemoryControlChannel } from './control/in-memory-control-channel';
export {
  DEFAULT_CONTROL_CHANNEL,
  INSTANCE_LOCK_NAMESPACE,
  instanceAliveSql,
  PgControlChannel,
  type PgControlChannelOptions,
} from './control/pg-control-channel';
// Errors
export { isStorageError, StorageError, type StorageErrorCode } from './errors';
export { translatePgError } from './pg-errors';
export { PgMainStorage } from './pg-main-storage';
export { MAX_RECORD_PAGE_SIZE, PgMemoryEngine } from './pg-memory-engine';
// Adapters
export {
  DEFAULT_HISTORY_CACHE_SESSIONS,
  PgSessionStorage,
  type PgSessionStorageOptions,
} from './pg-session-storage';
export { PgSessionTree } from './pg-session-tree';
