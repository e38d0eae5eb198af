// One file over the size rule on purpose: `BoundSession` implements the seeds' `Session` interface,
// one method per member; the turn itself lives in turn-draft.ts and the prompt in context/.
import { removeIncompleteToolCallGroups } from '../context/context';
import { copySessionMeta } from '../copy-session-meta';
import { SessionArchivedError, SessionError, sessionNotFoundError, turnAbortedError } from '../errors';
import type { LLMAdapter, LLMResult, ToolSchema } from '../llm/llm';
import { createPushStream } from '../llm/push-stream';
import type { SessionRow, SessionStorage } from '../storage';
import type {
  ConsolidateFn,
  ListRecordsOptions,
  Message,
  SendResult,
  SessionMeta,
  SessionMetaUpdate,
  StreamResult,
} from '../types';
import { MAX_INHERITED_BYTES, newestWithinBytes } from './inherited-records';
import {
  checkLabel,
  invalid,
  resolveContextOptions,
  runtimeOf,
  type SessionRuntimeOptions,
} from './session-options';
import type {
  BeginTurnOptions,
  ContextOptions,
  CreateSessionOptions,
  ForkOptions,
  LoadSessionOptions,
  SendOptions,
  Session,
  TurnDraft,
} from './session-types';
import { SessionTurnDraft } from './turn-draft';

const DEFAULT_SESSION_LABEL = 'New Session';

function now(): string {
  return new Date().toISOString();
}

function toSendResult(result: LLMResult): SendResult {
  const sent: SendResult = { content: result.content };
  if (result.toolCalls && result.toolCalls.length > 0) sent.toolCalls = result.toolCalls;
  if (result.usage) sent.usage = result.usage;
  return sent;
}

/**
 * The `Session` implementation: every method acts on its own id through the storage. A turn reads
 * its context once and writes once (`commitTurn`); see `beginTurn`.
 */
export class BoundSession implements Session {
  readonly id: string;
  protected readonly storage: SessionStorage;
  #meta: SessionMeta;
  #llm: LLMAdapter | undefined;
  readonly #tools: ToolSchema[] | undefined;
  readonly #context: Required<ContextOptions>;

  constructor(storage: SessionStorage, meta: SessionMeta, options: SessionRuntimeOptions = {}) {
    this.id = meta.id;
    this.storage = storage;
    this.#meta = copySessionMeta(meta);
    this.#llm = options.llm;
    this.#tools = options.tools;
    this.#context = resolveContextOptions(options.context);
  }

  get meta(): SessionMeta {
    return structuredClone(this.#meta);
  }

  /**
   * Starts a turn: reads the context once (taking the turn lease in the same read when `lease`
   * is given) and returns a draft that calls the model and commits everything in one write.
   * Throws `SESSION_NOT_FOUND`, `SESSION_ARCHIVED`, `SESSION_BUSY` (another owner holds the
   * lease), `ABORTED`.
   */
  async beginTurn(input: string, options: BeginTurnOptions = {}): Promise<TurnDraft> {
    if (typeof input !== 'string') throw invalid('input must be a string');
    if (options.signal?.aborted) {
      throw turnAbortedError(options.signal.reason);
    }
    const { lease } = options;
    const context = await this.storage.loadTurnContext(this.id, {
      maxRecords: this.#context.maxHistoryRecords,
      ...(lease ? { lease: { owner: lease.owner, ttlMs: lease.ttlMs } } : {}),
      ...(options.turn ? { turn: options.turn } : {}),
    });
    if (!context) throw sessionNotFoundError(this.id);
    this.#meta = copySessionMeta(context.meta);
    // Storage never leases an archived session, so there is nothing to release here.
    if (context.meta.status === 'archived') throw new SessionArchivedError(this.id);
    const init: ConstructorParameters<typeof SessionTurnDraft>[0] = {
      sessionId: this.id,
      storage: this.storage,
      context,
      input,
      llm: () => this.#llm,
      tools: this.#tools,
      budgetRatio: this.#context.budgetRatio,
    };
    if (options.signal) init.signal = options.signal;
    if (options.turn && !context.finishedTurn) init.turnId = options.turn.turnId;
    // A turn id that already ended took no lease: the draft has nothing to hold.
    if (lease && !context.finishedTurn) init.lease = lease;
    return new SessionTurnDraft(init);
  }

  /** One turn with one model call: stores the user and assistant records together. */
  async send(content: string, options: SendOptions = {}): Promise<SendResult> {
    this.#assertCanTurn();
    const draft = await this.beginTurn(content, this.#beginOptions(options));
    try {
      const result = await draft.call(this.#callOptions(options));
      await draft.commit();
      return toSendResult(result);
    } catch (error) {
      await draft.release();
      throw error;
    }
  }

  /**
   * Like `send`, streaming the text deltas. The archived and no-LLM checks throw synchronously;
   * `result` resolves after the turn is stored; a failure rejects `result` and ends the iteration
   * with the error. Stopping the iteration early does not stop the turn.
   */
  stream(content: string, options: SendOptions = {}): StreamResult {
    this.#assertCanTurn();
    const stream = createPushStream<string>();
    const result = (async () => {
      const draft = await this.beginTurn(content, this.#beginOptions(options));
      try {
        const answer = await draft.call({
          ...this.#callOptions(options),
          onDelta: (text) => stream.push(text),
        });
        await draft.commit();
        return toSendResult(answer);
      } catch (error) {
        await draft.release();
        throw error;
      }
    })();
    result.then(
      () => stream.end(),
      (error: unknown) => stream.end(error),
    );
    // The error also reaches the iterator; a caller that only iterates must not leave it unhandled.
    result.catch(() => undefined);
    return { [Symbol.asyncIterator]: () => stream.iterable[Symbol.asyncIterator](), result };
  }

  async messages(options?: ListRecordsOptions): Promise<Message[]> {
    return this.storage.listRecords(this.id, options);
  }

  async systemPrompt(): Promise<string | null> {
    return this.storage.getSystemPrompt(this.id);
  }

  async setSystemPrompt(content: string): Promise<void> {
    if (typeof content !== 'string') throw invalid('system prompt must be a string');
    await this.requireActive();
    await this.storage.putSystemPrompt(this.id, content);
  }

  async insight(): Promise<string | null> {
    return this.storage.getInsight(this.id);
  }

  async setInsight(content: string): Promise<void> {
    if (typeof content !== 'string') throw invalid('insight must be a string');
    await this.requireActive();
    await this.storage.putInsight(this.id, content);
  }

  async memory(): Promise<string | null> {
    return this.storage.getMemory(this.id);
  }

  /**
   * Rewrites the L2 memory: `fn(current memory, all records)`, then stores the returned text.
   * Refused on the main session (its memory is the synthesis, written by integration).
   */
  async consolidate(fn: ConsolidateFn): Promise<string> {
    const meta = await this.requireActive();
    if (meta.role === 'main') throw invalid('the main session has no L2 memory; use integrate');
    const [current, records] = await Promise.all([
      this.storage.getMemory(this.id),
      this.storage.listRecords(this.id),
    ]);
    const memory = await fn(current, records);
    if (typeof memory !== 'string') throw invalid('consolidate function must return a string');
    await this.storage.putMemory(this.id, memory);
    return memory;
  }

  /**
   * Creates a child session under this one, in one storage write: label, scope, tags, metadata,
   * provenance, system prompt (the parent's unless given) and the seed records (inherited
   * context without broken tool-call groups, then `prompt` as an opening assistant message).
   */
  async fork(options: ForkOptions): Promise<Session> {
    checkLabel(options?.label);
    await this.requireActive();
    let records: Message[] = [];
    const context = options.context ?? 'none';
    if (context === 'inherit') {
      // The newest history window only, within a byte budget: a fork never copies an unbounded history.
      const window = await this.storage.loadTurnContext(this.id, {
        maxRecords: this.#context.maxHistoryRecords,
      });
      records = removeIncompleteToolCallGroups(newestWithinBytes(window?.records ?? [], MAX_INHERITED_BYTES));
    } else if (Array.isArray(context)) {
      records = removeIncompleteToolCallGroups(
        newestWithinBytes(context as readonly Message[], MAX_INHERITED_BYTES),
      );
    } else if (typeof context === 'function') {
      const chosen = await context(await this.storage.listRecords(this.id));
      if (!Array.isArray(chosen)) throw invalid('fork context function must return an array of messages');
      records = [...chosen];
    } else if (context !== 'none') {
      throw invalid(`unknown fork context "${String(context)}"`);
    }
    if (options.prompt) records.push({ role: 'assistant', content: options.prompt, timestamp: now() });
    const spec: Parameters<SessionStorage['createChild']>[1] = {
      label: options.label,
      sourceSessionId: this.id,
      records,
    };
    if (options.scope !== undefined) spec.scope = options.scope;
    if (options.tags !== undefined) spec.tags = options.tags;
    if (options.metadata !== undefined) spec.metadata = options.metadata;
    if (options.systemPrompt !== undefined) spec.systemPrompt = options.systemPrompt;
    const row = await this.storage.createChild(this.id, spec);
    return new BoundSession(this.storage, row, {
      ...this.#runtime(),
      ...(options.llm ? { llm: options.llm } : {}),
      ...(options.tools ? { tools: options.tools } : {}),
    });
  }

  async updateMeta(update: SessionMetaUpdate): Promise<SessionMeta> {
    if (update.label !== undefined) checkLabel(update.label);
    if (
      update.tags !== undefined &&
      !(Array.isArray(update.tags) && update.tags.every((t) => typeof t === 'string'))
    ) {
      throw invalid('tags must be an array of strings');
    }
    const meta = await this.requireActive();
    const next: SessionMeta = { ...meta, updatedAt: now() };
    if (update.label !== undefined) next.label = update.label;
    if (update.tags !== undefined) next.tags = [...update.tags];
    if (update.metadata !== undefined) next.metadata = structuredClone(update.metadata);
    await this.storage.putSession(next);
    return this.#refresh();
  }

  /** Marks the session archived; idempotent. Its data stays readable. */
  async archive(): Promise<void> {
    const meta = await this.storage.getSession(this.id);
    if (!meta) throw sessionNotFoundError(this.id);
    this.#meta = copySessionMeta(meta);
    if (meta.status === 'archived') return;
    await this.storage.putSession({ ...meta, status: 'archived', updatedAt: now() });
    await this.#refresh();
  }

  async trimRecords(keepRecent: number): Promise<void> {
    if (!Number.isInteger(keepRecent) || keepRecent < 0) {
      throw invalid('keepRecent must be a non-negative integer', { keepRecent });
    }
    await this.requireActive();
    await this.storage.trimRecords(this.id, keepRecent);
  }

  setLLM(llm: LLMAdapter): void {
    this.#llm = llm;
  }

  async row(): Promise<SessionRow> {
    const row = await this.storage.getSessionRow(this.id);
    if (!row) throw sessionNotFoundError(this.id);
    return row;
  }

  /** Reads the stored meta; throws `SESSION_NOT_FOUND` or `SESSION_ARCHIVED`. */
  protected async requireActive(): Promise<SessionMeta> {
    const meta = await this.storage.getSession(this.id);
    if (!meta) throw sessionNotFoundError(this.id);
    this.#meta = copySessionMeta(meta);
    if (meta.status === 'archived') throw new SessionArchivedError(this.id);
    return meta;
  }

  #runtime(): SessionRuntimeOptions {
    const runtime: SessionRuntimeOptions = { context: this.#context };
    if (this.#llm) runtime.llm = this.#llm;
    if (this.#tools) runtime.tools = this.#tools;
    return runtime;
  }

  async #refresh(): Promise<SessionMeta> {
    const meta = await this.storage.getSession(this.id);
    if (!meta) throw sessionNotFoundError(this.id);
    this.#meta = copySessionMeta(meta);
    return this.meta;
  }

  #assertCanTurn(): void {
    if (this.#meta.status === 'archived') throw new SessionArchivedError(this.id);
    if (!this.#llm) throw new SessionError('NO_LLM', `session "${this.id}" has no llm`);
  }

  #beginOptions(options: SendOptions): BeginTurnOptions {
    const begin: BeginTurnOptions = {};
    if (options.signal) begin.signal = options.signal;
    if (options.lease) begin.lease = options.lease;
    return begin;
  }

  #callOptions(options: SendOptions) {
    const call: { signal?: AbortSignal; maxTokens?: number; tools?: ToolSchema[] } = {};
    if (options.signal) call.signal = options.signal;
    if (options.maxTokens !== undefined) call.maxTokens = options.maxTokens;
    if (options.tools) call.tools = options.tools;
    return call;
  }
}

/**
 * Creates a standard session under `options.parentId` (one storage write) and returns it. The
 * system prompt is the parent's unless `systemPrompt` is given. Throws `SESSION_NOT_FOUND` or
 * `SESSION_ARCHIVED` for the parent, `INVALID_ARGUMENT` for bad options.
 *
 * @example
 * const child = await createSession({ storage, parentId: main.id, llm, label: 'Research' });
 * const { content } = await child.send('hello');
 */
export async function createSession(options: CreateSessionOptions): Promise<Session> {
  const runtime = runtimeOf(options);
  resolveContextOptions(options.context);
  const label = options.label ?? DEFAULT_SESSION_LABEL;
  checkLabel(label);
  if (typeof options.parentId !== 'string') throw invalid('parentId is required');
  const spec: Parameters<SessionStorage['createChild']>[1] = { label };
  if (options.tags !== undefined) spec.tags = options.tags;
  if (options.metadata !== undefined) spec.metadata = options.metadata;
  if (options.systemPrompt !== undefined) spec.systemPrompt = options.systemPrompt;
  const row = await options.storage.createChild(options.parentId, spec);
  return new BoundSession(options.storage, row, runtime);
}

/** Loads a session (standard or main) by id; `null` when the storage does not have it. */
export async function loadSession(id: string, options: LoadSessionOptions): Promise<Session | null> {
  const runtime = runtimeOf(options);
  resolveContextOptions(options.context);
  const meta = await options.storage.getSession(id);
  return meta ? new BoundSession(options.storage, meta, runtime) : null;
}
