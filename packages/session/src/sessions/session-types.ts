import type { LLMAdapter, LLMCompleteOptions, LLMResult, ToolSchema } from '../llm/llm';
import type {
  MainStorage,
  SessionRow,
  SessionStorage,
  TurnClaim,
  TurnCommitResult,
  TurnContextData,
  TurnLeaseClaim,
} from '../storage';
import type {
  ConsolidateFn,
  IntegrateFn,
  IntegrateResult,
  ListRecordsOptions,
  Message,
  SendResult,
  SessionMeta,
  SessionMetaUpdate,
  StreamResult,
} from '../types';

/** How the prompt of a turn is budgeted. */
export interface ContextOptions {
  /** Share of `llm.maxContextTokens` the prompt may fill (default 0.8). */
  budgetRatio?: number;
  /** Most records read for the history window (default 200); keeps a turn's cost bounded. */
  maxHistoryRecords?: number;
}

export interface CreateSessionOptions {
  storage: SessionStorage;
  /** The session the new one is created under (a standard session always has a parent). */
  parentId: string;
  llm?: LLMAdapter;
  label?: string;
  systemPrompt?: string;
  tags?: string[];
  metadata?: Record<string, unknown>;
  tools?: ToolSchema[];
  context?: ContextOptions;
}

export interface LoadSessionOptions {
  storage: SessionStorage;
  llm?: LLMAdapter;
  tools?: ToolSchema[];
  context?: ContextOptions;
}

/**
 * The turn lease a turn takes (see `SessionStorage.loadTurnContext`): while it holds it, turns of
 * other owners on the session fail with `SESSION_BUSY`, whichever process runs them.
 */
export interface TurnLeaseOptions extends TurnLeaseClaim {
  /**
   * Receives a failure to release the lease after a failed or aborted turn (the caller gets the
   * turn's own error; the lease then lapses after `ttlMs`).
   */
  onReleaseError?: (error: unknown) => void;
}

/** Options of `Session.beginTurn`. */
export interface BeginTurnOptions {
  /** Aborts the turn: nothing is written and it rejects with `ABORTED`. */
  signal?: AbortSignal;
  /** Takes the session's turn lease with the context read; `SESSION_BUSY` when another owner holds it. */
  lease?: TurnLeaseOptions;
  /** Claims the turn's ledger entry with the read (needs `lease`; see `LoadTurnContextOptions.turn`). */
  turn?: TurnClaim;
}

export interface SendOptions {
  signal?: AbortSignal;
  maxTokens?: number;
  tools?: ToolSchema[];
  /** Runs the turn under this turn lease (released by the commit, or when the turn fails). */
  lease?: TurnLeaseOptions;
}

/** A tool result handed back to the model out of band (never parsed from user text). */
export interface ToolResultInput {
  toolCallId: string;
  toolName: string;
  /** What the model reads: the tool's output, or the error text when `isError`. */
  content: string;
  isError?: boolean;
}

export interface DraftCallOptions extends Omit<LLMCompleteOptions, 'tools'> {
  tools?: ToolSchema[];
  /** Receives text deltas; when set and the adapter can stream, the call streams. */
  onDelta?: (text: string) => void;
}

/** Options of `TurnDraft.commit`. */
export interface DraftCommitOptions {
  /** Completes the claimed ledger entry with this result in the same write (fenced; see `TurnCommit.turn`). */
  turnResult?: unknown;
  /** The last stream sequence number of the turn, kept with its ledger entry. */
  lastSeq?: number;
}

/**
 * One turn in progress: it read the context once, accumulates the records of every LLM round
 * in memory, and writes them all with `commit()`. Dropping it (or a failed call) writes nothing
 * and leaves the insight in place. A draft begun with a lease holds it until `commit()` succeeds
 * or `release()` is called: call one of them, or the session stays busy until the lease lapses.
 */
export interface TurnDraft {
  readonly sessionId: string;
  readonly context: TurnContextData;
  /** The records this turn will write, user message first. */
  readonly pending: readonly Message[];
  /** Calls the model on the assembled prompt plus the pending records; appends the assistant record. */
  call(options?: DraftCallOptions): Promise<LLMResult>;
  /** Appends one tool record per result, after the assistant record that requested them. */
  addToolResults(results: ToolResultInput[]): void;
  /**
   * Writes the pending records, counts the turn, consumes the insight and releases the turn lease,
   * in one transaction. When it fails, the lease is still held: call `release()`.
   */
  commit(options?: DraftCommitOptions): Promise<TurnCommitResult>;
  /**
   * Extends the turn lease by its `ttlMs` (one storage write), for turns that run long. `false`
   * when the draft holds no lease (none taken, committed, released) or another owner took it.
   */
  renewLease(): Promise<boolean>;
  /**
   * Gives the turn up: releases the turn lease if the draft still holds it (no write otherwise,
   * in particular after a successful commit) and refuses further calls. Idempotent; never
   * rejects — a failed release goes to `lease.onReleaseError`, so it cannot mask the turn's error.
   */
  release(): Promise<void>;
}

export interface ForkOptions {
  label: string;
  systemPrompt?: string;
  scope?: string;
  /**
   * `none` (default) copies nothing; `inherit` copies the parent's newest records; an array seeds
   * the child with those records (a fork from an earlier message). Both keep whole tool-call
   * groups only, within the inherited byte budget; a function chooses freely from every record.
   */
  context?:
    | 'none'
    | 'inherit'
    | readonly Message[]
    | ((parentRecords: Message[]) => Message[] | Promise<Message[]>);
  /** An opening assistant message stored in the child. */
  prompt?: string;
  llm?: LLMAdapter;
  tools?: ToolSchema[];
  tags?: string[];
  metadata?: Record<string, unknown>;
}

/** One conversation session bound to a storage (and an LLM for turns). */
export interface Session {
  readonly id: string;
  /** The meta as last read or written by this object. */
  readonly meta: SessionMeta;
  send(content: string, options?: SendOptions): Promise<SendResult>;
  stream(content: string, options?: SendOptions): StreamResult;
  beginTurn(input: string, options?: BeginTurnOptions): Promise<TurnDraft>;
  messages(options?: ListRecordsOptions): Promise<Message[]>;
  systemPrompt(): Promise<string | null>;
  setSystemPrompt(content: string): Promise<void>;
  insight(): Promise<string | null>;
  setInsight(content: string): Promise<void>;
  memory(): Promise<string | null>;
  consolidate(fn: ConsolidateFn): Promise<string>;
  fork(options: ForkOptions): Promise<Session>;
  updateMeta(update: SessionMetaUpdate): Promise<SessionMeta>;
  archive(): Promise<void>;
  trimRecords(keepRecent: number): Promise<void>;
  setLLM(llm: LLMAdapter): void;
  /** The stored row with tree fields. */
  row(): Promise<SessionRow>;
}

/** The root session: its memory slot is the synthesis, and it runs integration. */
export interface MainSession extends Session {
  synthesis(): Promise<string | null>;
  integrate(fn: IntegrateFn): Promise<IntegrateResult>;
}

export interface CreateMainSessionOptions extends Omit<CreateSessionOptions, 'storage' | 'parentId'> {
  storage: MainStorage;
}

export interface LoadMainSessionOptions extends Omit<LoadSessionOptions, 'storage'> {
  storage: MainStorage;
}
