/**
 * @module @stello-ai/server
 * The Stello Server facade: `createStelloServer` (REST + WebSocket on PostgreSQL), the `stello`
 * CLI, and the building blocks re-exported from the lower packages.
 */

export { createDefaultConsolidateFn, createDefaultIntegrateFn } from '@stello-ai/core';
export type { PoolOptions } from '@stello-ai/db';
export { createPool, migrate } from '@stello-ai/db';
export type {
  AgentBuildContext,
  AgentPoolOptions,
  ConnectionState,
  Logger,
  Space,
  SpaceConfig,
} from '@stello-ai/runtime';
export {
  AgentPool,
  ConnectionManager,
  createJsonLogger,
  RuntimeError,
  SpaceManager,
  silentLogger,
  UserStore,
} from '@stello-ai/runtime';
export type { LLMAdapter, LLMCallFn } from '@stello-ai/session';
export {
  createAnthropicAdapter,
  createLLMCallFn,
  createOfflineAdapter,
  createOpenAICompatibleAdapter,
  isCodedError,
} from '@stello-ai/session';
export type {
  PgStoresOptions,
  SubtreeArchiveResult,
  SubtreeDocument,
  SubtreeImportResult,
  SubtreeLimits,
} from '@stello-ai/storage';
export {
  PgMainStorage,
  PgMemoryEngine,
  PgSessionStorage,
  PgSessionTree,
  PgStores,
  PgSubtreeStore,
} from '@stello-ai/storage';
export type { AuthEnv } from '@stello-ai/transport';
export { consoleEnabledByEnv } from './console/console-from-env';
export { CONSOLE_PATH } from './console/console-routes';
export type { ModelEnv, ModelFromEnv } from './create-model-from-env';
export { createModelFromEnv, DEFAULT_ANTHROPIC_MODEL, DEFAULT_OPENAI_MODEL } from './create-model-from-env';
export type {
  ListeningServer,
  StelloServer,
  StelloServerLimits,
  StelloServerOptions,
  StelloServerShutdownOptions,
} from './create-stello-server';
export {
  createStelloServer,
  DEFAULT_MEMORY_DRAIN_TIMEOUT_MS,
  DEFAULT_TURN_DRAIN_TIMEOUT_MS,
} from './create-stello-server';
export type { StelloServerErrorCode } from './errors';
export { StelloServerError } from './errors';
export type { SeedApiKeyResult } from './seed-api-key';
export { seedApiKey } from './seed-api-key';
export { STELLO_TRACER_NAME, type StelloTelemetryOptions } from './telemetry';
