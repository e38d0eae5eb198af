// One file over the size rule on purpose: `StelloAgent` is the public facade of the seeds' API, one
// short method per seed operation, each delegating to turns/, memory/, sessions/ or tools/.
import { randomUUID } from 'node:crypto';
import type { IntegrateResult, Session, TurnStatus } from '@stello-ai/session';
import { isCodedError, SessionError, sessionNotFoundError } from '@stello-ai/session';
import type { EngineForkOptions, StelloAgentConfig, Tool, ToolAgent, TurnOptions } from '../agent-types';
import { CoreError } from '../errors';
import type { AgentErrorListener } from '../hooks';
import { HookDispatcher } from '../hooks';
import { MemoryWork } from '../memory/memory-work';
import { historyUpTo } from '../sessions/fork-from-record';
import { toForkOptions } from '../sessions/fork-options';
import type { RuntimeManager } from '../sessions/runtime-manager';
import { SessionObjects } from '../sessions/session-objects';
import { normalizeSkills, normalizeTools } from '../tools/legacy-capabilities';
import { createActivateSkillTool, SkillRouter } from '../tools/skills';
import { ToolRegistry } from '../tools/tools';
import { AgentTurns, turnLeaseTimes } from '../turns/agent-turns';
import { SerialQueue } from '../turns/serial-queue';
import { TextChannel } from '../turns/text-channel';
import type { TurnInfo } from '../turns/turn-ledger';
import type {
  BootstrapResult,
  EngineStreamResult,
  EngineTurnResult,
  MemoryEngine,
  SessionInfo,
  SessionTree,
  SessionTreeNode,
  TopologyNode,
} from '../types';

/*
 * The facade of one space's agent: it checks its configuration, wires the jobs together and
 * delegates. Each job lives in its own folder and gets what it needs of the agent through a small
 * deps object: turns (../turns/agent-turns), memory work (../memory/memory-work), session objects
 * (../sessions/session-objects). Over 350 lines because it carries the documentation of the
 * package's main public API; its methods are a few lines each.
 */

/** Events of a {@link StelloAgent}. */
export interface StelloAgentEventMap {
  /** Failures no caller receives: hooks, lifecycle callbacks, background consolidation and integration. */
  error: AgentErrorListener;
}

/**
 * Creates a {@link StelloAgent}: one space's session tree, turn engine and memory work.
 *
 * @example
 * const agent = createStelloAgent({ ...createInMemoryStores(), llm: createOfflineAdapter() });
 * const root = await agent.createRoot('My space');
 * const { turn } = await agent.turn(root.id, 'Hello');
 */
export function createStelloAgent(config: StelloAgentConfig): StelloAgent {
  return new StelloAgent(config);
}

/**
 * The agent of one space: turns with tools on any session of its tree, forks, archive, and the
 * memory work (consolidation of sessions, integration at the root) in the background.
 *
 * Mutating operations on one session (turn, the whole of a stream, archive, putInsight) run
 * one at a time; operations on different sessions run in parallel. Across agents — other server
 * instances over the same database — turns on one session also run one at a time: each turn
 * holds the session's turn lease in storage, and a turn that finds it taken waits for it.
 * Consolidations of one session never overlap, and neither do integrations; they run beside
 * turns and never delay them. Session objects ("runtimes") are cached while held (`attachSession`) and recycled when
 * idle.
 *
 * @throws CoreError `INVALID_TOOL` / `DUPLICATE_TOOL` from the constructor for unusable tools.
 */
export class StelloAgent implements ToolAgent {
  /** The space's topology. */
  readonly sessions: SessionTree;
  /** The space's L1/L2/L3 access. */
  readonly memory: MemoryEngine;
  /** The configuration the agent was built with. */
  readonly config: Readonly<StelloAgentConfig>;

  readonly #queue = new SerialQueue();
  readonly #hooks: HookDispatcher;
  readonly #tools: ToolRegistry;
  readonly #skills: SkillRouter;
  readonly #sessionObjects: SessionObjects;
  readonly #memoryWork: MemoryWork;
  readonly #turns: AgentTurns;
  #rootId: string | null = null;
  #active = 0;
  #disposed = false;

  constructor(config: StelloAgentConfig) {
    if (!config.sessions || !config.memory) {
      throw new SessionError('INVALID_ARGUMENT', 'a stello agent needs `sessions` and `memory`');
    }
    if (!config.storage && !config.session?.sessionResolver) {
      throw new SessionError(
        'INVALID_ARGUMENT',
        'a stello agent needs `storage` or `session.sessionResolver`',
      );
    }
    const leaseTimes = turnLeaseTimes(config);
    this.config = config;
    this.sessions = config.sessions;
    this.memory = config.memory;
    this.#hooks = new HookDispatcher(config.orchestration?.hooks);
    // Any shape the original 0.2.x accepted (router and runtime objects) becomes a list here.
    this.#skills = new SkillRouter(normalizeSkills(config.capabilities?.skills));
    const tools: Tool[] = [...normalizeTools(config.capabilities?.tools)];
    if (this.#skills.size > 0) tools.push(createActivateSkillTool(this.#skills) as Tool);
    this.#tools = new ToolRegistry(tools);
    this.#sessionObjects = new SessionObjects(config);
    this.#memoryWork = new MemoryWork({
      config,
      hooks: this.#hooks,
      sessionObjects: this.#sessionObjects,
      requireRootId: () => this.#requireRootId(),
    });
    this.#turns = new AgentTurns(
      {
        config,
        agent: this,
        hooks: this.#hooks,
        tools: this.#tools,
        queue: this.#queue,
        sessionObjects: this.#sessionObjects,
        track: (operation) => this.#track(operation),
        requireMeta: (sessionId) => this.#requireMeta(sessionId),
        afterChildTurn: (sessionId, turnCount) => this.#memoryWork.scheduler.afterTurn(sessionId, turnCount),
      },
      leaseTimes,
    );
  }

  /** The session-object cache. */
  get #runtimes(): RuntimeManager<Session> {
    return this.#sessionObjects.runtimes;
  }

  /** The tools the model may call (configured tools, plus `activate_skill` when skills exist). */
  get tools(): ToolRegistry {
    return this.#tools;
  }

  /** The configured skills. */
  get skills(): SkillRouter {
    return this.#skills;
  }

  /** Turns, streams and forks accepted and not yet settled (queued ones included). */
  get activeTurnCount(): number {
    return this.#active;
  }

  /** True while sessions are held, operations run or memory work is pending: do not evict. */
  isBusy(): boolean {
    return this.#runtimes.totalHolders > 0 || this.#active > 0 || this.#memoryWork.scheduler.busy;
  }

  /** Creates the space's root session if there is none; returns the root. Idempotent. */
  async createRoot(label?: string): Promise<TopologyNode> {
    this.#assertOpen();
    const root = await this.sessions.createRoot(label);
    this.#rootId = root.id;
    return root;
  }

  /** The nested tree from the root. */
  getTree(): Promise<SessionTreeNode> {
    return this.sessions.getTree();
  }

  /**
   * Adds `holderId` to the holders of `sessionId`'s runtime (created once, even for concurrent
   * attaches). The runtime stays cached while it has holders.
   *
   * @throws SessionError `SESSION_NOT_FOUND` for an id outside the space (no holder is left).
   */
  async attachSession(sessionId: string, holderId: string): Promise<void> {
    this.#assertOpen();
    await this.#runtimes.acquire(sessionId, holderId);
  }

  /** Removes `holderId`; without holders the runtime is recycled after `runtime.recyclePolicy.idleTtlMs`. */
  async detachSession(sessionId: string, holderId: string): Promise<void> {
    this.#runtimes.release(sessionId, holderId);
  }

  /** True when a runtime of `sessionId` is cached. */
  hasActiveEngine(sessionId: string): boolean {
    return this.#runtimes.has(sessionId);
  }

  /** Number of holders of `sessionId`'s runtime (attached clients and running operations). */
  getEngineRefCount(sessionId: string): number {
    return this.#runtimes.holderCount(sessionId);
  }

  /**
   * Bootstraps a client's entry into a session: `lifecycle.bootstrap` when configured, else the
   * assembled memory context and the session's meta. Fires `onSessionEnter`.
   *
   * @throws SessionError `SESSION_NOT_FOUND`.
   */
  async enterSession(sessionId: string): Promise<BootstrapResult> {
    this.#assertOpen();
    const meta = await this.#requireMeta(sessionId);
    const bootstrap = this.config.capabilities?.lifecycle?.bootstrap;
    const result = bootstrap
      ? await bootstrap(sessionId)
      : { context: await this.memory.assembleContext(sessionId), session: meta };
    this.#hooks.fire('onSessionEnter', { sessionId });
    return result;
  }

  /**
   * Records that a client left a session: fires `onSessionLeave` and, unless disabled, schedules
   * its consolidation in the background (never for the root, which integrates instead).
   *
   * @throws SessionError `SESSION_NOT_FOUND`.
   */
  async leaveSession(sessionId: string): Promise<{ sessionId: string }> {
    this.#assertOpen();
    await this.#requireMeta(sessionId);
    this.#hooks.fire('onSessionLeave', { sessionId });
    if (!(await this.#isRoot(sessionId))) this.#memoryWork.scheduler.onLeave(sessionId);
    return { sessionId };
  }

  /**
   * Runs one turn on `sessionId` (after any operation already queued on it, and after a turn
   * another instance runs on it) and stores it.
   *
   * @throws SessionError `SESSION_NOT_FOUND`, `SESSION_ARCHIVED`, `NO_LLM`, `LLM_ERROR`,
   *   `ABORTED` (nothing written), `SESSION_BUSY` (another instance's turn held the session
   *   longer than `orchestration.turnLeaseWaitMs`), `TURN_CONFLICT` (a writer that takes no
   *   lease committed a turn meanwhile).
   */
  turn(sessionId: string, input: string, options: TurnOptions = {}): Promise<EngineTurnResult> {
    return this.#turns.submit(sessionId, input, options);
  }

  /**
   * Runs one turn like {@link turn}, streaming the text of every LLM round. The stream holds the
   * session's queue until `result` settles. A consumer that stops reading does not cancel the
   * turn (use `signal` or `cancelTurn`); a failed turn ends the iteration with its error and
   * rejects `result`.
   */
  stream(sessionId: string, input: string, options: TurnOptions = {}): EngineStreamResult {
    const channel = new TextChannel();
    // Chosen here so the caller knows it before the first delta.
    const turnId = options.turnId ?? randomUUID();
    const result = this.#turns.submit(sessionId, input, { ...options, turnId }, (text) => channel.push(text));
    result.then(
      () => channel.close(),
      (error: unknown) => channel.fail(error),
    );
    return Object.assign(channel, { result, turnId }) as unknown as EngineStreamResult;
  }

  /**
   * Cancels a turn: aborts its LLM call and running tools when it runs (or waits) in this agent,
   * and records the cancel in storage, so the process that runs it (told by a `turn.cancel`
   * control event) aborts it and its commit is refused. A queued turn ends at once; an unknown
   * id is recorded cancelled, so a late submission of it ends cancelled. Nothing of a cancelled
   * turn is written; its caller gets `TURN_CANCELLED`.
   *
   * @throws SessionError `SESSION_NOT_FOUND`, `TURN_NOT_FOUND` (storage without a turn ledger),
   *   `TURN_ID_CONFLICT` (the id is a turn of another session), `INVALID_ARGUMENT`
   */
  async cancelTurn(sessionId: string, turnId: string): Promise<{ turnId: string; status: TurnStatus }> {
    this.#assertOpen();
    return this.#turns.cancel(sessionId, turnId);
  }

  /**
   * Where a turn stands: `queued` while it waits here, else what storage's ledger says (a turn
   * whose process died reads `failed`); `null` when unknown.
   */
  async getTurn(sessionId: string, turnId: string): Promise<TurnInfo | null> {
    this.#assertOpen();
    return this.#turns.get(sessionId, turnId);
  }

  /**
   * Aborts `turnId` if it runs or waits in this agent (what a `turn.cancel` control event from
   * another process asks); false when it is not here.
   */
  abortLocalTurn(turnId: string): boolean {
    return this.#turns.abortLocal(turnId);
  }

  /**
   * Forks a child under `sessionId` (a real tree: the child's parent is the session the fork was
   * called on). Profile defaults are merged under the explicit options; the parent's system
   * prompt is copied unless one is given. Fires `onSessionFork`.
   *
   * Not queued behind the parent's turns (a tool may fork its own session); storage keeps
   * sibling indexes unique under concurrent forks.
   *
   * @throws SessionError `SESSION_NOT_FOUND` / `SESSION_ARCHIVED` (parent); CoreError `PROFILE_NOT_FOUND`.
   */
  forkSession(sessionId: string, options: EngineForkOptions): Promise<SessionInfo> {
    return this.#track(async () => {
      const forkOptions = toForkOptions(options, this.config.capabilities?.profiles);
      if (options.fromRecordId !== undefined) {
        // A fork from an earlier message: that history, read by keyset pages, not the newest window.
        forkOptions.context = await historyUpTo(this.memory, sessionId, options.fromRecordId);
      }
      const child = await this.#sessionObjects.withRuntime(sessionId, 'fork', (session) =>
        session.fork(forkOptions),
      );
      const info = await this.sessions.getInfo(child.id);
      if (!info) throw new SessionError('SESSION_NOT_FOUND', `forked session "${child.id}" not found`);
      this.#hooks.fire('onSessionFork', { parentId: sessionId, child: info });
      return info;
    });
  }

  /**
   * Archives `sessionId` (queued behind its running turn). Children are not affected; the data
   * stays readable; turns and forks on it are refused from then on. Fires `onSessionArchive`.
   *
   * @throws SessionError `SESSION_NOT_FOUND`.
   */
  async archiveSession(sessionId: string): Promise<{ sessionId: string }> {
    this.#assertOpen();
    return this.#queue.run(sessionId, async () => {
      await this.sessions.archive(sessionId);
      this.#memoryWork.forget(sessionId);
      this.#hooks.fire('onSessionArchive', { sessionId });
      return { sessionId };
    });
  }

  /**
   * Puts a one-shot insight into `sessionId`'s inbox (replacing any pending one); it is shown to
   * the model on the session's next turn and consumed when that turn commits.
   *
   * @throws SessionError `SESSION_NOT_FOUND`, `SESSION_ARCHIVED`.
   */
  async putInsight(sessionId: string, content: string): Promise<void> {
    this.#assertOpen();
    return this.#queue.run(sessionId, () =>
      this.#sessionObjects.withRuntime(sessionId, 'insight', (session) => session.setInsight(content)),
    );
  }

  /**
   * Consolidates `sessionId` now (L3 → L2), after a consolidation already running on it, and
   * resolves to its memory (unchanged when it has no records).
   *
   * @throws SessionError `SESSION_NOT_FOUND`, `SESSION_ARCHIVED`, `NO_LLM`; CoreError
   *   `INVALID_OPERATION` for the root, `INVALID_MODEL_REPLY`.
   */
  async consolidateSession(sessionId: string): Promise<string | null> {
    this.#assertOpen();
    const meta = await this.#requireMeta(sessionId);
    if (await this.#isRoot(sessionId)) {
      throw new CoreError('INVALID_OPERATION', 'the main session is not consolidated; it integrates', {
        details: { sessionId },
      });
    }
    if (meta.status === 'archived') {
      throw new SessionError('SESSION_ARCHIVED', `session "${sessionId}" is archived`);
    }
    return this.#memoryWork.consolidateNow(sessionId);
  }

  /**
   * Integrates now: the root reads every active child's L2 and writes its synthesis and one
   * insight per child it names, in one transaction.
   *
   * @throws SessionError `SESSION_NOT_FOUND` (no root), `SESSION_ARCHIVED`, `NO_LLM`; CoreError
   *   `INVALID_MODEL_REPLY` (nothing written).
   */
  async integrate(): Promise<IntegrateResult> {
    this.#assertOpen();
    return this.#memoryWork.integrateNow();
  }

  /** Resolves when all queued background memory work (and the work it scheduled) has settled. */
  idle(): Promise<void> {
    return this.#memoryWork.scheduler.idle();
  }

  /** Adds a listener of `event`. */
  on<TEvent extends keyof StelloAgentEventMap>(event: TEvent, listener: StelloAgentEventMap[TEvent]): this {
    if (event === 'error') this.#hooks.on(listener);
    return this;
  }

  /** Removes a listener of `event`. */
  off<TEvent extends keyof StelloAgentEventMap>(event: TEvent, listener: StelloAgentEventMap[TEvent]): this {
    if (event === 'error') this.#hooks.off(listener);
    return this;
  }

  /**
   * Stops the agent: no new operations (they reject with `AGENT_DISPOSED`) and no new background
   * work; cached runtimes are dropped. Running turns finish; await `idle()` for memory work.
   */
  dispose(): void {
    this.#disposed = true;
    this.#memoryWork.scheduler.close();
    this.#runtimes.clear();
  }

  async #requireMeta(sessionId: string) {
    const meta = await this.sessions.get(sessionId);
    if (!meta) throw sessionNotFoundError(sessionId);
    return meta;
  }

  async #requireRootId(): Promise<string> {
    if (this.#rootId === null) this.#rootId = (await this.sessions.getRoot()).id;
    return this.#rootId;
  }

  async #isRoot(sessionId: string): Promise<boolean> {
    try {
      return (await this.#requireRootId()) === sessionId;
    } catch (error) {
      if (isCodedError(error, 'SESSION_NOT_FOUND')) return false;
      throw error;
    }
  }

  /** Counts an operation from its call until it settles, and refuses it once disposed. */
  #track<T>(operation: () => Promise<T>): Promise<T> {
    if (this.#disposed) return Promise.reject(new CoreError('AGENT_DISPOSED', 'the agent has been disposed'));
    this.#active += 1;
    let settled: Promise<T>;
    try {
      settled = operation();
    } catch (error) {
      this.#active -= 1;
      return Promise.reject(error);
    }
    return settled.finally(() => {
      this.#active -= 1;
    });
  }

  /** Throws `AGENT_DISPOSED` once disposed (call it only inside async methods). */
  #assertOpen(): void {
    if (this.#disposed) throw new CoreError('AGENT_DISPOSED', 'the agent has been disposed');
  }
}
