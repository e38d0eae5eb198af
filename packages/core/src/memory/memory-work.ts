import type {
  ConsolidateFn,
  IntegrateFn,
  IntegrateResult,
  LLMCallFn,
  MainSession,
  Message,
  Session,
} from '@stello-ai/session';
import { createLLMCallFn, DEFAULT_MAX_HISTORY_RECORDS, isCodedError, SessionError } from '@stello-ai/session';
import type { StelloAgentConfig } from '../agent-types';
import { CoreError } from '../errors';
import type { HookDispatcher } from '../hooks';
import type { SessionObjects } from '../sessions/session-objects';
import {
  createDefaultConsolidateFn,
  createDefaultIntegrateFn,
  DEFAULT_CONSOLIDATE_PROMPT,
  DEFAULT_INTEGRATE_PROMPT,
} from './defaults';
import { MemoryScheduler } from './scheduler';

/** What the memory work needs of its agent. */
export interface MemoryWorkDeps {
  readonly config: Readonly<StelloAgentConfig>;
  readonly hooks: HookDispatcher;
  readonly sessionObjects: SessionObjects;
  /** The space's root id (looked up once). */
  requireRootId(): Promise<string>;
}

/**
 * An agent's memory work: consolidation of sessions (L3 → L2) and integration at the root, run by
 * its {@link MemoryScheduler} in the background or on demand.
 */
export class MemoryWork {
  /** Runs the work: automatic triggers (turn counts, leaves) and on-demand runs. */
  readonly scheduler: MemoryScheduler;
  readonly #deps: MemoryWorkDeps;
  readonly #llmCall: LLMCallFn | null;
  /** Turn count at the last consolidation of each session, so a repeated leave costs no LLM call. */
  readonly #consolidatedAt = new Map<string, number>();

  constructor(deps: MemoryWorkDeps) {
    this.#deps = deps;
    const { config } = deps;
    this.#llmCall = config.session?.llmCall ?? (config.llm ? createLLMCallFn(config.llm) : null);
    const orchestration = config.orchestration ?? {};
    const around = orchestration.aroundMemoryWork ?? ((_work, run) => run());
    this.scheduler = new MemoryScheduler({
      consolidate: (id, force) =>
        around({ kind: 'consolidate', sessionId: id, explicit: force }, () => this.#consolidate(id, force)),
      integrate: (force) => around({ kind: 'integrate', explicit: force }, () => this.#integrate(force)),
      report: (event) => deps.hooks.report(event),
      // Without a function or a model to run them, automatic memory work stays off.
      consolidateEveryNTurns: this.#canConsolidate() ? orchestration.consolidateEveryNTurns : 0,
      consolidateOnLeave: this.#canConsolidate() && (orchestration.consolidateOnLeave ?? true),
      integrateAfterConsolidate: this.#canIntegrate() && (orchestration.integrateAfterConsolidate ?? true),
    });
  }

  /**
   * Consolidates `sessionId` now, after a consolidation already running on it; resolves to its
   * memory (unchanged when it has no records). The caller checked that it is a live child.
   */
  async consolidateNow(sessionId: string): Promise<string | null> {
    if (!this.#canConsolidate()) this.#requireLlmCall(sessionId);
    const memory = await this.scheduler.consolidate(sessionId, { force: true });
    return memory ?? (await this.#deps.config.memory.readMemory(sessionId));
  }

  /** Integrates now; an empty result when there was nothing to run. */
  async integrateNow(): Promise<IntegrateResult> {
    if (!this.#canIntegrate()) this.#requireLlmCall();
    const result = await this.scheduler.integrate({ force: true });
    return result ?? { synthesis: '', insights: [] };
  }

  /** Forgets what is known of an archived session. */
  forget(sessionId: string): void {
    this.#consolidatedAt.delete(sessionId);
  }

  /**
   * Consolidation of one session; `null` when there is nothing to do. It does not wait in the
   * session's queue: it reads committed records (a commit is atomic, so it never sees half a
   * turn) and writes only the memory slot, which turns never write. Queueing it would hold up
   * the next turn for a whole LLM call, and deadlock a tool that consolidates its own session.
   * The scheduler still runs at most one consolidation per session at a time.
   */
  async #consolidate(sessionId: string, force: boolean): Promise<string | null> {
    const input = await this.#consolidationInput(sessionId, force);
    if (!input) return null;
    return this.#deps.sessionObjects.withRuntime(sessionId, 'consolidate', async (session) => {
      if (session.meta.role === 'main') return null;
      const fn = this.#consolidateFnFor(sessionId, await this.#slot(sessionId, 'consolidate_prompt'));
      const memory = await fn(input.current, input.records);
      if (typeof memory !== 'string') {
        throw new CoreError('INVALID_MODEL_REPLY', 'the consolidate function must return a string', {
          details: { sessionId },
        });
      }
      if (!(await this.#writeMemory(session, memory, input.turnCount))) return null;
      this.#consolidatedAt.set(sessionId, input.turnCount);
      this.#deps.hooks.fire('onConsolidated', { sessionId, memory });
      return memory;
    });
  }

  /**
   * What a consolidation sends: the current memory and the records, or `null` when there is
   * nothing to do (no such session, archived, the root, no records, or no turn since the last
   * consolidation unless forced). With storage it is one bounded read (the session, its memory and
   * the newest history window), never the whole history; the default function then gets only the
   * turns since the last consolidation, whose summary covers the rest. A custom function gets the
   * window. Without storage, the session object reads its memory and records.
   */
  async #consolidationInput(
    sessionId: string,
    force: boolean,
  ): Promise<{ current: string | null; records: Message[]; turnCount: number } | null> {
    const storage = this.#deps.config.storage;
    if (!storage) {
      const meta = await this.#deps.config.sessions.get(sessionId);
      if (!meta || meta.status === 'archived') return null;
      if (!force && (await this.#consolidatedTurnCount(sessionId)) === meta.turnCount) return null;
      return this.#deps.sessionObjects.withRuntime(sessionId, 'consolidate', async (session) => {
        if (session.meta.role === 'main') return null;
        const [current, records] = await Promise.all([session.memory(), session.messages()]);
        return records.length === 0 ? null : { current, records, turnCount: meta.turnCount };
      });
    }
    const maxRecords = this.#deps.config.session?.context?.maxHistoryRecords ?? DEFAULT_MAX_HISTORY_RECORDS;
    const context = await storage.loadTurnContext(sessionId, { maxRecords });
    if (!context || context.meta.status === 'archived' || context.meta.role === 'main') return null;
    const mark = await this.#consolidatedTurnCount(sessionId);
    if (!force && mark === context.turnCount) return null;
    const newTurns = mark === null ? 0 : context.turnCount - mark;
    const records =
      this.#deps.config.session?.consolidateFn || newTurns <= 0
        ? context.records
        : newestTurns(context.records, newTurns);
    if (records.length === 0) return null;
    return { current: context.memory, records, turnCount: context.turnCount };
  }

  /** Stores a consolidated memory unless the session was archived meanwhile; true when written. */
  async #writeMemory(session: Session, memory: string, turnCount: number): Promise<boolean> {
    const storage = this.#deps.config.storage;
    // Without storage, Session.consolidate does the check and the write (it re-reads the records).
    if (!storage) return (await session.consolidate(async () => memory)) === memory;
    if (storage.putConsolidatedMemory) {
      try {
        await storage.putConsolidatedMemory(session.id, memory, turnCount);
        return true;
      } catch (error) {
        if (isCodedError(error, 'SESSION_ARCHIVED')) return false;
        throw error;
      }
    }
    const meta = await this.#deps.config.sessions.get(session.id);
    if (!meta || meta.status === 'archived') return false;
    await storage.putMemory(session.id, memory);
    return true;
  }

  /**
   * The turn count of the last consolidation: this agent's own mark, else the one stored with the
   * memory (so a rebuilt agent does not repeat the LLM call for an unchanged session).
   */
  async #consolidatedTurnCount(sessionId: string): Promise<number | null> {
    const known = this.#consolidatedAt.get(sessionId);
    if (known !== undefined) return known;
    const stored = (await this.#deps.config.storage?.getConsolidatedTurnCount?.(sessionId)) ?? null;
    if (stored !== null) this.#consolidatedAt.set(sessionId, stored);
    return stored;
  }

  /**
   * Integration at the root; `null` when the root is archived and the run was not asked for. The
   * root's status is checked once, by `MainSession.integrate`, before the model is called.
   */
  async #integrate(force = false): Promise<IntegrateResult | null> {
    const rootId = await this.#deps.requireRootId();
    const fn = this.#integrateFnFor(await this.#slot(rootId, 'integrate_prompt'));
    return this.#deps.sessionObjects.withRuntime(rootId, 'integrate', async (session) => {
      if (!isMainSession(session)) {
        throw new CoreError('INVALID_OPERATION', 'the root session cannot integrate', {
          details: { sessionId: rootId },
        });
      }
      let result: IntegrateResult;
      try {
        result = await session.integrate(fn);
      } catch (error) {
        if (!force && isCodedError(error, 'SESSION_ARCHIVED')) return null;
        throw error;
      }
      this.#deps.hooks.fire('onIntegrated', {
        synthesis: result.synthesis,
        insightCount: result.insights.length,
      });
      return result;
    });
  }

  /** `config.session.consolidateFn`, else the default over the resolved prompt. */
  #consolidateFnFor(sessionId: string, slotPrompt: string | null): ConsolidateFn {
    const session = this.#deps.config.session;
    if (session?.consolidateFn) return session.consolidateFn;
    const prompt = nonEmpty(slotPrompt) ?? nonEmpty(session?.consolidatePrompt) ?? DEFAULT_CONSOLIDATE_PROMPT;
    return createDefaultConsolidateFn(prompt, this.#requireLlmCall(sessionId));
  }

  /** `config.session.integrateFn`, else the default over the resolved prompt. */
  #integrateFnFor(slotPrompt: string | null): IntegrateFn {
    const session = this.#deps.config.session;
    if (session?.integrateFn) return session.integrateFn;
    const prompt = nonEmpty(slotPrompt) ?? nonEmpty(session?.integratePrompt) ?? DEFAULT_INTEGRATE_PROMPT;
    return createDefaultIntegrateFn(prompt, this.#requireLlmCall());
  }

  #requireLlmCall(sessionId?: string): LLMCallFn {
    if (this.#llmCall) return this.#llmCall;
    throw new SessionError('NO_LLM', 'memory work needs `llm`, `session.llmCall` or an explicit function', {
      ...(sessionId ? { details: { sessionId } } : {}),
    });
  }

  #canConsolidate(): boolean {
    return Boolean(this.#deps.config.session?.consolidateFn || this.#llmCall);
  }

  #canIntegrate(): boolean {
    return Boolean(this.#deps.config.session?.integrateFn || this.#llmCall);
  }

  async #slot(sessionId: string, key: 'consolidate_prompt' | 'integrate_prompt'): Promise<string | null> {
    const storage = this.#deps.config.storage;
    return storage ? storage.getSlot(sessionId, key) : null;
  }
}

/**
 * The records of the newest `turns` turns: from the `turns`-th newest user message on (each turn
 * starts with one). All of `records` when it holds fewer turns.
 */
export function newestTurns(records: readonly Message[], turns: number): Message[] {
  let seen = 0;
  for (let index = records.length - 1; index >= 0; index -= 1) {
    if (records[index]!.role === 'user' && ++seen === turns) return records.slice(index);
  }
  return [...records];
}

function isMainSession(session: Session): session is MainSession {
  return typeof (session as Partial<MainSession>).integrate === 'function';
}

function nonEmpty(text: string | null | undefined): string | null {
  return text?.trim() ? text : null;
}
