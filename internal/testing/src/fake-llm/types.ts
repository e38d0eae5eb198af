import type { IncomingHttpHeaders } from 'node:http';
import type { TokenCounter } from '@stello-ai/session';

/** A tool call the fake model makes. `input` as a string is sent verbatim as the arguments text (invalid JSON tests). */
export interface FakeToolCall {
  /** Defaults to a generated provider-style id (`call_fake_N`, `toolu_fake_N`). */
  id?: string;
  name: string;
  input?: Record<string, unknown> | string;
}

/** One scripted answer of a fake server. With `status` >= 400 the server answers that error instead. */
export interface FakeReply {
  /** Reply text; defaults to an echo of the last user message unless tool calls are given. */
  content?: string | null;
  toolCalls?: FakeToolCall[];
  /** HTTP status of an error reply (e.g. 400, 429, 500). */
  status?: number;
  /** Body of an error reply; defaults to the provider's error shape with message "fake error". */
  errorBody?: unknown;
  /** Token usage to report; defaults to an estimate of four characters per token. */
  usage?: { promptTokens: number; completionTokens: number };
}

/** How a recorded request ended: still running, fully answered, or closed early by the client. */
export type FakeRequestOutcome = 'pending' | 'completed' | 'aborted';

/** A request the fake received, with its parsed JSON body. */
export interface FakeRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary fields of the provider's JSON body
  body: any;
  /** Updated in place when the response completes or the client closes the connection first. */
  outcome: FakeRequestOutcome;
}

/** Replies taken in order (then the default echo), or a function of the request. */
export type FakeScript = FakeReply[] | ((request: FakeRequest) => FakeReply | Promise<FakeReply>);

/** Options of `startFakeOpenAI` and `startFakeAnthropic`. */
export interface FakeLLMServerOptions {
  script?: FakeScript;
  /** Wait before the first byte of every answer, in milliseconds. */
  firstTokenLatencyMs?: number;
  /** Number of pieces the reply text is streamed in (4 when unset; fewer for shorter texts). */
  chunkCount?: number;
  /** Wait between streamed chunks, in milliseconds; non-streamed answers wait the same total. */
  chunkDelayMs?: number;
  /**
   * Reject structurally invalid requests with the provider's 400, as the real API does (orphan tool
   * results, tool calls without results, missing max_tokens…). On by default.
   */
  validate?: boolean;
  /**
   * The model's window: a prompt of more tokens is refused with the provider's own 400
   * (OpenAI `context_length_exceeded`, Anthropic "prompt is too long"). No limit when unset.
   */
  maxPromptTokens?: number;
  /** Tokenizer of that check; defaults to js-tiktoken (o200k/cl100k by model name, cl100k for Anthropic). */
  tokenCounter?: TokenCounter;
}

/** A running fake LLM HTTP server on 127.0.0.1. */
export interface FakeLLMServer {
  /** `http://127.0.0.1:PORT`. */
  readonly url: string;
  /** What to pass as the SDK's `baseURL`. */
  readonly baseURL: string;
  /** Every chat request received, in arrival order. */
  readonly requests: FakeRequest[];
  /** Replaces the script (and drops what was left of a queue); no argument restores the default echo. */
  setScript(script?: FakeScript): void;
  /** Resolves when request `index` (arrival order) has completed or been aborted by the client. */
  waitForOutcome(index: number): Promise<Exclude<FakeRequestOutcome, 'pending'>>;
  /** Closes every connection and stops the server. */
  close(): Promise<void>;
}
