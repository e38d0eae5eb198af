/** Who wrote a message. `tool` messages carry the result of one tool call. */
export type MessageRole = 'system' | 'user' | 'assistant' | 'tool';

/** One tool call requested by the model. `input` is the parsed JSON arguments. */
export interface ToolCall {
  id: string;
  name: string;
  input: Record<string, unknown>;
}

/**
 * One L3 record (or one prompt message). Assistant messages may carry `toolCalls`; tool messages
 * carry the `toolCallId` they answer. `timestamp` is an ISO-8601 string.
 */
export interface Message {
  role: MessageRole;
  content: string;
  toolCalls?: ToolCall[];
  toolCallId?: string;
  timestamp?: string;
  metadata?: Record<string, unknown>;
}

/** `main` is the root of a space's tree; every other session is `standard`. */
export type SessionRole = 'standard' | 'main';
export type SessionStatus = 'active' | 'archived';

/** The session package's view of a session (no tree fields). Timestamps are ISO-8601. */
export interface SessionMeta {
  readonly id: string;
  label: string;
  role: SessionRole;
  status: SessionStatus;
  tags: string[];
  metadata: Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
}

export interface SessionMetaUpdate {
  label?: string;
  tags?: string[];
  metadata?: Record<string, unknown>;
}

/** Filter for `MainStorage.listSessions`; `tags` matches sessions that have all of them. */
export interface SessionFilter {
  status?: SessionStatus;
  role?: SessionRole;
  tags?: string[];
}

/** Options of `SessionStorage.listRecords`; the role filter applies before limit and offset. */
export interface ListRecordsOptions {
  limit?: number;
  offset?: number;
  role?: MessageRole;
}

/** Produces a new L2 memory from the current one and the session's records. */
export type ConsolidateFn = (currentMemory: string | null, messages: Message[]) => Promise<string>;

/** One child's L2, as integration reads it. */
export interface ChildL2Summary {
  sessionId: string;
  label: string;
  l2: string;
}

export interface IntegrateResult {
  synthesis: string;
  insights: { sessionId: string; content: string }[];
}

/** Produces the root's synthesis and one insight per child it names. */
export type IntegrateFn = (
  children: ChildL2Summary[],
  currentSynthesis: string | null,
) => Promise<IntegrateResult>;

/** Token usage as reported by the provider, when it reports it. */
export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
}

/** Result of one `Session.send`. */
export interface SendResult {
  content: string | null;
  toolCalls?: ToolCall[];
  usage?: TokenUsage;
}

/** Text deltas as they arrive, and the final result once the turn has been stored. */
export type StreamResult = AsyncIterable<string> & { result: Promise<SendResult> };

/** Named per-session text slots (rows of `session_data`). */
export type SlotKey =
  | 'system_prompt'
  | 'memory'
  | 'insight'
  | 'consolidate_prompt'
  | 'integrate_prompt'
  | 'scope'
  | 'index';
