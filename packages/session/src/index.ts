/**
 * @module @stello-ai/session
 * One conversation session: message and storage types, context assembly, send/stream,
 * LLM adapters and an in-memory storage.
 */
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
export type {
  LLMAdapter,
  LLMCallFn,
  LLMChunk,
  LLMCompleteOptions,
  LLMResult,
  ToolCallDelta,
  ToolSchema,
} from './llm';
export type {
  ChildSessionSpec,
  MainStorage,
  SessionRow,
  SessionStorage,
  TurnCommit,
  TurnCommitResult,
  TurnContextData,
} from './storage';
export type {
  ContextOptions,
  CreateMainSessionOptions,
  CreateSessionOptions,
  DraftCallOptions,
  ForkOptions,
  LoadMainSessionOptions,
  LoadSessionOptions,
  MainSession,
  SendOptions,
  Session,
  ToolResultInput,
  TurnDraft,
} from './session-types';
export { SessionArchivedError, SessionError, isCodedError } from './errors';
export type { SessionErrorCode } from './errors';
