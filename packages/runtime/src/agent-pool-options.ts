import type { Tracer } from '@opentelemetry/api';
import type { StelloAgentConfig } from '@stello-ai/core';
import type { LLMAdapter, LLMCallFn } from '@stello-ai/session';
import type {
  PgMainStorage,
  PgMemoryEngine,
  PgSessionStorage,
  PgSessionTree,
  PgStores,
  Space,
} from '@stello-ai/storage';
import type { Logger } from './logger';
import type { SpaceEventPublisher } from './space-events';

// The options of `AgentPool` and what its `buildConfig` receives and returns.

/** What `buildConfig` receives: the space and the PostgreSQL adapters bound to it. */
export interface AgentBuildContext {
  /** The space's id. */
  spaceId: string;
  /** The space at build time (prompts and config included). */
  space: Space;
  /** The pool the adapters use. */
  pool: PgStores['pool'];
  /** Sessions, records and slots of the space. */
  sessionStorage: PgSessionStorage;
  /** `sessionStorage` plus integration inputs and space-wide data. */
  mainStorage: PgMainStorage;
  /** The space's session tree (becomes the agent's `sessions`). */
  sessionTree: PgSessionTree;
  /** The space's memory access (becomes the agent's `memory`). */
  memoryEngine: PgMemoryEngine;
}

/** What `buildConfig` returns: an agent config without `sessions` and `memory`, which the pool provides. */
export type AgentBuildConfig = Omit<StelloAgentConfig, 'sessions' | 'memory'>;

/** Options of `AgentPool`. */
export interface AgentPoolOptions {
  /**
   * Builds the agent config of a space. The pool adds `sessions` and `memory`, and fills what
   * the result leaves out: `storage` (the space's `mainStorage`), `llm` (`model`),
   * `session.llmCall` (`llm`), `session.consolidatePrompt` / `integratePrompt` (the space's
   * prompts) and the memory schedule of the space's `config`. Anything the result sets wins,
   * explicit `consolidateFn` / `integrateFn` included. Without it, every space gets the
   * default agent on `model`.
   */
  buildConfig?: (ctx: AgentBuildContext) => AgentBuildConfig | Promise<AgentBuildConfig>;
  /** The text-in/text-out call of the built-in consolidate and integrate functions (default: from the model). */
  llm?: LLMCallFn;
  /** The server's chat model; required when `buildConfig` is absent. */
  model?: LLMAdapter;
  /**
   * Times every call of each agent's chat model as an `llm.call` debug event of `logger`
   * (duration, first delta, tokens; never the messages), for the server's metrics. The agent's
   * `config.llm` is then a wrapper of the model. Default `false`.
   */
  observeModel?: boolean;
  /** Opens an OpenTelemetry span per call of each agent's chat model (see `traceModel`); off when absent. */
  tracer?: Tracer;
  /**
   * Told of every change an agent committed (turn started/completed, fork, archive,
   * consolidation), as a space event; the server publishes them on its control channel.
   */
  publishEvent?: SpaceEventPublisher;
  /** Evict a space's agent after this long without use, unless it is busy (default 5 min). */
  idleTtlMs?: number;
  /**
   * The operator's floor on a space's `consolidateEveryNTurns` (default 3): a tenant's smaller
   * positive value is raised to it, so no space can make every turn cost a memory-work LLM call.
   * `0` (off) stays allowed.
   */
  minConsolidateEveryNTurns?: number;
  /** Most agents kept cached (default 1,000); past it the least recently used idle ones go. */
  maxCachedAgents?: number;
  /**
   * Most bytes of space data (prompts and config, as JSON) the cached agents may hold (default
   * 64 MiB); past it the least recently used idle agents are evicted.
   */
  maxCachedBytes?: number;
  /** Receives evictions and the agents' background failures (default: silent). */
  logger?: Logger;
  /**
   * The process's control channel (`PgControlChannel`): its `turn.cancel` events (published by
   * any process's cancel) abort the turn when it runs in one of this pool's agents.
   */
  control?: { subscribe(listener: (event: TurnControlEvent) => void): () => void };
}

/** The part of a control event the pool routes. */
export interface TurnControlEvent {
  kind: string;
  spaceId?: string;
  turnId?: string;
}

/** Idle time after which an unused, non-busy agent is evicted, unless configured. */
export const DEFAULT_AGENT_IDLE_TTL_MS = 5 * 60_000;
/** Default floor on a space's consolidation interval. */
export const DEFAULT_MIN_CONSOLIDATE_EVERY_N_TURNS = 3;
/** Default cap on cached agents. */
export const DEFAULT_MAX_CACHED_AGENTS = 1_000;
/** Default cap on the space data the cached agents hold: 64 MiB. */
export const DEFAULT_MAX_CACHED_BYTES = 64 * 1024 * 1024;
