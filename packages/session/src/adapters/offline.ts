import type { LLMAdapter, LLMChunk, LLMResult, ToolSchema } from '../llm/llm';
import { parseToolArguments } from '../llm/parse-tool-arguments';
import type { Message, TokenUsage, ToolCall } from '../types';
import { createAbortError, throwIfAborted } from './_errors';

/** Context window the offline model reports when none is given. */
export const DEFAULT_OFFLINE_MAX_CONTEXT_TOKENS = 32_768;
const QUOTE_MAX_CHARS = 60;
// `[[tool:NAME {"json":"args"}]]`; the arguments object is optional.
const TOOL_DIRECTIVE = /\[\[tool:([\w.-]+)(?:\s+(\{[\s\S]*?\}))?\s*\]\]/g;

/** Options of {@link createOfflineAdapter}. */
export interface OfflineAdapterOptions {
  /** Context window reported to the session; 32768 when unset. */
  maxContextTokens?: number;
  /**
   * Pause before each streamed chunk, in milliseconds (0 when unset); `complete` waits the same
   * total, so slow turns can be simulated and aborted.
   */
  chunkDelayMs?: number;
  /**
   * Decides the tool calls of a reply when tools are offered (tests). Returning `null` or `[]` falls
   * back to the `[[tool:NAME {...}]]` directive and then to a text reply. Never called without tools.
   */
  toolPlan?: (messages: Message[], tools: ToolSchema[]) => ToolCall[] | null;
}

interface OfflineReply {
  content: string | null;
  toolCalls: ToolCall[];
  usage: TokenUsage;
}

/**
 * Creates a deterministic offline model that needs no key and no network. It answers with text
 * derived from the prompt, calls a tool when the last user message holds a
 * `[[tool:NAME {"json":"args"}]]` directive naming an offered tool, and after tool results answers
 * with a text that quotes them.
 */
export function createOfflineAdapter(options: OfflineAdapterOptions = {}): LLMAdapter {
  const chunkDelayMs = options.chunkDelayMs ?? 0;

  return {
    model: 'offline',
    provider: 'offline',
    maxContextTokens: options.maxContextTokens ?? DEFAULT_OFFLINE_MAX_CONTEXT_TOKENS,

    async complete(messages, callOptions): Promise<LLMResult> {
      const signal = callOptions?.signal;
      throwIfAborted(signal);
      const reply = planReply(messages, callOptions?.tools ?? [], options.toolPlan);
      const chunkCount = reply.content === null ? reply.toolCalls.length : splitWords(reply.content).length;
      await sleep(chunkDelayMs * chunkCount, signal);
      return {
        content: reply.content,
        ...(reply.toolCalls.length > 0 && { toolCalls: reply.toolCalls }),
        usage: reply.usage,
        metadata: { model: 'offline', finishReason: reply.toolCalls.length > 0 ? 'tool_calls' : 'stop' },
      };
    },

    async *stream(messages, callOptions): AsyncGenerator<LLMChunk> {
      const signal = callOptions?.signal;
      throwIfAborted(signal);
      const reply = planReply(messages, callOptions?.tools ?? [], options.toolPlan);
      for (const delta of splitWords(reply.content ?? '')) {
        await sleep(chunkDelayMs, signal);
        yield { delta };
      }
      for (const [index, call] of reply.toolCalls.entries()) {
        await sleep(chunkDelayMs, signal);
        // Arguments arrive in two fragments, as providers split them, so consumers must concatenate.
        const args = JSON.stringify(call.input);
        const half = Math.ceil(args.length / 2);
        yield {
          delta: '',
          toolCallDeltas: [{ index, id: call.id, name: call.name, input: args.slice(0, half) }],
        };
        yield { delta: '', toolCallDeltas: [{ index, input: args.slice(half) }] };
      }
      throwIfAborted(signal);
      yield { delta: '', usage: reply.usage };
    },
  };
}

function planReply(
  messages: Message[],
  tools: ToolSchema[],
  toolPlan: OfflineAdapterOptions['toolPlan'],
): OfflineReply {
  const promptTokens = messages.reduce((sum, message) => sum + estimateTokens(message.content), 0);
  const last = messages.at(-1);

  let toolCalls: ToolCall[] = [];
  // Tool calls are only ever produced when tools are offered.
  if (tools.length > 0) {
    toolCalls = toolPlan?.(messages, tools) ?? [];
    if (toolCalls.length === 0 && last?.role === 'user')
      toolCalls = directiveCalls(messages, last.content, tools);
  }
  if (toolCalls.length > 0) {
    return {
      content: null,
      toolCalls,
      usage: { promptTokens, completionTokens: estimateTokens(JSON.stringify(toolCalls)) },
    };
  }

  const content =
    last?.role === 'tool'
      ? toolResultsReply(messages)
      : asksForIntegration(messages)
        ? integrationReply(messages)
        : textReply(messages);
  return { content, toolCalls: [], usage: { promptTokens, completionTokens: estimateTokens(content) } };
}

function directiveCalls(messages: Message[], text: string, tools: ToolSchema[]): ToolCall[] {
  const offered = new Set(tools.map((tool) => tool.name));
  const seed = fingerprint(messages);
  const calls: ToolCall[] = [];
  for (const match of text.matchAll(TOOL_DIRECTIVE)) {
    const name = match[1] ?? '';
    if (!offered.has(name)) continue;
    // Deterministic for a given prompt, yet distinct between turns because the prompt differs.
    calls.push({ id: `call_offline_${seed}_${calls.length}`, name, input: parseToolArguments(match[2]) });
  }
  return calls;
}

function textReply(messages: Message[]): string {
  const lastUser = messages.findLast((message) => message.role === 'user');
  const count = `(${messages.length} ${messages.length === 1 ? 'message' : 'messages'} in context)`;
  if (!lastUser) return `Offline model reply ${count}`;
  const text = lastUser.content.replace(/\s+/g, ' ').trim();
  const quoted = text.length > QUOTE_MAX_CHARS ? `${text.slice(0, QUOTE_MAX_CHARS)}…` : text;
  return `Offline model reply to "${quoted}" ${count}`;
}

// The default integration asks for `{"synthesis": …, "insights": […]}` and tags each session
// `[sessionId=…] label: summary`; answering in that shape keeps integration working offline.
const SESSION_LINE = /^- \[sessionId=([^\]\s]+)\] ([^:\n]*):/gm;

function asksForIntegration(messages: Message[]): boolean {
  return messages.some(
    (message) =>
      message.role === 'system' &&
      message.content.includes('"synthesis"') &&
      message.content.includes('"insights"'),
  );
}

function integrationReply(messages: Message[]): string {
  const input = messages.findLast((message) => message.role === 'user')?.content ?? '';
  const sessions = [...input.matchAll(SESSION_LINE)].map((match) => ({
    id: match[1]!,
    label: match[2]!.trim(),
  }));
  const labels = sessions.map((session) => session.label);
  const synthesis =
    sessions.length === 0
      ? 'Offline synthesis: no session has a summary yet.'
      : `Offline synthesis of ${sessions.length} ${sessions.length === 1 ? 'session' : 'sessions'}: ${labels.join('; ')}.`;
  const insights = sessions
    .filter(() => sessions.length > 1)
    .map((session) => ({
      sessionId: session.id,
      content: `Offline insight: related sessions are ${labels.filter((label) => label !== session.label).join('; ')}.`,
    }));
  return JSON.stringify({ synthesis, insights });
}

function toolResultsReply(messages: Message[]): string {
  let start = messages.length;
  while (start > 0 && messages[start - 1]?.role === 'tool') start -= 1;
  const names = new Map<string, string>();
  for (const message of messages.slice(0, start)) {
    for (const call of message.toolCalls ?? []) names.set(call.id, call.name);
  }
  const results = messages
    .slice(start)
    .map((message) => `${names.get(message.toolCallId ?? '') ?? 'tool'} returned ${message.content}`);
  return `Offline model received tool results: ${results.join('; ')}`;
}

/** Splits text into word chunks that concatenate back to it exactly (each keeps its trailing space). */
function splitWords(text: string): string[] {
  return text === '' ? [] : text.split(/(?<=\s)(?=\S)/);
}

function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

// FNV-1a over the conversation: a short, stable, dependency-free id seed.
function fingerprint(messages: Message[]): string {
  let hash = 0x811c9dc5;
  for (const message of messages) {
    const text = `${message.role}\u0000${message.content}\u0000${message.toolCallId ?? ''}\u0001`;
    for (let i = 0; i < text.length; i += 1) {
      hash ^= text.charCodeAt(i);
      hash = Math.imul(hash, 0x01000193) >>> 0;
    }
  }
  return hash.toString(16).padStart(8, '0');
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  throwIfAborted(signal);
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(createAbortError(signal?.reason));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
