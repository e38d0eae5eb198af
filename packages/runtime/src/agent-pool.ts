import type { Tracer } from '@opentelemetry/api';
import { createStelloAgent, type StelloAgent, type StelloAgentConfig } from '@stello-ai/core';
import type { LLMAdapter, LLMCallFn } from '@stello-ai/session';
import type {
  PgMainStorage,
  PgMemoryEngine,
  PgSessionStorage,
  PgSessionTree,
  PgStores,
  Space,
} from '@stello-ai/storage';
import { RuntimeError, spaceNotFound } from './errors';
import { type Logger, silentLogger } from './logger';
import { instrumentModel, withObservedHooks } from './observe-agent';
import { type SpaceEventPublisher, withSpaceEventHooks } from './space-events';
import type { HeldSpace, SpaceManager } from './space-manager';
import { traceModel } from './telemetry/trace-model';

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
  /** Evict a space's agent after this long without use, unless it is busy (default 5 min). */
  /**
   * Told of every change an agent committed (turn started/completed, fork, archive,
   * consolidation), as a space event; the server publishes them on its control channel.
   */
  publishEvent?: SpaceEventPublisher;
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
/** Longest pause between two eviction sweeps. */
const MAX_SWEEP_INTERVAL_MS = 60_000;

/** The settings of a space's `config` that tune the agent's memory schedule. */
const SPACE_SCHEDULE_KEYS = [
  'consolidateEveryNTurns',
  'consolidateOnLeave',
  'integrateAfterConsolidate',
] as const;

type SessionConfig = NonNullable<StelloAgentConfig['session']>;
type OrchestrationConfig = NonNullable<StelloAgentConfig['orchestration']>;

interface PooledAgent {
  /** The space as the `SpaceManager` keeps it current; read live by the agent's prompt getters. */
  held: HeldSpace;
  agent: StelloAgent;
  /** Built from older space data: rebuilt by the next `getAgent` that finds it not busy. */
  stale: boolean;
  lastUsedAt: number;
  /** Bytes of space data (JSON) when the agent was built: what the cache bound counts. */
  bytes: number;
}

interface Creation {
  promise: Promise<StelloAgent>;
  /** A change notified while creating; it wins over what was loaded. */
  latest: Space | null;
  stale: boolean;
  /** The space was deleted, or the pool disposed, while creating. */
  cancelled: 'deleted' | 'disposed' | null;
}

/** The memory-schedule settings of a space's config that have a valid value. */
function scheduleFromSpace(config: Record<string, unknown>, minEvery: number): OrchestrationConfig {
  const schedule: OrchestrationConfig = {};
  const every = config.consolidateEveryNTurns;
  if (typeof every === 'number' && Number.isInteger(every) && every >= 0) {
    schedule.consolidateEveryNTurns = every === 0 ? 0 : Math.max(every, minEvery);
  }
  if (typeof config.consolidateOnLeave === 'boolean') schedule.consolidateOnLeave = config.consolidateOnLeave;
  if (typeof config.integrateAfterConsolidate === 'boolean') {
    schedule.integrateAfterConsolidate = config.integrateAfterConsolidate;
  }
  return schedule;
}

/**
 * Lazily creates and caches one `StelloAgent` per space, on PostgreSQL adapters bound to it.
 *
 * - **One agent per space.** Concurrent first calls share one creation; a failed creation is not
 *   cached (the next call tries again).
 * - **Fresh settings.** A space update (through the pool's `SpaceManager`, which holds the space
 *   of every pooled agent) replaces the held `Space` at once. The default prompts are read from it
 *   live, so a new consolidate or integrate prompt applies to the very next consolidation, even on a busy
 *   agent. The agent itself is marked stale and rebuilt by the next `getAgent` that finds it not
 *   busy, so settings captured at build time (`buildConfig`'s closures, the memory schedule)
 *   follow too; until then the old agent keeps serving, so a space never has two live agents.
 *   A deleted space's agent is evicted.
 * - **Idle eviction.** An unref'd timer evicts agents unused for `idleTtlMs`, except busy ones
 *   (attached sessions, running turns or pending memory work: `agent.isBusy()`). Evicted agents
 *   are disposed once their background work has settled.
 *
 * @example
 * ```ts
 * const stores = new PgStores(pool);
 * const spaces = new SpaceManager(stores.spaces);
 * const agents = new AgentPool(stores, { model: createOfflineAdapter() }, spaces);
 * const agent = await agents.getAgent(spaceId);
 * const { turn } = await agent.turn(rootId, 'Hello');
 * ```
 */
export class AgentPool {
  readonly #stores: PgStores;
  readonly #options: AgentPoolOptions;
  readonly #spaces: SpaceManager;
  readonly #logger: Logger;
  readonly #idleTtlMs: number;
  readonly #agents = new Map<string, PooledAgent>();
  readonly #creations = new Map<string, Creation>();
  readonly #unsubscribe: () => void;
  #timer: NodeJS.Timeout | null = null;
  #disposed = false;
  /** Evicted agents still settling their work (disposed afterwards). */
  readonly #retiring = new Set<StelloAgent>();

  /**
   * Creates an empty pool that listens to the space changes of `spaceManager`.
   *
   * @param stores binds the PostgreSQL adapters of each space (`stores.forSpace`)
   * @param options see `AgentPoolOptions`
   * @param spaceManager where spaces are read and whose changes refresh the pool; give the same
   *   manager the REST app writes through
   * @throws RuntimeError `INVALID_ARGUMENT` without stores, a manager, `model` nor `buildConfig`,
   *   or with a bad `idleTtlMs`
   */
  constructor(stores: PgStores, options: AgentPoolOptions, spaceManager: SpaceManager) {
    if (typeof stores?.forSpace !== 'function') {
      throw new RuntimeError(
        'INVALID_ARGUMENT',
        'agent pool needs the PostgreSQL stores (new PgStores(pool))',
        {
          details: { field: 'stores' },
        },
      );
    }
    if (typeof spaceManager?.onChange !== 'function') {
      throw new RuntimeError('INVALID_ARGUMENT', 'agent pool needs a SpaceManager', {
        details: { field: 'spaceManager' },
      });
    }
    if (!options?.buildConfig && !options?.model) {
      throw new RuntimeError(
        'INVALID_ARGUMENT',
        'agent pool needs a chat model (options.model) or options.buildConfig to build agents',
        { details: { field: 'model' } },
      );
    }
    const idleTtlMs = options.idleTtlMs ?? DEFAULT_AGENT_IDLE_TTL_MS;
    if (typeof idleTtlMs !== 'number' || Number.isNaN(idleTtlMs) || idleTtlMs <= 0) {
      throw new RuntimeError('INVALID_ARGUMENT', 'idleTtlMs must be a positive number of milliseconds', {
        details: { field: 'idleTtlMs' },
      });
    }
    this.#stores = stores;
    this.#options = options;
    this.#idleTtlMs = idleTtlMs;
    this.#logger = options.logger ?? silentLogger;
    this.#spaces = spaceManager;
    const unsubscribeSpaces = this.#spaces.onChange((spaceId, space) => this.#onSpaceChange(spaceId, space));
    const unsubscribeControl = options.control?.subscribe((event) => this.routeControlEvent(event));
    this.#unsubscribe = () => {
      unsubscribeSpaces();
      unsubscribeControl?.();
    };
  }

  /**
   * Routes a control event to the space's agents: `turn.cancel` aborts the turn if it runs here.
   * True when an agent of this pool ran (or queued) the turn.
   */
  routeControlEvent(event: TurnControlEvent): boolean {
    if (event.kind !== 'turn.cancel' || !event.spaceId || !event.turnId) return false;
    const agents = [this.#agents.get(event.spaceId)?.agent, ...this.#retiring];
    let aborted = false;
    for (const agent of agents) {
      if (agent?.abortLocalTurn(event.turnId)) aborted = true;
    }
    return aborted;
  }

  /**
   * Every agent that may still be working: the cached ones and those evicted whose running turns
   * or background work have not settled yet. A graceful shutdown waits on these.
   */
  activeAgents(): StelloAgent[] {
    return [...[...this.#agents.values()].map((pooled) => pooled.agent), ...this.#retiring];
  }

  /** Number of cached agents (creations under way not included). */
  get size(): number {
    return this.#agents.size;
  }

  /**
   * Returns the space's agent, creating it on first use (once, however many callers wait).
   * @throws RuntimeError `SPACE_NOT_FOUND`; `INVALID_ARGUMENT` once the pool is disposed; or
   *   what `buildConfig`, the agent's constructor or its root creation threw
   */
  async getAgent(spaceId: string): Promise<StelloAgent> {
    if (this.#disposed) throw disposedError();
    const pooled = this.#agents.get(spaceId);
    if (pooled) {
      if (!pooled.stale || pooled.agent.isBusy()) {
        pooled.lastUsedAt = Date.now();
        return pooled.agent;
      }
      // Stale and idle: replace it. Its latest space data seeds the rebuild (no query).
      this.#agents.delete(spaceId);
      this.#retire(spaceId, pooled, 'stale');
      return this.#startCreation(spaceId, pooled.held.space);
    }
    return this.#creations.get(spaceId)?.promise ?? this.#startCreation(spaceId, null);
  }

  /**
   * Drops the space's agent now, busy or not, and disposes it once its background work has
   * settled (running turns finish; later calls on it fail with `AGENT_DISPOSED`).
   */
  evict(spaceId: string): void {
    const pooled = this.#agents.get(spaceId);
    if (pooled) {
      this.#agents.delete(spaceId);
      this.#retire(spaceId, pooled, 'manual');
    }
    this.#spaces.forget(spaceId);
  }

  /**
   * Stops the eviction timer, stops listening to space changes and evicts every agent. The pool
   * is unusable afterwards (`getAgent` rejects); creations under way are discarded.
   */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#stopTimer();
    this.#unsubscribe();
    for (const creation of this.#creations.values()) creation.cancelled = 'disposed';
    for (const [spaceId, pooled] of this.#agents) this.#retire(spaceId, pooled, 'dispose');
    this.#agents.clear();
  }

  #startCreation(spaceId: string, known: Space | null): Promise<StelloAgent> {
    const creation = { latest: null, stale: false, cancelled: null } as Omit<Creation, 'promise'> as Creation;
    creation.promise = this.#create(spaceId, known, creation).finally(() => {
      if (this.#creations.get(spaceId) === creation) this.#creations.delete(spaceId);
    });
    this.#creations.set(spaceId, creation);
    return creation.promise;
  }

  async #create(spaceId: string, known: Space | null, creation: Creation): Promise<StelloAgent> {
    const loaded = known ?? (await this.#spaces.getSpace(spaceId));
    if (!loaded) throw spaceNotFound(spaceId);
    this.#throwIfCancelled(spaceId, creation);
    // Held from here on: the manager keeps it current (a change notified while creating included).
    const held = this.#spaces.hold(creation.latest ?? loaded);
    let agent: StelloAgent;
    try {
      const { sessions, main, tree, memory } = this.#stores.forSpace(spaceId);
      const ctx: AgentBuildContext = {
        spaceId,
        space: held.space,
        pool: this.#stores.pool,
        sessionStorage: sessions,
        mainStorage: main,
        sessionTree: tree,
        memoryEngine: memory,
      };
      const built = this.#options.buildConfig ? await this.#options.buildConfig(ctx) : {};
      agent = createStelloAgent(this.#complete(ctx, held, built));
    } catch (error) {
      held.release();
      throw error;
    }
    agent.on('error', (event) => {
      this.#logger.error('agent.background_failed', {
        spaceId,
        phase: event.phase,
        sessionId: event.sessionId,
        error: event.error,
      });
    });
    // No root check here: `createSpace` writes the root in the space's own statement and the
    // database keeps one per space, so a first touch costs no extra round trip.
    try {
      this.#throwIfCancelled(spaceId, creation);
    } catch (error) {
      held.release();
      agent.dispose();
      throw error;
    }
    const bytes = Buffer.byteLength(JSON.stringify(held.space), 'utf8');
    this.#agents.set(spaceId, { held, agent, stale: creation.stale, lastUsedAt: Date.now(), bytes });
    this.#enforceCacheBounds();
    this.#startTimer();
    this.#logger.info('agent.created', { spaceId });
    return agent;
  }

  /** The full agent config: `built` plus what the pool provides and the defaults it fills. */
  #complete(ctx: AgentBuildContext, held: HeldSpace, built: AgentBuildConfig): StelloAgentConfig {
    const config: StelloAgentConfig = { ...built, sessions: ctx.sessionTree, memory: ctx.memoryEngine };
    if (config.storage === undefined) config.storage = ctx.mainStorage;
    if (config.llm === undefined && this.#options.model) config.llm = this.#options.model;
    if (config.llm && this.#options.tracer) config.llm = traceModel(config.llm, this.#options.tracer);
    // Timed for the logs and the metrics (LLM time, first delta, tokens) when asked.
    if (config.llm && this.#options.observeModel) config.llm = instrumentModel(config.llm, this.#logger);

    const session: SessionConfig = { ...built.session };
    if (session.llmCall === undefined && this.#options.llm) session.llmCall = this.#options.llm;
    // Getters, read by the agent at each consolidation/integration: a PATCHed space prompt applies
    // to the next one without rebuilding the agent.
    if (session.consolidatePrompt === undefined) {
      Object.defineProperty(session, 'consolidatePrompt', {
        enumerable: true,
        configurable: true,
        get: () => held.space.consolidatePrompt ?? undefined,
      });
    }
    if (session.integratePrompt === undefined) {
      Object.defineProperty(session, 'integratePrompt', {
        enumerable: true,
        configurable: true,
        get: () => held.space.integratePrompt ?? undefined,
      });
    }
    config.session = session;

    const orchestration: OrchestrationConfig = { ...built.orchestration };
    const concurrency = (ctx.space.config as Record<string, unknown> | null | undefined)?.concurrency;
    if (orchestration.concurrency === undefined && (concurrency === 'enqueue' || concurrency === 'reject')) {
      orchestration.concurrency = concurrency;
    }
    const schedule = scheduleFromSpace(
      ctx.space.config,
      this.#options.minConsolidateEveryNTurns ?? DEFAULT_MIN_CONSOLIDATE_EVERY_N_TURNS,
    );
    for (const key of SPACE_SCHEDULE_KEYS) {
      if (orchestration[key] === undefined && schedule[key] !== undefined) {
        (orchestration as Record<string, unknown>)[key] = schedule[key];
      }
    }
    const publish = this.#options.publishEvent;
    if (publish) orchestration.hooks = withSpaceEventHooks(orchestration.hooks, ctx.space.id, publish);
    orchestration.hooks = withObservedHooks(orchestration.hooks, ctx.space.id, this.#logger);
    config.orchestration = orchestration;
    return config;
  }

  /**
   * Evicts the least recently used idle agents while the cache holds more agents or more bytes of
   * space data than allowed. Busy agents (attached clients, running turns) are never evicted, so
   * the bound can be passed while every agent is in use.
   */
  #enforceCacheBounds(): void {
    const maxAgents = this.#options.maxCachedAgents ?? DEFAULT_MAX_CACHED_AGENTS;
    const maxBytes = this.#options.maxCachedBytes ?? DEFAULT_MAX_CACHED_BYTES;
    let bytes = 0;
    for (const pooled of this.#agents.values()) bytes += pooled.bytes;
    if (this.#agents.size <= maxAgents && bytes <= maxBytes) return;
    const oldestFirst = [...this.#agents].sort(([, a], [, b]) => a.lastUsedAt - b.lastUsedAt);
    for (const [spaceId, pooled] of oldestFirst) {
      if (this.#agents.size <= maxAgents && bytes <= maxBytes) break;
      if (pooled.agent.isBusy()) continue;
      this.#agents.delete(spaceId);
      bytes -= pooled.bytes;
      this.#retire(spaceId, pooled, 'capacity');
    }
  }

  #throwIfCancelled(spaceId: string, creation: Creation): void {
    if (creation.cancelled === 'deleted') throw spaceNotFound(spaceId);
    if (creation.cancelled === 'disposed') throw disposedError();
  }

  /** The manager already updated the held space; here the agent is marked for a rebuild, or evicted. */
  #onSpaceChange(spaceId: string, changed: Space | null): void {
    const creation = this.#creations.get(spaceId);
    if (changed === null) {
      if (creation) creation.cancelled = 'deleted';
      this.evict(spaceId);
      return;
    }
    if (creation) {
      creation.latest = changed;
      creation.stale = true;
    }
    const pooled = this.#agents.get(spaceId);
    if (pooled) pooled.stale = true;
  }

  #retire(
    spaceId: string,
    pooled: PooledAgent,
    reason: 'idle' | 'stale' | 'manual' | 'dispose' | 'capacity',
  ): void {
    this.#logger.info('agent.evicted', { spaceId, reason });
    pooled.held.release();
    const { agent } = pooled;
    this.#retiring.add(agent);
    const dispose = () => {
      this.#retiring.delete(agent);
      try {
        agent.dispose();
      } catch (error) {
        this.#logger.error('agent.dispose_failed', { spaceId, error });
      }
    };
    agent.idle().then(dispose, (error: unknown) => {
      this.#logger.error('agent.dispose_failed', { spaceId, error });
      dispose();
    });
  }

  #sweep(): void {
    const now = Date.now();
    for (const [spaceId, pooled] of this.#agents) {
      if (now - pooled.lastUsedAt >= this.#idleTtlMs && !pooled.agent.isBusy()) {
        this.#agents.delete(spaceId);
        this.#retire(spaceId, pooled, 'idle');
      }
    }
    if (this.#agents.size === 0) this.#stopTimer();
  }

  /** Starts the sweep (only while agents are cached); unref'd so it never keeps the process alive. */
  #startTimer(): void {
    if (this.#timer || this.#disposed) return;
    const intervalMs = Math.max(1, Math.min(this.#idleTtlMs, MAX_SWEEP_INTERVAL_MS));
    this.#timer = setInterval(() => this.#sweep(), intervalMs);
    this.#timer.unref();
  }

  #stopTimer(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }
}

function disposedError(): RuntimeError {
  return new RuntimeError('INVALID_ARGUMENT', 'agent pool is disposed');
}
