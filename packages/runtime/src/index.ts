/**
 * @module @stello-ai/runtime
 * The runtime of Stello Server: spaces (`SpaceManager`), one cached agent per space
 * (`AgentPool`), WebSocket connection state (`ConnectionManager`), users and API keys
 * (`UserStore`), and structured logging.
 */

// Spaces
export { SpaceManager } from './space-manager';
export type {
  ListSpacesOptions,
  Space,
  SpaceChangeListener,
  SpaceConfig,
  SpaceManagerOptions,
  SpaceUpdate,
} from './space-manager';

// Agents
export { AgentPool, DEFAULT_AGENT_IDLE_TTL_MS } from './agent-pool';
export type { AgentBuildConfig, AgentBuildContext, AgentPoolOptions } from './agent-pool';

// WebSocket connections
export { ConnectionManager } from './connection-manager';
export type { ConnectionState } from './connection-manager';

// Users and API keys
export { API_KEY_PREFIX, UserStore } from './user-store';
export type { CreateUserOptions, User, UserStoreOptions } from './user-store';

// Errors
export { RuntimeError } from './errors';
export type { RuntimeErrorCode } from './errors';

// Logging
export { createJsonLogger, silentLogger } from './logger';
export type { JsonLoggerOptions, Logger, LogLevel } from './logger';
