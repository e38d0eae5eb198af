import { randomUUID } from 'node:crypto';
import type {
  ConsolidateFn,
  ForkOptions,
  IntegrateFn,
  IntegrateResult,
  LLMCallFn,
  MainSession,
  MainStorage,
  Session,
  SessionMeta,
  SessionStorage,
  TurnClaim,
  TurnConcurrency,
  TurnStatus,
} from '@stello-ai/session';
import {
  createLLMCallFn,
  isCodedError,
  openSession,
  SessionError,
  sessionNotFoundError,
} from '@stello-ai/session';
import { abortedError } from './abort';
import type {
  EngineForkOptions,
  ForkProfile,
  StelloAgentConfig,
  Tool,
  ToolAgent,
  TurnOptions,
} from './agent-types';
import {
  createDefaultConsolidateFn,
  createDefaultIntegrateFn,
  DEFAULT_CONSOLIDATE_PROMPT,
  DEFAULT_INTEGRATE_PROMPT,
} from './defaults';
import { CoreError } from './errors';
import type { AgentErrorListener } from './hooks';
import { HookDispatcher } from './hooks';
import { normalizeSkills, normalizeTools } from './legacy-capabilities';
import { type LocalTurn, LocalTurns } from './local-turns';
import { RuntimeManager } from './runtime-manager';
import { MemoryScheduler } from './scheduler';
import { SerialQueue } from './serial-queue';
import { createActivateSkillTool, SkillRouter } from './skills';
import { TextChannel } from './text-channel';
import { ToolRegistry } from './tools';
import {
  DEFAULT_TURN_LEASE_TTL_MS,
  DEFAULT_TURN_LEASE_WAIT_MS,
  isSameTurn,
  type TurnLeaseSettings,
} from './turn-lease';
import {
  replayFinishedTurn,
  requestHash,
  storedError,
  TURN_CONCURRENCIES,
  type TurnInfo,
  type TurnProgressEvent,
  toTurnInfo,
  turnCancelledError,
  turnIdConflictError,
} from './turn-ledger';
import { DEFAULT_MAX_TOOL_ROUNDS, FinishedTurn, runTurn } from './turn-runner';
import type {
  BootstrapResult,
  EngineStreamResult,
  EngineTurnResult,
  MemoryEngine,
  SessionInfo,
  SessionTree,
  SessionTreeNode,
  TopologyNode,
} from './types';

/**
 * How long a session's runtime (its session object) stays cached without holders. Keeping it
 * saves the session lookup on the next turn; every turn re-reads the session's state anyway.
 */
export const DEFAULT_RUNTIME_IDLE_TTL_MS = 60_000;
/** Turns that may wait (or run) on one session in one agent before more are refused with `SESSION_BUSY`. */
export const DEFAULT_MAX_QUEUED_TURNS = 64;

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

  #queue = new SerialQueue();
  #runtimes: RuntimeManager<Session>;
  #hooks: HookDispatcher;
  #scheduler: MemoryScheduler;
  #tools: ToolRegistry;
  #skills: SkillRouter;
  #llmCall: LLMCallFn | null;
  #rootId: string | null = null;
  /** Turn count at the last consolidation of each session, so a repeated leave costs no LLM call. */
  #consolidatedAt = new Map<string, number>();
  #active = 0;
  #operationSeq = 0;
  #disposed = false;
  /** Prefix of this agent's lease owners: unique per agent, so no two instances share an owner. */
  readonly #leasePrefix = `agent:${randomUUID()}`;
  #leaseSeq = 0;
  /** Sessions whose turn runs here under a lease; a turn that finds its session here is re-entrant. */
  #leasedSessions = new Set<string>();
  readonly #leaseTtlMs: number;
  readonly #leaseWaitMs: number;
  /** Turns submitted here and not settled: shared by retries, found by cancels. */
  readonly #localTurns = new LocalTurns();

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
    this.#leaseTtlMs = config.orchestration?.turnLeaseTtlMs ?? DEFAULT_TURN_LEASE_TTL_MS;
    this.#leaseWaitMs = config.orchestration?.turnLeaseWaitMs ?? DEFAULT_TURN_LEASE_WAIT_MS;
    if (!Number.isInteger(this.#leaseTtlMs) || this.#leaseTtlMs < 1) {
      throw new SessionError('INVALID_ARGUMENT', 'orchestration.turnLeaseTtlMs must be a positive integer');
    }
    if (!Number.isFinite(this.#leaseWaitMs) || this.#leaseWaitMs < 0) {
      throw new SessionError(
        'INVALID_ARGUMENT',
        'orchestration.turnLeaseWaitMs must be a non-negative number',
      );
    }
    this.config = config;
    this.sessions = config.sessions;
    this.memory = config.memory;
    this.#hooks = new HookDispatcher(config.orchestration?.hooks);
    // Any shape the original 0.2.x accepted (router and runtime objects) becomes a list here.
    this.#skills = new SkillRouter(normalizeSkills(config.capabilities?.skills));
    const tools: Tool[] = [...normalizeTools(config.capabilities?.tools)];
    if (this.#skills.size > 0) tools.push(createActivateSkillTool(this.#skills) as Tool);
    this.#tools = new ToolRegistry(tools);
    this.#llmCall = config.session?.llmCall ?? (config.llm ? createLLMCallFn(config.llm) : null);
    this.#runtimes = new RuntimeManager<Session>({
      create: (id) => this.#loadSession(id),
      idleTtlMs: config.runtime?.recyclePolicy?.idleTtlMs ?? DEFAULT_RUNTIME_IDLE_TTL_MS,
    });
    const orchestration = config.orchestration ?? {};
    this.#scheduler = new MemoryScheduler({
      consolidate: (id, force) => this.#consolidate(id, force),
      integrate: (force) => this.#integrate(force),
      report: (event) => this.#hooks.report(event),
      // Without a function or a model to run them, automatic memory work stays off.
      consolidateEveryNTurns: this.#canConsolidate() ? orchestration.consolidateEveryNTurns : 0,
      consolidateOnLeave: this.#canConsolidate() && (orchestration.consolidateOnLeave ?? true),
      integrateAfterConsolidate: this.#canIntegrate() && (orchestration.integrateAfterConsolidate ?? true),
    });
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
    return this.#runtimes.totalHolders > 0 || this.#active > 0 || this.#scheduler.busy;
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
    if (!(await this.#isRoot(sessionId))) this.#scheduler.onLeave(sessionId);
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
    return this.#submit(sessionId, input, options);
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
    const result = this.#submit(sessionId, input, { ...options, turnId }, (text) => channel.push(text));
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
    assertTurnId(turnId);
    const mine = this.#localTurns.get(turnId)?.sessionId === sessionId;
    if (mine) this.#localTurns.cancel(turnId, turnCancelledError(turnId));
    const ledger = this.#ledger();
    if (ledger) {
      const status = await ledger.requestTurnCancel(sessionId, turnId);
      if (status === null) throw sessionNotFoundError(sessionId);
      // A local turn that committed just before the abort stays completed.
      return { turnId, status: mine && status !== 'completed' ? 'cancelled' : status };
    }
    if (mine) return { turnId, status: 'cancelled' };
    await this.#requireMeta(sessionId);
    throw turnNotFoundError(turnId);
  }

  /**
   * Where a turn stands: `queued` while it waits here, else what storage's ledger says (a turn
   * whose process died reads `failed`); `null` when unknown.
   */
  async getTurn(sessionId: string, turnId: string): Promise<TurnInfo | null> {
    this.#assertOpen();
    assertTurnId(turnId);
    const local = this.#localTurns.get(turnId);
    if (local?.sessionId === sessionId) return { turnId, sessionId, status: local.status };
    const stored = await this.#ledger()?.getTurn(sessionId, turnId);
    return stored ? toTurnInfo(stored) : null;
  }

  /**
   * Aborts `turnId` if it runs or waits in this agent (what a `turn.cancel` control event from
   * another process asks); false when it is not here.
   */
  abortLocalTurn(turnId: string): boolean {
    return this.#localTurns.cancel(turnId, turnCancelledError(turnId));
  }

  /**
   * Submits a turn: a turn id already running here shares its promise (one LLM call), another
   * input under that id is `TURN_ID_CONFLICT`; under `reject` a session busy here fails at once.
   */
  #submit(
    sessionId: string,
    input: string,
    options: TurnOptions,
    onDelta?: (text: string) => void,
  ): Promise<EngineTurnResult> {
    let turnId: string;
    let concurrency: TurnConcurrency;
    try {
      if (options.turnId !== undefined) assertTurnId(options.turnId);
      turnId = options.turnId ?? randomUUID();
      concurrency = options.concurrency ?? this.config.orchestration?.concurrency ?? 'enqueue';
      if (!TURN_CONCURRENCIES.has(concurrency)) {
        throw new SessionError('INVALID_ARGUMENT', 'concurrency must be enqueue or reject', {
          details: { field: 'concurrency' },
        });
      }
    } catch (error) {
      return Promise.reject(error);
    }
    const hash = requestHash(input);
    const existing = this.#localTurns.get(turnId);
    if (existing) {
      if (existing.sessionId !== sessionId || existing.requestHash !== hash) {
        return Promise.reject(turnIdConflictError(turnId));
      }
      return abortable(existing.promise, options.signal);
    }
    // A tool's turn on its own session runs inside that turn: it is never "busy" with itself.
    if (concurrency === 'reject' && !SerialQueue.isHeld(sessionId)) {
      const running = this.#localTurns.runningOn(sessionId);
      if (running !== undefined || !this.#queue.isIdle(sessionId)) {
        return Promise.reject(
          new SessionError('SESSION_BUSY', `session "${sessionId}" is running another turn`, {
            details: { sessionId, ...(running ? { turnId: running } : {}) },
          }),
        );
      }
    }
    // A bounded queue per session: past it a turn is refused at once instead of piling up.
    const maxQueued = this.config.orchestration?.maxQueuedTurns ?? DEFAULT_MAX_QUEUED_TURNS;
    if (!SerialQueue.isHeld(sessionId) && this.#queue.depth(sessionId) >= maxQueued) {
      return Promise.reject(
        new SessionError('SESSION_BUSY', `session "${sessionId}" already has ${maxQueued} turns waiting`, {
          details: { sessionId, queued: this.#queue.depth(sessionId), maxQueuedTurns: maxQueued },
        }),
      );
    }
    const controller = new AbortController();
    const outer = options.signal;
    const forward = () => controller.abort(outer?.reason);
    if (outer?.aborted) forward();
    else outer?.addEventListener('abort', forward, { once: true });
    const local: LocalTurn = {
      turnId,
      sessionId,
      requestHash: hash,
      status: 'queued',
      controller,
      cancelled: false,
      promise: Promise.resolve() as unknown as Promise<EngineTurnResult>,
    };
    const run = this.#track(() =>
      abortable(
        this.#queue.run(sessionId, async () => {
          this.#localTurns.started(local);
          try {
            return await this.#runTurn(sessionId, input, options, local, concurrency, onDelta);
          } finally {
            this.#localTurns.finished(local);
          }
        }),
        controller.signal,
      ),
    );
    local.promise = run
      .catch((error: unknown) => {
        throw local.cancelled ? turnCancelledError(turnId) : error;
      })
      .finally(() => outer?.removeEventListener('abort', forward));
    this.#localTurns.add(local);
    return local.promise;
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
      const forkOptions = this.#forkOptions(options);
      const child = await this.#withRuntime(sessionId, 'fork', (session) => session.fork(forkOptions));
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
      this.#consolidatedAt.delete(sessionId);
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
      this.#withRuntime(sessionId, 'insight', (session) => session.setInsight(content)),
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
    if (!this.#canConsolidate()) this.#requireLlmCall(sessionId);
    const memory = await this.#scheduler.consolidate(sessionId, { force: true });
    return memory ?? (await this.memory.readMemory(sessionId));
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
    if (!this.#canIntegrate()) this.#requireLlmCall();
    const result = await this.#scheduler.integrate({ force: true });
    return result ?? { synthesis: '', insights: [] };
  }

  /** Resolves when all queued background memory work (and the work it scheduled) has settled. */
  idle(): Promise<void> {
    return this.#scheduler.idle();
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
    this.#scheduler.close();
    this.#runtimes.clear();
  }

  async #runTurn(
    sessionId: string,
    input: string,
    options: TurnOptions,
    local: LocalTurn,
    concurrency: TurnConcurrency,
    onDelta?: (text: string) => void,
  ): Promise<EngineTurnResult> {
    const { turnId } = local;
    this.#hooks.fire('onMessageReceived', { sessionId, input });
    const ledger = this.#ledger();
    const claim: TurnClaim | undefined = ledger
      ? { turnId, requestHash: local.requestHash, concurrency }
      : undefined;
    const lease = this.#leaseFor(sessionId, claim, concurrency === 'reject');
    // Whether the ledger already knows how the turn ended (recorded once, before the release).
    let recorded = false;
    const record = async (error: unknown) => {
      if (recorded || !claim || !ownsLedgerEntry(error)) return;
      recorded = true;
      await this.#finishTurn(sessionId, turnId, isCancel(error, local), error);
    };
    if (lease && claim) lease.beforeRelease = record;
    if (lease) this.#leasedSessions.add(sessionId);
    const emit = progressEmitter(options.onEvent, local.controller.signal, (error) =>
      this.#hooks.report({ error, phase: 'turn', sessionId }),
    );
    const deltas =
      onDelta || options.onEvent
        ? (text: string) => {
            onDelta?.(text);
            emit({ type: 'delta', text });
          }
        : undefined;
    let outcome: Awaited<ReturnType<typeof runTurn>>;
    let isMain: boolean;
    try {
      ({ outcome, isMain } = await this.#withTurnSession(sessionId, async (session) => ({
        outcome: await runTurn({
          session,
          input,
          tools: this.#tools,
          maxToolRounds: this.config.orchestration?.maxToolRounds ?? DEFAULT_MAX_TOOL_ROUNDS,
          signal: local.controller.signal,
          ...(deltas ? { onDelta: deltas } : {}),
          ...(lease ? { lease } : {}),
          toolContext: (call, signal) => ({
            agent: this,
            sessionId,
            toolCallId: call.id,
            toolName: call.name,
            signal,
          }),
          observers: {
            onRoundStart: (round) => {
              // The first round starts once the turn holds the session.
              local.status = 'running';
              this.#hooks.fire('onRoundStart', { sessionId, round });
            },
            onToolCall: (toolCall) => {
              emit({ type: 'tool.call', callId: toolCall.id, name: toolCall.name, input: toolCall.input });
              this.#hooks.fire('onToolCall', { sessionId, toolCall });
            },
            onToolResult: (toolCall, result, isError) => {
              emit(
                isError
                  ? { type: 'tool.result', callId: toolCall.id, ok: false, error: String(result) }
                  : { type: 'tool.result', callId: toolCall.id, ok: true, output: result },
              );
              this.#hooks.fire('onToolResult', { sessionId, toolCall, result, isError });
            },
          },
        }),
        // Read after the turn: its own read refreshed the meta (a transient object starts blank).
        isMain: session.meta.role === 'main',
      })));
    } catch (error) {
      // A resubmitted id that already ended: its stored result, or its error again.
      if (error instanceof FinishedTurn) return replayFinishedTurn(error.turn);
      // The caller receives the error; onError observes it (an abort is not a failure).
      if (!isCancel(error, local)) this.#hooks.notifyOnError({ error, phase: 'turn', sessionId });
      await record(error);
      throw error;
    } finally {
      if (lease) this.#leasedSessions.delete(sessionId);
    }
    const { turn, commit } = outcome;
    const result: EngineTurnResult = { turnId, turn };
    this.#hooks.fire('onAssistantReply', {
      sessionId,
      content: turn.finalContent,
      rawResponse: turn.rawResponse,
    });
    this.#hooks.fire('onRoundEnd', { sessionId, turn });
    const afterTurn = this.config.capabilities?.lifecycle?.afterTurn;
    if (afterTurn)
      this.#hooks.fireCallback('afterTurn', sessionId, () => afterTurn(sessionId, input, result));
    // The root never consolidates: it integrates what its children consolidated.
    if (!isMain) this.#scheduler.afterTurn(sessionId, commit.turnCount);
    return result;
  }

  /** Records a failed or cancelled turn in the ledger (off the warm path); a failure is reported. */
  async #finishTurn(sessionId: string, turnId: string, cancelled: boolean, error: unknown): Promise<void> {
    try {
      await this.#ledger()?.finishTurn(
        sessionId,
        turnId,
        cancelled ? 'cancelled' : 'failed',
        cancelled ? storedError(turnCancelledError(turnId)) : storedError(error),
      );
    } catch (failure) {
      this.#hooks.report({ error: failure, phase: 'turn', sessionId });
    }
  }

  /** The storage's turn ledger, when it has one and the built-in loader opens sessions on it. */
  #ledger(): LedgerStorage | null {
    const storage = this.config.storage;
    if (!storage || this.config.session?.sessionResolver) return null;
    return hasLedger(storage) ? storage : null;
  }

  /**
   * The lease settings of a new turn on `sessionId`, with an owner of its own; `null` for a turn
   * started by a tool of the turn running on the same session, which already holds the session
   * (waiting for its own lease would only time out).
   */
  #leaseFor(sessionId: string, claim: TurnClaim | undefined, rejectBusy: boolean): TurnLeaseSettings | null {
    if (this.#leasedSessions.has(sessionId)) return null;
    this.#leaseSeq += 1;
    return {
      owner: `${this.#leasePrefix}:${this.#leaseSeq}`,
      ttlMs: this.#leaseTtlMs,
      waitMs: this.#leaseWaitMs,
      onError: (error) => this.#hooks.report({ error, phase: 'turn-lease', sessionId }),
      ...(claim ? { claim } : {}),
      ...(rejectBusy ? { rejectBusy } : {}),
    };
  }

  /**
   * Consolidation of one session; `null` when there is nothing to do. It does not wait in the
   * session's queue: it reads committed records (a commit is atomic, so it never sees half a
   * turn) and writes only the memory slot, which turns never write. Queueing it would hold up
   * the next turn for a whole LLM call, and deadlock a tool that consolidates its own session.
   * The scheduler still runs at most one consolidation per session at a time.
   */
  async #consolidate(sessionId: string, force: boolean): Promise<string | null> {
    const meta = await this.sessions.get(sessionId);
    if (!meta || meta.status === 'archived') return null;
    if (!force && this.#consolidatedAt.get(sessionId) === meta.turnCount) return null;
    return this.#withRuntime(sessionId, 'consolidate', async (session) => {
      if (session.meta.role === 'main') return null;
      const [current, records] = await Promise.all([session.memory(), session.messages()]);
      if (records.length === 0) return null;
      const fn = this.#consolidateFnFor(sessionId, await this.#slot(sessionId, 'consolidate_prompt'));
      const memory = await fn(current, records);
      if (typeof memory !== 'string') {
        throw new CoreError('INVALID_MODEL_REPLY', 'the consolidate function must return a string', {
          details: { sessionId },
        });
      }
      if (!(await this.#writeMemory(session, memory))) return null;
      this.#consolidatedAt.set(sessionId, meta.turnCount);
      this.#hooks.fire('onConsolidated', { sessionId, memory });
      return memory;
    });
  }

  /** Stores a consolidated memory unless the session was archived meanwhile; true when written. */
  async #writeMemory(session: Session, memory: string): Promise<boolean> {
    const storage = this.config.storage;
    // Without storage, Session.consolidate does the check and the write (it re-reads the records).
    if (!storage) return (await session.consolidate(async () => memory)) === memory;
    const meta = await this.sessions.get(session.id);
    if (!meta || meta.status === 'archived') return false;
    await storage.putMemory(session.id, memory);
    return true;
  }

  /** Integration at the root; `null` when the root is archived and the run was not asked for. */
  async #integrate(force = false): Promise<IntegrateResult | null> {
    const rootId = await this.#requireRootId();
    const root = await this.sessions.get(rootId);
    if (root?.status === 'archived') {
      if (!force) return null;
      throw new SessionError('SESSION_ARCHIVED', `session "${rootId}" is archived`);
    }
    const fn = this.#integrateFnFor(await this.#slot(rootId, 'integrate_prompt'));
    return this.#withRuntime(rootId, 'integrate', async (session) => {
      if (!isMainSession(session)) {
        throw new CoreError('INVALID_OPERATION', 'the root session cannot integrate', {
          details: { sessionId: rootId },
        });
      }
      const result = await session.integrate(fn);
      this.#hooks.fire('onIntegrated', { synthesis: result.synthesis, insightCount: result.insights.length });
      return result;
    });
  }

  /** `config.session.consolidateFn`, else the default over the resolved prompt. */
  #consolidateFnFor(sessionId: string, slotPrompt: string | null): ConsolidateFn {
    const explicit = this.config.session?.consolidateFn;
    if (explicit) return explicit;
    const prompt =
      nonEmpty(slotPrompt) ?? nonEmpty(this.config.session?.consolidatePrompt) ?? DEFAULT_CONSOLIDATE_PROMPT;
    return createDefaultConsolidateFn(prompt, this.#requireLlmCall(sessionId));
  }

  /** `config.session.integrateFn`, else the default over the resolved prompt. */
  #integrateFnFor(slotPrompt: string | null): IntegrateFn {
    const explicit = this.config.session?.integrateFn;
    if (explicit) return explicit;
    const prompt =
      nonEmpty(slotPrompt) ?? nonEmpty(this.config.session?.integratePrompt) ?? DEFAULT_INTEGRATE_PROMPT;
    return createDefaultIntegrateFn(prompt, this.#requireLlmCall());
  }

  #requireLlmCall(sessionId?: string): LLMCallFn {
    if (this.#llmCall) return this.#llmCall;
    throw new SessionError('NO_LLM', 'memory work needs `llm`, `session.llmCall` or an explicit function', {
      ...(sessionId ? { details: { sessionId } } : {}),
    });
  }

  #canConsolidate(): boolean {
    return Boolean(this.config.session?.consolidateFn || this.#llmCall);
  }

  #canIntegrate(): boolean {
    return Boolean(this.config.session?.integrateFn || this.#llmCall);
  }

  async #slot(sessionId: string, key: 'consolidate_prompt' | 'integrate_prompt'): Promise<string | null> {
    return this.config.storage ? this.config.storage.getSlot(sessionId, key) : null;
  }

  #forkOptions(options: EngineForkOptions): ForkOptions {
    let profile: ForkProfile | undefined;
    if (options.profile !== undefined) {
      profile = this.config.capabilities?.profiles?.[options.profile];
      if (!profile) {
        throw new CoreError('PROFILE_NOT_FOUND', `fork profile "${options.profile}" is not defined`, {
          details: { profile: options.profile },
        });
      }
    }
    const forkOptions: ForkOptions = {
      label: options.label,
      context: options.context ?? profile?.context ?? 'none',
    };
    const systemPrompt = options.systemPrompt ?? profile?.systemPrompt;
    if (systemPrompt !== undefined) forkOptions.systemPrompt = systemPrompt;
    const prompt = options.prompt ?? profile?.prompt;
    if (prompt !== undefined) forkOptions.prompt = prompt;
    if (options.scope !== undefined) forkOptions.scope = options.scope;
    const tags = [...new Set([...(profile?.tags ?? []), ...(options.tags ?? [])])];
    if (tags.length > 0) forkOptions.tags = tags;
    if (options.metadata !== undefined) forkOptions.metadata = options.metadata;
    return forkOptions;
  }

  /** How the built-in loader opens sessions on `storage`. */
  #sessionOptions(storage: MainStorage) {
    return {
      storage,
      ...(this.config.llm ? { llm: this.config.llm } : {}),
      ...(this.config.session?.context ? { context: this.config.session.context } : {}),
    };
  }

  /**
   * Runs `fn` with the session object of a turn: the cached runtime when there is one. Otherwise,
   * with the built-in loader, a transient object is opened without a lookup — the turn's own read
   * returns the session's state (or `SESSION_NOT_FOUND`), so the first turn on a session costs no
   * extra statement — and is then cached for the next turns.
   */
  async #withTurnSession<T>(sessionId: string, fn: (session: Session) => Promise<T>): Promise<T> {
    const storage = this.config.storage;
    if (this.#runtimes.has(sessionId) || this.config.session?.sessionResolver || !storage) {
      return this.#withRuntime(sessionId, 'turn', fn);
    }
    const options = this.#sessionOptions(storage);
    const session = openSession(blankMeta(sessionId), options);
    const result = await fn(session);
    this.#runtimes.adopt(sessionId, openSession(session.meta, options));
    return result;
  }

  /** Holds `sessionId`'s runtime for the duration of `fn`. */
  async #withRuntime<T>(
    sessionId: string,
    purpose: string,
    fn: (session: Session) => Promise<T>,
  ): Promise<T> {
    this.#operationSeq += 1;
    const holderId = `agent:${purpose}:${this.#operationSeq}`;
    const session = await this.#runtimes.acquire(sessionId, holderId);
    try {
      return await fn(session);
    } finally {
      this.#runtimes.release(sessionId, holderId);
    }
  }

  /** Builds the session object of `sessionId`, or throws `SESSION_NOT_FOUND`. */
  async #loadSession(sessionId: string): Promise<Session> {
    const resolver = this.config.session?.sessionResolver;
    let session: Session | null;
    if (resolver) {
      session = await resolver(sessionId);
    } else {
      const storage = this.config.storage;
      if (!storage) throw new SessionError('INVALID_ARGUMENT', 'the agent has no storage');
      const meta = await storage.getSession(sessionId);
      // One read: the meta found here builds the session object directly.
      session = meta ? openSession(meta, this.#sessionOptions(storage)) : null;
    }
    if (!session) throw sessionNotFoundError(sessionId);
    return session;
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

/**
 * Rejects with `ABORTED` as soon as `signal` aborts, even while the task still waits in the
 * session's queue (it then starts, sees the abort and writes nothing).
 */
function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  promise.catch(() => {});
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortedError(signal));
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** A storage with the turn ledger's optional methods. */
type LedgerStorage = SessionStorage &
  Required<Pick<SessionStorage, 'getTurn' | 'finishTurn' | 'requestTurnCancel'>>;

function hasLedger(storage: SessionStorage): storage is LedgerStorage {
  return (
    typeof storage.getTurn === 'function' &&
    typeof storage.finishTurn === 'function' &&
    typeof storage.requestTurnCancel === 'function'
  );
}

/**
 * False for the errors of a turn whose ledger entry is not this submission's to finish: the id
 * belongs to another request, or it is still running elsewhere (a retry waited for it).
 */
function ownsLedgerEntry(error: unknown): boolean {
  if (isCodedError(error, 'TURN_ID_CONFLICT')) return false;
  return !(isCodedError(error, 'SESSION_BUSY') && isSameTurn(error));
}

/** True when a turn ended by a cancel or an abort (recorded `cancelled`, not reported as a failure). */
function isCancel(error: unknown, local: LocalTurn): boolean {
  return local.cancelled || isCodedError(error, 'ABORTED') || isCodedError(error, 'TURN_CANCELLED');
}

/** Calls `onEvent` safely (a listener that throws is reported, never fails the turn), until the turn aborts. */
function progressEmitter(
  onEvent: ((event: TurnProgressEvent) => void) | undefined,
  signal: AbortSignal,
  report: (error: unknown) => void,
): (event: TurnProgressEvent) => void {
  if (!onEvent) return () => undefined;
  return (event) => {
    // An aborted turn reports nothing more: what its tools do while they stop is not progress.
    if (signal.aborted) return;
    try {
      onEvent(event);
    } catch (error) {
      report(error);
    }
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function assertTurnId(turnId: unknown): asserts turnId is string {
  if (typeof turnId !== 'string' || !UUID.test(turnId)) {
    throw new SessionError('INVALID_ARGUMENT', 'turnId must be a UUID', { details: { field: 'turnId' } });
  }
}

function turnNotFoundError(turnId: string): SessionError {
  return new SessionError('TURN_NOT_FOUND', `turn "${turnId}" not found`, { details: { turnId } });
}

function isMainSession(session: Session): session is MainSession {
  return typeof (session as Partial<MainSession>).integrate === 'function';
}

function nonEmpty(text: string | null | undefined): string | null {
  return text?.trim() ? text : null;
}

/** The meta of a session object opened before its first read; the turn's read replaces it. */
function blankMeta(id: string): SessionMeta {
  const epoch = new Date(0).toISOString();
  return {
    id,
    label: '',
    role: 'standard',
    status: 'active',
    tags: [],
    metadata: {},
    createdAt: epoch,
    updatedAt: epoch,
  };
}
