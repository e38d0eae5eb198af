/**
 * @module @stello-ai/storage
 * All the SQL of Stello Server. PostgreSQL implementations of the storage interfaces, scoped to
 * one space each: `PgSessionStorage` and `PgMainStorage` (from `@stello-ai/session`),
 * `PgSessionTree` and `PgMemoryEngine` (from `@stello-ai/core`); the spaces (`SpaceStore`) and
 * the users and API key hashes (`UserKeyStore`), in PostgreSQL and in memory; and `PgStores`,
 * which makes all of them once from a pool.
 */

// Value checks the layers above share (ids are validated before any query)
export { isUuid, toJsonbText, UUID_PATTERN } from '@stello-ai/db';
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
  KEY_REVOKED_EVENT,
  PgControlChannel,
  type PgControlChannelOptions,
} from './control/pg-control-channel';
// Errors
export { isStorageError, StorageError, type StorageErrorCode } from './errors';
export type { TurnControlBinding } from './internal/turns-sql';
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
// Everything on one pool
export { type PgSpaceStores, PgStores, type PgStoresOptions } from './pg-stores';
// Spaces
export { InMemorySpaceStore, type InMemorySpaceStoreOptions } from './spaces/in-memory-space-store';
export { PgSpaceStore } from './spaces/pg-space-store';
export type { NewSpace, Space, SpacePage, SpacePatch, SpaceStore } from './spaces/space-store';
// Subtrees: export as JSON, import as a copy, archive (one statement each)
export {
  PgSubtreeStore,
  type SubtreeArchiveResult,
  type SubtreeImportResult,
} from './subtree/pg-subtree-store';
export {
  DEFAULT_SUBTREE_MAX_BYTES,
  DEFAULT_SUBTREE_MAX_RECORDS,
  DEFAULT_SUBTREE_MAX_SESSIONS,
  parseSubtreeDocument,
  type ResolvedSubtreeLimits,
  resolveSubtreeLimits,
  SUBTREE_FORMAT,
  SUBTREE_VERSION,
  type SubtreeDocument,
  type SubtreeLimits,
  type SubtreeRecord,
  type SubtreeSession,
  type SubtreeSlots,
} from './subtree/subtree-document';
export {
  DEFAULT_TURN_RETENTION_MS,
  sweepTurns,
  TurnSweeper,
  type TurnSweeperOptions,
  type TurnSweepResult,
} from './turn-sweeper';
// Users and API keys
export { PgUsageStore, type UserUsage } from './usage/pg-usage-store';
export { InMemoryRateLimitStore } from './users/in-memory-rate-limit-store';
export { InMemoryUserStore } from './users/in-memory-user-store';
export { PgRateLimitStore } from './users/pg-rate-limit-store';
export { PgUserStore } from './users/pg-user-store';
export type {
  KeyLimits,
  KeyLimitsUpdate,
  KeyUsage,
  RateLimitStore,
  UsageSync,
} from './users/rate-limit-store';
export type { StoredKey, User, UserKeyStore } from './users/user-key-store';
