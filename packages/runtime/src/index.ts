/**
 * @module @stello-ai/runtime
 * The runtime of Stello Server: spaces (`SpaceManager`), one cached agent per space
 * (`AgentPool`), WebSocket connection state (`ConnectionManager`), users and API keys
 * (`UserStore`), and structured logging.
 */

// Subtrees: export, import, archive (the document types come from storage)
export type {
  SubtreeArchiveResult,
  SubtreeDocument,
  SubtreeImportResult,
  SubtreeLimits,
} from '@stello-ai/storage';
// Value checks of ids, shared with the transport (from @stello-ai/db, through storage)
// The PostgreSQL stores the runtime is built on (re-exported so a caller needs one import)
export { isUuid, PgStores, type PgStoresOptions, UUID_PATTERN } from '@stello-ai/storage';
// Agents: one cached StelloAgent per space
export {
  type AgentBuildConfig,
  type AgentBuildContext,
  AgentPool,
  type AgentPoolOptions,
  DEFAULT_AGENT_IDLE_TTL_MS,
} from './agent-pool';
// WebSocket connection state
export { ConnectionManager, type ConnectionState } from './connection-manager';
// Errors
export { RuntimeError, type RuntimeErrorCode } from './errors';
// Per-key rate limits, decided in memory (synced across processes in the background)
export { DEFAULT_RATE_SYNC_INTERVAL_MS, KeyLimits, type KeyLimitsOptions } from './key-limits';
export {
  KeyRateLimiter,
  type KeyRateLimiterOptions,
  RATE_WINDOW_MS,
  type RateDecision,
} from './key-rate-limiter';
export { KeyStreamLimiter, type KeyStreamLimiterOptions, type StreamDecision } from './key-stream-limiter';
// Logging
export {
  createJsonLogger,
  currentLogContext,
  isLogThreshold,
  type JsonLoggerOptions,
  LOG_THRESHOLDS,
  type Logger,
  type LogLevel,
  type LogThreshold,
  redactText,
  silentLogger,
  withLogContext,
} from './logger';
export {
  DEFAULT_SPACE_EVENT_QUEUE,
  type DeliveredSpaceEvent,
  SpaceEventHub,
  type SpaceEventHubOptions,
  type SpaceEventSource,
  type SpaceEventSubscriber,
} from './space-event-hub';
export {
  isSpaceEventKind,
  SPACE_EVENT_KINDS,
  type SpaceEventInput,
  type SpaceEventKind,
  type SpaceEventPublisher,
  withSpaceEventHooks,
} from './space-events';
// Spaces
export {
  type HeldSpace,
  type ListSpacesOptions,
  type Space,
  type SpaceChangeListener,
  type SpaceChangeOrigin,
  type SpaceConfig,
  SpaceManager,
  type SpaceManagerOptions,
  type SpaceUpdate,
} from './space-manager';
export { SubtreeService, type SubtreeServiceOptions } from './subtree-service';
export { traceMemoryWork } from './telemetry/trace-memory-work';
export { traceModel } from './telemetry/trace-model';
// Per-user quotas and the running-turns cap
export {
  DEFAULT_RUNNING_TURNS_PER_USER,
  DEFAULT_SESSIONS_PER_USER,
  DEFAULT_SPACES_PER_USER,
  DEFAULT_STORED_BYTES_PER_USER,
  DEFAULT_USAGE_TTL_MS,
  UserLimits,
  type UserLimitsOptions,
  type UserUsageFigures,
} from './user-limits';
// Users and API keys
export {
  API_KEY_PREFIX,
  type CreateUserOptions,
  type User,
  UserStore,
  type UserStoreOptions,
} from './user-store';
