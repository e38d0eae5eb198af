import type {
  ConsolidateFn,
  ContextOptions,
  IntegrateFn,
  IntegrateResult,
  LLMAdapter,
  LLMCallFn,
  MainStorage,
  Message,
  Session,
  ToolCall,
} from '@stello-ai/session';
import type { z } from 'zod';
import type { LegacySkill, LegacySkillRouter, LegacyToolRuntime } from './tools/legacy-capability-types';
import type { TurnConcurrency, TurnProgressEvent } from './turns/turn-ledger';
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
 * What a tool may do with the agent running its turn. `StelloAgent` implements it; it is declared
 * here, not imported, so these types do not depend on the agent's implementation (no type circle).
 */
export interface ToolAgent {
  readonly sessions: SessionTree;
  readonly memory: MemoryEngine;
  turn(sessionId: string, input: string, options?: TurnOptions): Promise<EngineTurnResult>;
  stream(sessionId: string, input: string, options?: TurnOptions): EngineStreamResult;
  forkSession(sessionId: string, options: EngineForkOptions): Promise<SessionInfo>;
  archiveSession(sessionId: string): Promise<{ sessionId: string }>;
  putInsight(sessionId: string, content: string): Promise<void>;
  consolidateSession(sessionId: string): Promise<string | null>;
  integrate(): Promise<IntegrateResult>;
  getTree(): Promise<SessionTreeNode>;
}

/** What a tool sees of the call it serves. */
export interface ToolExecutionContext {
  /** The agent running the turn (a tool may fork, put insights, run turns on other sessions). */
  agent: ToolAgent;
  /** The session whose turn called the tool. */
  sessionId: string;
  /** The id of the call, as the model gave it. */
  toolCallId: string;
  toolName: string;
  /** Aborts when the turn is cancelled; long-running tools should stop then. */
  signal: AbortSignal;
}

/** A tool the model may call; `inputSchema` validates the arguments before `execute` runs. */
export interface Tool<TInput extends z.ZodType = z.ZodType> {
  /** The function name the model calls (`^[a-zA-Z0-9_-]{1,64}$`). */
  name: string;
  /** What the tool does, for the model. */
  description: string;
  /** A zod schema of a JSON object; shown to the model as JSON Schema. */
  inputSchema: TInput;
  /** Runs the call; the return value goes to the model (a string as is, anything else as JSON). */
  execute(input: z.infer<TInput>, context: ToolExecutionContext): Promise<unknown> | unknown;
}

/** Every shape `capabilities.tools` accepts: our list, the original 0.2.x runtime object, or a map by name. */
export type ToolsInput = Tool[] | LegacyToolRuntime | Record<string, Tool>;

/** Every shape `capabilities.skills` accepts: a list, the original 0.2.x router object, or a map by name. */
export type SkillsInput = (Skill | LegacySkill)[] | LegacySkillRouter | Record<string, Skill | LegacySkill>;

/** A named prompt fragment the model can activate with the built-in `activate_skill` tool. */
export interface Skill {
  name: string;
  /** One line the model reads to decide whether to activate the skill. */
  description: string;
  /** The instructions the model receives when it activates the skill. */
  content: string;
}

/** A named set of fork defaults (`forkSession(id, { profile })`). */
export interface ForkProfile {
  /** System prompt of the child (else the parent's is copied). */
  systemPrompt?: string;
  /** Records the child starts with (default `none`). */
  context?: 'none' | 'inherit';
  /** An opening assistant message stored in the child. */
  prompt?: string;
  /** Tags added to the child (merged with the fork's own). */
  tags?: string[];
}

export interface SplitProposal {
  id: string;
  parentId: string;
  suggestedLabel: string;
  suggestedScope?: string;
  reason: string;
}

export interface UpdateProposal {
  id: string;
  path: string;
  oldValue: unknown;
  newValue: unknown;
  reason: string;
}

/** Host-supplied confirmation of proposals; optional. */
export interface ConfirmProtocol {
  confirmSplit(proposal: SplitProposal): Promise<TopologyNode>;
  dismissSplit(proposal: SplitProposal): Promise<void>;
  confirmUpdate(proposal: UpdateProposal): Promise<void>;
  dismissUpdate(proposal: UpdateProposal): Promise<void>;
}

/** Host lifecycle callbacks; each is optional and may replace the built-in step. */
export interface EngineLifecycleAdapter {
  bootstrap?(sessionId: string): Promise<BootstrapResult>;
  afterTurn?(sessionId: string, input: string, result: EngineTurnResult): Promise<void> | void;
}

/**
 * Observers of the agent. None is awaited in the path of a turn, and an exception or rejection
 * never breaks anything: it becomes an `error` event and goes to `onError`.
 */
export interface EngineHooks {
  /** A turn starts running (after the turns queued before it on the session). */
  onMessageReceived(event: { sessionId: string; input: string }): void | Promise<void>;
  /** A turn was stored; `content` is its final answer. */
  onAssistantReply(event: {
    sessionId: string;
    content: string | null;
    rawResponse: string;
  }): void | Promise<void>;
  /** The model asked for a tool call (fired before it runs). */
  onToolCall(event: { sessionId: string; toolCall: ToolCall }): void | Promise<void>;
  /** A tool call finished; `result` is its value, or the error text when `isError`. */
  onToolResult(event: {
    sessionId: string;
    toolCall: ToolCall;
    result: unknown;
    isError: boolean;
  }): void | Promise<void>;
  onSessionEnter(event: { sessionId: string }): void | Promise<void>;
  onSessionLeave(event: { sessionId: string }): void | Promise<void>;
  /** Before each LLM call of a turn; round 0 is the first call, then one per tool round. */
  onRoundStart(event: { sessionId: string; round: number }): void | Promise<void>;
  /** Once per turn, after it was stored. */
  onRoundEnd(event: { sessionId: string; turn: EngineTurnResult['turn'] }): void | Promise<void>;
  onSessionArchive(event: { sessionId: string }): void | Promise<void>;
  onSessionFork(event: { parentId: string; child: TopologyNode }): void | Promise<void>;
  /** A session's L2 memory was rewritten. */
  onConsolidated(event: { sessionId: string; memory: string }): void | Promise<void>;
  /** The root's synthesis and the insights were written. */
  onIntegrated(event: { synthesis: string; insightCount: number }): void | Promise<void>;
  /**
   * A failure: of a hook or lifecycle callback (`hook:<name>`, `afterTurn`), of background
   * memory work (`consolidate`, `integrate`), or of a turn (`turn`, which its caller also receives).
   */
  onError(event: { error: unknown; sessionId?: string; phase: string }): void | Promise<void>;
}

export interface StelloAgentConfig {
  /** The topology of the space. */
  sessions: SessionTree;
  /** L1/L2/L3 access of the space. */
  memory: MemoryEngine;
  /**
   * Sessions' records and slots; required unless `session.sessionResolver` builds sessions.
   * Also where the per-session `consolidate_prompt` / `integrate_prompt` slots are read.
   */
  storage?: MainStorage;
  /** The model for turns; also the default `LLMCallFn` of consolidation and integration. */
  llm?: LLMAdapter;
  capabilities?: {
    /**
     * Tools the model may call in every session of the space: a list, a map by name, or the
     * original 0.2.x `EngineToolRuntime` object (`getToolDefinitions` / `executeTool`).
     */
    tools?: ToolsInput;
    /**
     * Skills; when any is given the built-in `activate_skill` tool is offered too. A list, a map
     * by name, or the original 0.2.x `SkillRouter` object (its skills' `guidancePrompt` is the content).
     */
    skills?: SkillsInput;
    /** Host callbacks (`bootstrap` replaces the built-in enter step; `afterTurn` observes). */
    lifecycle?: EngineLifecycleAdapter;
    /** Kept for hosts that implement proposals; the agent itself never calls it. */
    confirm?: ConfirmProtocol;
    /** Named fork defaults, selected with `forkSession(id, { profile })`. */
    profiles?: Record<string, ForkProfile>;
  };
  session?: {
    /**
     * Builds the session object of an id (default: `loadSession` / `loadMainSession` over
     * `storage`). Must return `null` for ids outside the space, and a `MainSession` for the root.
     */
    sessionResolver?: (sessionId: string) => Promise<Session | null>;
    /** Text-in/text-out call of the default consolidate and integrate functions (default: from `llm`). */
    llmCall?: LLMCallFn;
    /** Replaces the default consolidation (and its prompt resolution) when given. */
    consolidateFn?: ConsolidateFn;
    /** Replaces the default integration (and its prompt resolution) when given. */
    integrateFn?: IntegrateFn;
    /** Prompt of the default consolidation when the session has no `consolidate_prompt` slot. */
    consolidatePrompt?: string;
    /** Prompt of the default integration when the root has no `integrate_prompt` slot. */
    integratePrompt?: string;
    /** How turn prompts are budgeted (passed to the sessions). */
    context?: ContextOptions;
  };
  orchestration?: {
    /**
     * Wraps every run of memory work (a consolidation, an integration), in the background or asked
     * for: for tracing or timing it. It must call `run` once and return what `run` returns.
     */
    aroundMemoryWork?: AroundMemoryWork;
    /** Tool rounds per turn (default 5); after the last one the model answers without tools. */
    maxToolRounds?: number;
    /** Consolidate a session after every N completed turns (default 6; 0 disables). */
    consolidateEveryNTurns?: number;
    /** Consolidate when a client leaves a session (default true). */
    consolidateOnLeave?: boolean;
    /** Integrate after consolidations settle (default true). */
    integrateAfterConsolidate?: boolean;
    /**
     * Lifetime of a turn lease, in ms (default 120 000). Every turn holds its session's lease in
     * storage so turns on one session run one at a time across server instances; a running turn
     * renews it every third of this, and a crashed instance blocks its session this long at most.
     */
    turnLeaseTtlMs?: number;
    /**
     * How long a turn waits while another instance runs a turn on the same session (default
     * 60 000 ms; 0 fails at once), before it fails with `SESSION_BUSY`.
     */
    turnLeaseWaitMs?: number;
    /**
     * What a turn does when its session runs another one (default `enqueue`: wait; `reject`:
     * `SESSION_BUSY` at once, naming the running turn). A turn's own `concurrency` overrides it.
     */
    concurrency?: TurnConcurrency;
    /**
     * Turns that may wait or run on one session in this agent (default 64); more are refused at
     * once with `SESSION_BUSY` (`details.maxQueuedTurns`), so a client cannot pile up LLM work.
     */
    maxQueuedTurns?: number;
    /** Observers; see {@link EngineHooks}. */
    hooks?: Partial<EngineHooks>;
  };
  runtime?: {
    /** How long a session runtime with no holder stays cached (default 0: dropped at once). */
    recyclePolicy?: { idleTtlMs?: number };
  };
}

/** Options of `StelloAgent.forkSession`. */
export interface EngineForkOptions {
  label: string;
  /** A short scope label stored on the child. */
  scope?: string;
  /** System prompt of the child; the parent's is copied when neither this nor the profile sets one. */
  systemPrompt?: string;
  /** `none` (default) or `inherit`: copy the parent's records (whole tool-call groups only). */
  context?: 'none' | 'inherit';
  /**
   * Fork from an earlier message: the child inherits the parent's history up to and including this
   * record (its `id` from `readRecordPage` / `GET …/messages`), with the tool-call group it belongs
   * to kept whole. Implies `context: 'inherit'`.
   */
  fromRecordId?: string;
  /** An opening assistant message stored in the child. */
  prompt?: string;
  /** A key of `capabilities.profiles` whose values are used where these options are unset. */
  profile?: string;
  tags?: string[];
  metadata?: Record<string, unknown>;
}

/** Options of `StelloAgent.turn` and `StelloAgent.stream`. */
export interface TurnOptions {
  /** Cancels the turn: nothing is written and it rejects with `SessionError` `ABORTED`. */
  signal?: AbortSignal;
  /**
   * The turn's id (a UUID; generated when absent). Submitting the same id again on the same
   * session returns the first turn's result (or waits for it); another input is `TURN_ID_CONFLICT`.
   */
  turnId?: string;
  /** What to do when the session runs another turn (default: `orchestration.concurrency`, else `enqueue`). */
  concurrency?: TurnConcurrency;
  /** Receives the turn's progress (deltas, tool calls, tool results), in order, from every round. */
  onEvent?: (event: TurnProgressEvent) => void;
}

export type { Message };

/** One run of memory work, as {@link AroundMemoryWork} sees it. */
export interface MemoryWorkRun {
  kind: 'consolidate' | 'integrate';
  /** The consolidated session (a consolidation only). */
  sessionId?: string;
  /** True when an explicit request is part of the run (`consolidateSession`, `integrate`, REST). */
  explicit: boolean;
}

/** See `orchestration.aroundMemoryWork`. */
export type AroundMemoryWork = <T>(work: MemoryWorkRun, run: () => Promise<T>) => Promise<T>;
