import { assembleTurnPrompt, type TurnPrompt, type TurnPromptInput } from '../context/context';
import { isCodedError, SessionError, turnAbortedError } from '../errors';
import type { LLMAdapter, LLMCompleteOptions, LLMResult, ToolSchema } from '../llm/llm';
import { parseToolArguments } from '../llm/parse-tool-arguments';
import type { SessionStorage, TurnCommitResult, TurnContextData } from '../storage';
import type { Message, TokenUsage, ToolCall } from '../types';
import type {
  DraftCallOptions,
  DraftCommitOptions,
  ToolResultInput,
  TurnDraft,
  TurnLeaseOptions,
} from './session-types';

/** What a draft needs from the session that began it. */
export interface TurnDraftInit {
  sessionId: string;
  storage: SessionStorage;
  context: TurnContextData;
  input: string;
  /** The session's current model (read at each call, so `setLLM` applies to the next round). */
  llm: () => LLMAdapter | undefined;
  /** Tools used when a call does not pass its own. */
  tools: ToolSchema[] | undefined;
  budgetRatio: number;
  signal?: AbortSignal;
  /** The turn lease `context` was read with; the draft holds it until commit or release. */
  lease?: TurnLeaseOptions;
  /** The ledger entry claimed with the context; the commit completes it. */
  turnId?: string;
}

/** Where the draft's turn lease stands: `none` when it has none (or no longer has it). */
type LeaseState = 'held' | 'committing' | 'none';

function now(): string {
  return new Date().toISOString();
}

function abortError(signal: AbortSignal | undefined, cause?: unknown): SessionError {
  return turnAbortedError(cause ?? signal?.reason);
}

/** Maps a failed model call to a coded error: abort → `ABORTED`, uncoded → `LLM_ERROR`. */
function toCallError(error: unknown, signal: AbortSignal | undefined): Error {
  if (signal?.aborted || (error instanceof Error && error.name === 'AbortError')) {
    return isCodedError(error, 'ABORTED') ? error : abortError(signal, error);
  }
  if (isCodedError(error)) return error;
  const reason = error instanceof Error ? error.message : String(error);
  return new SessionError('LLM_ERROR', `llm call failed: ${reason}`, { cause: error });
}

/**
 * Runs one model call. With `onDelta` and an adapter that streams, it streams: text deltas go to
 * `onDelta` and tool-call deltas are accumulated by index (id and name overwrite, input text is
 * concatenated, then parsed). Otherwise it calls `complete` and hands the whole text to `onDelta`.
 */
export async function callModel(
  llm: LLMAdapter,
  messages: Message[],
  options: LLMCompleteOptions,
  onDelta?: (text: string) => void,
): Promise<LLMResult> {
  if (!onDelta || !llm.stream) {
    const result = await llm.complete(messages, options);
    if (onDelta && result.content) onDelta(result.content);
    return result;
  }
  let text = '';
  let usage: TokenUsage | undefined;
  const partial = new Map<number, { id?: string; name?: string; input: string }>();
  for await (const chunk of llm.stream(messages, options)) {
    if (options.signal?.aborted) throw abortError(options.signal);
    if (chunk.delta) {
      text += chunk.delta;
      onDelta(chunk.delta);
    }
    for (const delta of chunk.toolCallDeltas ?? []) {
      const entry = partial.get(delta.index) ?? { input: '' };
      if (delta.id) entry.id = delta.id;
      if (delta.name) entry.name = delta.name;
      if (delta.input) entry.input += delta.input;
      partial.set(delta.index, entry);
    }
    if (chunk.usage) usage = chunk.usage;
  }
  const toolCalls: ToolCall[] = [...partial.entries()]
    .sort(([a], [b]) => a - b)
    .map(([index, entry]) => ({
      id: entry.id ?? `call_${index}`,
      name: entry.name ?? 'unknown_tool',
      input: parseToolArguments(entry.input),
    }));
  const result: LLMResult = { content: text === '' && toolCalls.length > 0 ? null : text };
  if (toolCalls.length > 0) result.toolCalls = toolCalls;
  if (usage) result.usage = usage;
  return result;
}

/** The assistant record of one model answer: content `''` when null, tool calls only when present. */
function assistantRecord(result: LLMResult, model: string | undefined): Message {
  const record: Message = { role: 'assistant', content: result.content ?? '', timestamp: now() };
  if (result.toolCalls && result.toolCalls.length > 0) record.toolCalls = result.toolCalls;
  const knownModel = typeof result.metadata?.model === 'string' ? result.metadata.model : model;
  if (result.metadata || knownModel) {
    record.metadata = { ...result.metadata, ...(knownModel ? { model: knownModel } : {}) };
  }
  return record;
}

/** Tool calls of the last assistant record that have no result yet (`[]` when none are open). */
function openToolCalls(pending: readonly Message[]): { calls: ToolCall[]; answered: Set<string> } {
  const answered = new Set<string>();
  for (let i = pending.length - 1; i >= 0; i -= 1) {
    const record = pending[i]!;
    if (record.role === 'tool') {
      if (record.toolCallId) answered.add(record.toolCallId);
      continue;
    }
    if (record.role === 'assistant' && record.toolCalls && record.toolCalls.length > 0) {
      return { calls: record.toolCalls.filter((call) => !answered.has(call.id)), answered };
    }
    break;
  }
  return { calls: [], answered };
}

/**
 * The in-memory draft of one turn (see `TurnDraft`): the context is read once, every round's
 * records accumulate here, and `commit()` writes them in one `commitTurn`. Closes upstream's
 * in-band tool-result envelope: tool results only arrive through `addToolResults`.
 */
export class SessionTurnDraft implements TurnDraft {
  readonly sessionId: string;
  readonly context: TurnContextData;
  readonly #init: TurnDraftInit;
  readonly #pending: Message[];
  #insightShown: string | null = null;
  #busy = false;
  #done = false;
  #released = false;
  #lease: LeaseState;

  constructor(init: TurnDraftInit) {
    this.#init = init;
    this.#lease = init.lease ? 'held' : 'none';
    this.sessionId = init.sessionId;
    this.context = init.context;
    this.#pending = [{ role: 'user', content: init.input, timestamp: now() }];
  }

  get pending(): readonly Message[] {
    return structuredClone(this.#pending);
  }

  async call(options: DraftCallOptions = {}): Promise<LLMResult> {
    this.#assertIdle();
    const llm = this.#init.llm();
    if (!llm) throw new SessionError('NO_LLM', `session "${this.sessionId}" has no llm`);
    const open = openToolCalls(this.#pending);
    if (open.calls.length > 0) {
      throw new SessionError('INVALID_ARGUMENT', 'every tool call needs a result before the next call', {
        details: { toolCallIds: open.calls.map((call) => call.id) },
      });
    }
    const signal = this.#signal(options.signal);
    if (signal?.aborted) throw abortError(signal);

    const tools = options.tools ?? this.#init.tools;
    const callOptions: LLMCompleteOptions = {};
    if (options.maxTokens !== undefined) callOptions.maxTokens = options.maxTokens;
    if (options.temperature !== undefined) callOptions.temperature = options.temperature;
    if (tools && tools.length > 0) callOptions.tools = tools;
    if (signal) callOptions.signal = signal;

    this.#busy = true;
    let result: LLMResult;
    let prompt: TurnPrompt;
    try {
      // The counter's rank file is loaded on the first turn that needs it, then shared; should it
      // fail to load, the counter keeps estimating and the turn goes on.
      await llm.tokenCounter?.load().catch(() => undefined);
      prompt = this.#prompt(llm, callOptions.maxTokens);
      try {
        result = await callModel(llm, prompt.messages, callOptions, options.onDelta);
      } catch (error) {
        // Our count was off for this model: keep half the history and try once more. With no
        // history left to drop, the new input alone is over the window and the error stands.
        if (!isCodedError(error, 'CONTEXT_TOO_LONG') || prompt.historyCount === 0 || signal?.aborted)
          throw error;
        prompt = this.#prompt(llm, callOptions.maxTokens, Math.floor(prompt.historyTokens / 2));
        result = await callModel(llm, prompt.messages, callOptions, options.onDelta);
      }
    } catch (error) {
      throw toCallError(error, signal);
    } finally {
      this.#busy = false;
    }
    if (signal?.aborted) throw abortError(signal);
    if (prompt.insightShown !== null) this.#insightShown = prompt.insightShown;
    this.#pending.push(assistantRecord(result, llm.model));
    return result;
  }

  /**
   * Assembles the prompt of the next call, leaving room for `maxTokens` (else the adapter's output
   * cap); `historyTokenCap` bounds the history on a retry.
   */
  #prompt(llm: LLMAdapter, maxTokens: number | undefined, historyTokenCap?: number): TurnPrompt {
    const [user, ...rest] = this.#pending;
    const input: TurnPromptInput = {
      role: this.context.meta.role,
      label: this.context.meta.label,
      systemPrompt: this.context.systemPrompt,
      insight: this.context.insight,
      memory: this.context.memory,
      records: this.context.records,
      hasOlderRecords: this.context.hasOlderRecords,
      user: user!,
      pending: rest,
      maxContextTokens: llm.maxContextTokens,
      budgetRatio: this.#init.budgetRatio,
    };
    if (llm.tokenCounter) input.counter = llm.tokenCounter;
    const maxOutputTokens = maxTokens ?? llm.maxOutputTokens;
    if (maxOutputTokens !== undefined) input.maxOutputTokens = maxOutputTokens;
    if (historyTokenCap !== undefined) input.historyTokenCap = historyTokenCap;
    return assembleTurnPrompt(input);
  }

  addToolResults(results: ToolResultInput[]): void {
    this.#assertIdle();
    const open = openToolCalls(this.#pending);
    const openIds = new Set(open.calls.map((call) => call.id));
    const seen = new Set<string>();
    for (const result of results) {
      if (!openIds.has(result.toolCallId) || seen.has(result.toolCallId)) {
        throw new SessionError('INVALID_ARGUMENT', `no open tool call "${result.toolCallId}" to answer`, {
          details: { toolCallId: result.toolCallId },
        });
      }
      if (typeof result.content !== 'string') {
        throw new SessionError('INVALID_ARGUMENT', 'tool result content must be a string');
      }
      seen.add(result.toolCallId);
    }
    for (const result of results) {
      const metadata: Record<string, unknown> = { toolName: result.toolName };
      if (result.isError) metadata.isError = true;
      this.#pending.push({
        role: 'tool',
        content: result.content,
        toolCallId: result.toolCallId,
        timestamp: now(),
        metadata,
      });
    }
  }

  async commit(options: DraftCommitOptions = {}): Promise<TurnCommitResult> {
    this.#assertIdle();
    if (!this.#pending.some((record) => record.role === 'assistant')) {
      throw new SessionError('INVALID_ARGUMENT', 'nothing to commit: call the model first');
    }
    const signal = this.#init.signal;
    if (signal?.aborted) throw abortError(signal);
    this.#done = true;
    const lease = this.#init.lease;
    if (this.#lease === 'held') this.#lease = 'committing';
    try {
      const result = await this.#init.storage.commitTurn(this.sessionId, {
        records: structuredClone(this.#pending),
        consumeInsight: this.#insightShown,
        countTurn: true,
        expectedTurnCount: this.context.turnCount,
        ...(lease ? { releaseLease: lease.owner } : {}),
        ...(this.#init.turnId !== undefined
          ? {
              turn: {
                turnId: this.#init.turnId,
                result: options.turnResult ?? null,
                ...(options.lastSeq !== undefined ? { lastSeq: options.lastSeq } : {}),
              },
            }
          : {}),
      });
      // The commit statement released the lease: nothing is left to release.
      this.#lease = 'none';
      return result;
    } catch (error) {
      // Nothing was written (or the outcome is unknown): the lease may still be ours.
      if (this.#lease === 'committing') {
        this.#lease = 'held';
        // A release asked for while the commit ran could not act then; it does now.
        if (this.#released) void this.release();
      }
      throw error;
    }
  }

  async renewLease(): Promise<boolean> {
    const lease = this.#init.lease;
    if (this.#lease !== 'held' || !lease) return false;
    return this.#init.storage.renewTurnLease(this.sessionId, lease.owner, lease.ttlMs);
  }

  async release(): Promise<void> {
    this.#released = true;
    const lease = this.#init.lease;
    if (this.#lease !== 'held' || !lease) return;
    this.#lease = 'none';
    try {
      await this.#init.storage.releaseTurnLease(this.sessionId, lease.owner);
    } catch (error) {
      try {
        lease.onReleaseError?.(error);
      } catch {
        // The reporter's own failure must not reach the caller, who is handling the turn's error.
      }
    }
  }

  #assertIdle(): void {
    if (this.#released) throw new SessionError('INVALID_ARGUMENT', 'the turn has been released');
    if (this.#done) throw new SessionError('INVALID_ARGUMENT', 'the turn has already been committed');
    if (this.#busy) throw new SessionError('INVALID_ARGUMENT', 'a model call of this turn is still running');
  }

  #signal(callSignal: AbortSignal | undefined): AbortSignal | undefined {
    const turnSignal = this.#init.signal;
    if (callSignal && turnSignal && callSignal !== turnSignal)
      return AbortSignal.any([callSignal, turnSignal]);
    return callSignal ?? turnSignal;
  }
}
