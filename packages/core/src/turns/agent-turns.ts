import { randomUUID } from 'node:crypto';
import type { TurnClaim, TurnConcurrency, TurnStatus } from '@stello-ai/session';
import { SessionError, sessionNotFoundError } from '@stello-ai/session';
import type { StelloAgentConfig, ToolAgent, TurnOptions } from '../agent-types';
import type { HookDispatcher } from '../hooks';
import type { SessionObjects } from '../sessions/session-objects';
import type { ToolRegistry } from '../tools/tools';
import type { EngineTurnResult } from '../types';
import { type LocalTurn, LocalTurns } from './local-turns';
import { SerialQueue } from './serial-queue';
import { DEFAULT_TURN_LEASE_TTL_MS, DEFAULT_TURN_LEASE_WAIT_MS, type TurnLeaseSettings } from './turn-lease';
import {
  assertTurnId,
  hasLedger,
  isCancel,
  type LedgerStorage,
  ownsLedgerEntry,
  replayFinishedTurn,
  requestHash,
  storedError,
  TURN_CONCURRENCIES,
  type TurnInfo,
  toTurnInfo,
  turnCancelledError,
  turnIdConflictError,
  turnNotFoundError,
} from './turn-ledger';
import { DEFAULT_MAX_TOOL_ROUNDS, FinishedTurn, runTurn } from './turn-runner';
import { abortable, progressEmitter } from './turn-signals';

/** Turns that may wait (or run) on one session in one agent before more are refused with `SESSION_BUSY`. */
export const DEFAULT_MAX_QUEUED_TURNS = 64;

/** What an agent's turns need of it. */
export interface AgentTurnsDeps {
  readonly config: Readonly<StelloAgentConfig>;
  /** The agent a tool receives in its context. */
  readonly agent: ToolAgent;
  readonly hooks: HookDispatcher;
  readonly tools: ToolRegistry;
  /** The agent's per-session queue, shared with its other mutating operations. */
  readonly queue: SerialQueue;
  readonly sessionObjects: SessionObjects;
  /** Counts an operation until it settles; refuses it once the agent is disposed. */
  track<T>(operation: () => Promise<T>): Promise<T>;
  /** Throws `SESSION_NOT_FOUND` for a session outside the space. */
  requireMeta(sessionId: string): Promise<unknown>;
  /** Called after a committed turn of a child session (the memory scheduler counts turns). */
  afterChildTurn(sessionId: string, turnCount: number): void;
}

/** The turn lease's times of `config`, checked. */
export function turnLeaseTimes(config: StelloAgentConfig): { ttlMs: number; waitMs: number } {
  const ttlMs = config.orchestration?.turnLeaseTtlMs ?? DEFAULT_TURN_LEASE_TTL_MS;
  const waitMs = config.orchestration?.turnLeaseWaitMs ?? DEFAULT_TURN_LEASE_WAIT_MS;
  if (!Number.isInteger(ttlMs) || ttlMs < 1) {
    throw new SessionError('INVALID_ARGUMENT', 'orchestration.turnLeaseTtlMs must be a positive integer');
  }
  if (!Number.isFinite(waitMs) || waitMs < 0) {
    throw new SessionError('INVALID_ARGUMENT', 'orchestration.turnLeaseWaitMs must be a non-negative number');
  }
  return { ttlMs, waitMs };
}

/**
 * An agent's turns: submission (shared retries, `reject` concurrency, bounded queues), the run
 * under the session's turn lease, the ledger entry of each turn, cancels and status.
 */
export class AgentTurns {
  readonly #deps: AgentTurnsDeps;
  readonly #leaseTimes: { ttlMs: number; waitMs: number };
  /** Prefix of this agent's lease owners: unique per agent, so no two instances share an owner. */
  readonly #leasePrefix = `agent:${randomUUID()}`;
  #leaseSeq = 0;
  /** Sessions whose turn runs here under a lease; a turn that finds its session here is re-entrant. */
  readonly #leasedSessions = new Set<string>();
  /** Turns submitted here and not settled: shared by retries, found by cancels. */
  readonly #localTurns = new LocalTurns();

  constructor(deps: AgentTurnsDeps, leaseTimes: { ttlMs: number; waitMs: number }) {
    this.#deps = deps;
    this.#leaseTimes = leaseTimes;
  }

  /**
   * Submits a turn: a turn id already running here shares its promise (one LLM call), another
   * input under that id is `TURN_ID_CONFLICT`; under `reject` a session busy here fails at once.
   */
  submit(
    sessionId: string,
    input: string,
    options: TurnOptions,
    onDelta?: (text: string) => void,
  ): Promise<EngineTurnResult> {
    const { config, queue } = this.#deps;
    let turnId: string;
    let concurrency: TurnConcurrency;
    try {
      if (options.turnId !== undefined) assertTurnId(options.turnId);
      turnId = options.turnId ?? randomUUID();
      concurrency = options.concurrency ?? config.orchestration?.concurrency ?? 'enqueue';
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
      if (running !== undefined || !queue.isIdle(sessionId)) {
        return Promise.reject(
          new SessionError('SESSION_BUSY', `session "${sessionId}" is running another turn`, {
            details: { sessionId, ...(running ? { turnId: running } : {}) },
          }),
        );
      }
    }
    // A bounded queue per session: past it a turn is refused at once instead of piling up.
    const maxQueued = config.orchestration?.maxQueuedTurns ?? DEFAULT_MAX_QUEUED_TURNS;
    if (!SerialQueue.isHeld(sessionId) && queue.depth(sessionId) >= maxQueued) {
      return Promise.reject(
        new SessionError('SESSION_BUSY', `session "${sessionId}" already has ${maxQueued} turns waiting`, {
          details: { sessionId, queued: queue.depth(sessionId), maxQueuedTurns: maxQueued },
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
    const run = this.#deps.track(() =>
      abortable(
        queue.run(sessionId, async () => {
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

  /** See `StelloAgent.cancelTurn`. */
  async cancel(sessionId: string, turnId: string): Promise<{ turnId: string; status: TurnStatus }> {
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
    await this.#deps.requireMeta(sessionId);
    throw turnNotFoundError(turnId);
  }

  /** See `StelloAgent.getTurn`. */
  async get(sessionId: string, turnId: string): Promise<TurnInfo | null> {
    assertTurnId(turnId);
    const local = this.#localTurns.get(turnId);
    if (local?.sessionId === sessionId) return { turnId, sessionId, status: local.status };
    const stored = await this.#ledger()?.getTurn(sessionId, turnId);
    return stored ? toTurnInfo(stored) : null;
  }

  /** Aborts `turnId` if it runs or waits here; false when it is not here. */
  abortLocal(turnId: string): boolean {
    return this.#localTurns.cancel(turnId, turnCancelledError(turnId));
  }

  async #runTurn(
    sessionId: string,
    input: string,
    options: TurnOptions,
    local: LocalTurn,
    concurrency: TurnConcurrency,
    onDelta?: (text: string) => void,
  ): Promise<EngineTurnResult> {
    const { config, hooks } = this.#deps;
    const { turnId } = local;
    hooks.fire('onMessageReceived', { sessionId, input });
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
      hooks.report({ error, phase: 'turn', sessionId }),
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
      ({ outcome, isMain } = await this.#deps.sessionObjects.withTurnSession(sessionId, async (session) => ({
        outcome: await runTurn({
          session,
          input,
          tools: this.#deps.tools,
          maxToolRounds: config.orchestration?.maxToolRounds ?? DEFAULT_MAX_TOOL_ROUNDS,
          signal: local.controller.signal,
          ...(deltas ? { onDelta: deltas } : {}),
          ...(lease ? { lease } : {}),
          toolContext: (call, signal) => ({
            agent: this.#deps.agent,
            sessionId,
            toolCallId: call.id,
            toolName: call.name,
            signal,
          }),
          observers: {
            onRoundStart: (round) => {
              // The first round starts once the turn holds the session.
              local.status = 'running';
              hooks.fire('onRoundStart', { sessionId, round });
            },
            onToolCall: (toolCall) => {
              emit({ type: 'tool.call', callId: toolCall.id, name: toolCall.name, input: toolCall.input });
              hooks.fire('onToolCall', { sessionId, toolCall });
            },
            onToolResult: (toolCall, result, isError) => {
              emit(
                isError
                  ? { type: 'tool.result', callId: toolCall.id, ok: false, error: String(result) }
                  : { type: 'tool.result', callId: toolCall.id, ok: true, output: result },
              );
              hooks.fire('onToolResult', { sessionId, toolCall, result, isError });
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
      if (!isCancel(error, local)) hooks.notifyOnError({ error, phase: 'turn', sessionId });
      await record(error);
      throw error;
    } finally {
      if (lease) this.#leasedSessions.delete(sessionId);
    }
    const { turn, commit } = outcome;
    const result: EngineTurnResult = { turnId, turn };
    hooks.fire('onAssistantReply', {
      sessionId,
      content: turn.finalContent,
      rawResponse: turn.rawResponse,
    });
    hooks.fire('onRoundEnd', { sessionId, turn });
    const afterTurn = config.capabilities?.lifecycle?.afterTurn;
    if (afterTurn) hooks.fireCallback('afterTurn', sessionId, () => afterTurn(sessionId, input, result));
    // The root never consolidates: it integrates what its children consolidated.
    if (!isMain) this.#deps.afterChildTurn(sessionId, commit.turnCount);
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
      this.#deps.hooks.report({ error: failure, phase: 'turn', sessionId });
    }
  }

  /** The storage's turn ledger, when it has one and the built-in loader opens sessions on it. */
  #ledger(): LedgerStorage | null {
    const { storage, session } = this.#deps.config;
    if (!storage || session?.sessionResolver) return null;
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
      ttlMs: this.#leaseTimes.ttlMs,
      waitMs: this.#leaseTimes.waitMs,
      onError: (error) => this.#deps.hooks.report({ error, phase: 'turn-lease', sessionId }),
      ...(claim ? { claim } : {}),
      ...(rejectBusy ? { rejectBusy } : {}),
    };
  }
}
