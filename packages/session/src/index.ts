/**
 * @module @stello-ai/session
 * One conversation session: message and storage types, context assembly, send/stream,
 * LLM adapters and an in-memory storage.
 */

// LLM adapters: OpenAI-compatible, Anthropic, offline, and the text-in/text-out helper
export type {
  AnthropicAdapterOptions,
  OfflineAdapterOptions,
  OpenAICompatibleAdapterOptions,
} from './adapters';
export {
  createAnthropicAdapter,
  createLLMCallFn,
  createOfflineAdapter,
  createOpenAICompatibleAdapter,
  DEFAULT_ANTHROPIC_MAX_CONTEXT_TOKENS,
  DEFAULT_ANTHROPIC_MAX_TOKENS,
  DEFAULT_OFFLINE_MAX_CONTEXT_TOKENS,
  DEFAULT_OPENAI_MAX_CONTEXT_TOKENS,
  DEFAULT_OPENAI_MAX_TOKENS,
  defaultOpenAIContextTokens,
} from './adapters';
export type { TurnPrompt, TurnPromptInput } from './context/context';
export {
  assembleTurnPrompt,
  DEFAULT_BUDGET_RATIO,
  DEFAULT_MAX_HISTORY_RECORDS,
  estimateMessageTokens,
  estimateTokens,
  groupToolCalls,
  identityLine,
  removeIncompleteToolCallGroups,
  selectHistoryByBudget,
} from './context/context';
export type { SessionErrorCode } from './errors';
export {
  isCodedError,
  SessionArchivedError,
  SessionError,
  sessionNotFoundError,
  turnAbortedError,
} from './errors';
export { InMemoryStorageAdapter } from './in-memory/in-memory-storage';
export type {
  AddRefOutcome,
  InMemoryStoreOptions,
  RecordPage,
  RootInit,
  StoredSessionPatch,
} from './in-memory/in-memory-store';
export { InMemoryStore } from './in-memory/in-memory-store';
export type {
  LLMAdapter,
  LLMCallFn,
  LLMChunk,
  LLMCompleteOptions,
  LLMResult,
  ToolCallDelta,
  ToolSchema,
} from './llm/llm';
export type { PushStream } from './llm/push-stream';
export { createPushStream } from './llm/push-stream';
export {
  createMainSession,
  loadMainSession,
  openSession,
  validateIntegrateResult,
} from './sessions/main-session';
// Sessions: turns, context assembly and in-memory storage
export { createSession, loadSession } from './sessions/session';
export type {
  BeginTurnOptions,
  ContextOptions,
  CreateMainSessionOptions,
  CreateSessionOptions,
  DraftCallOptions,
  DraftCommitOptions,
  ForkOptions,
  LoadMainSessionOptions,
  LoadSessionOptions,
  MainSession,
  SendOptions,
  Session,
  ToolResultInput,
  TurnDraft,
  TurnLeaseOptions,
} from './sessions/session-types';
export type {
  ChildSessionSpec,
  LoadTurnContextOptions,
  MainStorage,
  SessionRow,
  SessionStorage,
  StoredTurn,
  TurnClaim,
  TurnCommit,
  TurnCommitResult,
  TurnConcurrency,
  TurnContextData,
  TurnLeaseClaim,
  TurnStatus,
} from './storage';
export { estimateTextTokens } from './tokens/estimate-text-tokens';
export { openAIEncodingFor, tiktokenCounter } from './tokens/tiktoken-counter';
export type { TokenCounter, TokenizerName } from './tokens/token-counter';
export { estimateTokenCounter } from './tokens/token-counter';
export type {
  ChildL2Summary,
  ConsolidateFn,
  IntegrateFn,
  IntegrateResult,
  ListRecordsOptions,
  Message,
  MessageRole,
  SendResult,
  SessionFilter,
  SessionMeta,
  SessionMetaUpdate,
  SessionRole,
  SessionStatus,
  SlotKey,
  StreamResult,
  TokenUsage,
  ToolCall,
} from './types';
