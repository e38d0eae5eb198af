/**
 * @module @stello-ai/server
 * The Stello Server facade: `createStelloServer` (REST + WebSocket on PostgreSQL), the `stello`
 * CLI, and the building blocks re-exported from the lower packages.
 */
export {
  createStelloServer,
  DEFAULT_MEMORY_DRAIN_TIMEOUT_MS,
  DEFAULT_TURN_DRAIN_TIMEOUT_MS,
} from './create-stello-server';
export type {
  ListeningServer,
  StelloServer,
  StelloServerLimits,
  StelloServerOptions,
  StelloServerShutdownOptions,
} from './create-stello-server';
export { createModelFromEnv, DEFAULT_ANTHROPIC_MODEL, DEFAULT_OPENAI_MODEL } from './create-model-from-env';
export type { ModelEnv, ModelFromEnv } from './create-model-from-env';
export { StelloServerError } from './errors';
export { seedApiKey } from './seed-api-key';
export type { SeedApiKeyResult } from './seed-api-key';
export type { StelloServerErrorCode } from './errors';

export { PgMainStorage, PgMemoryEngine, PgSessionStorage, PgSessionTree } from '@stello-ai/storage';
export { createPool, migrate } from '@stello-ai/db';
export type { PoolOptions } from '@stello-ai/db';
export {
  AgentPool,
  ConnectionManager,
  createJsonLogger,
  RuntimeError,
  SpaceManager,
  silentLogger,
  UserStore,
} from '@stello-ai/runtime';
export type {
  AgentBuildContext,
  AgentPoolOptions,
  ConnectionState,
  Logger,
  Space,
  SpaceConfig,
} from '@stello-ai/runtime';
export { createDefaultConsolidateFn, createDefaultIntegrateFn } from '@stello-ai/core';
export {
  createAnthropicAdapter,
  createLLMCallFn,
  createOfflineAdapter,
  createOpenAICompatibleAdapter,
  isCodedError,
} from '@stello-ai/session';
export type { LLMAdapter, LLMCallFn } from '@stello-ai/session';
export type { AuthEnv } from '@stello-ai/transport';
