// One file over the size rule on purpose: the cache of agents and its eviction share one map; the
// options are in agent-pool-options.ts and the config of an agent in agent-config.ts.
import { createStelloAgent, type StelloAgent } from '@stello-ai/core';
import type { PgStores, Space } from '@stello-ai/storage';
import { completeAgentConfig } from './agent-config';
import {
  type AgentBuildContext,
  type AgentPoolOptions,
  DEFAULT_AGENT_IDLE_TTL_MS,
  DEFAULT_MAX_CACHED_AGENTS,
  DEFAULT_MAX_CACHED_BYTES,
  type TurnControlEvent,
} from './agent-pool-options';
import { RuntimeError, spaceNotFound } from './errors';
import { type Logger, silentLogger } from './logger';
import type { HeldSpace, SpaceManager } from './space-manager';

export {
  type AgentBuildConfig,
  type AgentBuildContext,
  type AgentPoolOptions,
  DEFAULT_AGENT_IDLE_TTL_MS,
  DEFAULT_MAX_CACHED_AGENTS,
  DEFAULT_MAX_CACHED_BYTES,
  DEFAULT_MIN_CONSOLIDATE_EVERY_N_TURNS,
  type TurnControlEvent,
} from './agent-pool-options';

/** Longest pause between two eviction sweeps. */
const MAX_SWEEP_INTERVAL_MS = 60_000;

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
      agent = createStelloAgent(completeAgentConfig(ctx, held, built, this.#options, this.#logger));
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
