import type { TokenCounter } from '../tokens/token-counter';
import type { Message, TokenUsage, ToolCall } from '../types';

/** A tool as the model sees it: a name, a description and a JSON Schema for its input. */
export interface ToolSchema {
  name: string;
  description: string;
  inputSchema: Record<string, unknown>;
}

export interface LLMCompleteOptions {
  /** Upper bound of generated tokens; adapters have their own default. */
  maxTokens?: number;
  temperature?: number;
  tools?: ToolSchema[];
  /** Aborts the HTTP request (or the offline generation); the call rejects with an AbortError. */
  signal?: AbortSignal;
}

export interface LLMResult {
  content: string | null;
  toolCalls?: ToolCall[];
  usage?: TokenUsage;
  /** Provider-specific extra data (model name, stop reason) stored in the record's metadata. */
  metadata?: Record<string, unknown>;
}

/** A partial tool call in a stream: `input` is a fragment of the JSON arguments text. */
export interface ToolCallDelta {
  index: number;
  id?: string;
  name?: string;
  input?: string;
}

export interface LLMChunk {
  delta: string;
  toolCallDeltas?: ToolCallDelta[];
  /** Present on the last chunk when the provider reports usage in the stream. */
  usage?: TokenUsage;
}

/**
 * A chat model. `stream` is optional: without it callers fall back to `complete` and emit the
 * whole text once. `maxContextTokens` is the context window the session budgets against. A call
 * whose prompt exceeds the provider's window rejects with a `SessionError` coded `CONTEXT_TOO_LONG`.
 */
export interface LLMAdapter {
  complete(messages: Message[], options?: LLMCompleteOptions): Promise<LLMResult>;
  stream?(messages: Message[], options?: LLMCompleteOptions): AsyncIterable<LLMChunk>;
  readonly maxContextTokens: number;
  /** The model name, for logs and record metadata. */
  readonly model?: string;
  /** Which adapter this is (`openai-compatible`, `anthropic`, `offline`), for traces. */
  readonly provider?: string;
  /** Output tokens a call asks for unless it sets its own; the prompt budget leaves room for them. */
  readonly maxOutputTokens?: number;
  /** Counts tokens the way this model does; the script-aware estimate when absent. */
  readonly tokenCounter?: TokenCounter;
}

/** Minimal text-in/text-out call used by the default consolidate and integrate functions. */
export type LLMCallFn = (messages: Pick<Message, 'role' | 'content'>[]) => Promise<string>;
