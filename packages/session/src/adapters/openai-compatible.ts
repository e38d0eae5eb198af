import type OpenAI from 'openai';
import type {
  ChatCompletionChunk,
  ChatCompletionCreateParamsBase,
  ChatCompletionMessageParam,
  ChatCompletionTool,
} from 'openai/resources/chat/completions';
import type { CompletionUsage } from 'openai/resources/completions';
import type {
  LLMAdapter,
  LLMChunk,
  LLMCompleteOptions,
  LLMResult,
  ToolCallDelta,
  ToolSchema,
} from '../llm/llm';
import { parseToolArguments } from '../llm/parse-tool-arguments';
import { openAIEncodingFor, tiktokenCounter } from '../tokens/tiktoken-counter';
import { estimateTokenCounter, type TokenCounter } from '../tokens/token-counter';
import type { Message, TokenUsage, ToolCall } from '../types';
import { lazySdk, sdkClientOptions, sdkRequest, sdkStream } from './_sdk';

/** Generated-token cap when neither the adapter nor the call sets one. */
export const DEFAULT_OPENAI_MAX_TOKENS = 4096;
/** Context window assumed for models the table below does not know. */
export const DEFAULT_OPENAI_MAX_CONTEXT_TOKENS = 32_768;

// Context windows of well-known models, matched by longest name prefix (dated snapshots included).
const KNOWN_CONTEXT_TOKENS: ReadonlyArray<readonly [prefix: string, tokens: number]> = [
  ['gpt-5', 400_000],
  ['gpt-4.1', 1_047_576],
  ['gpt-4.5', 128_000],
  ['gpt-4o', 128_000],
  ['gpt-4-turbo', 128_000],
  ['gpt-4', 8_192],
  ['gpt-3.5-turbo', 16_385],
  ['o1-mini', 128_000],
  ['o1', 200_000],
  ['o3', 200_000],
  ['o4-mini', 200_000],
  ['deepseek-chat', 65_536],
  ['deepseek-reasoner', 65_536],
  ['qwen2.5', 32_768],
  ['llama3.1', 131_072],
  ['llama3.2', 131_072],
  ['llama3.3', 131_072],
];

const PROVIDER = 'openai-compatible';

/** Options of {@link createOpenAICompatibleAdapter}. */
export interface OpenAICompatibleAdapterOptions {
  /** API key; defaults to `OPENAI_API_KEY`, else a placeholder so keyless local servers work. */
  apiKey?: string;
  /** Base URL of the endpoint, e.g. `http://127.0.0.1:11434/v1`; defaults to OpenAI (or `OPENAI_BASE_URL`). */
  baseURL?: string;
  model: string;
  /** Context window budgeted by the session; defaults from a table of known models, else 32768. */
  maxContextTokens?: number;
  /** Default `max_tokens` of every call (a call's own `maxTokens` wins); 4096 when unset. */
  maxTokens?: number;
  /**
   * Token counter of the model; defaults to js-tiktoken for OpenAI's models (o200k_base for GPT-4o
   * and later, cl100k_base for GPT-4 and 3.5) and to the script-aware estimate for the others.
   */
  tokenCounter?: TokenCounter;
  /** Extra request-body fields for provider specifics (`reasoning_effort`, Ollama `options`…). */
  extraBody?: Record<string, unknown>;
  /** Custom fetch implementation (proxies, tests). */
  fetch?: typeof globalThis.fetch;
  /** Per-request timeout in milliseconds (the SDK default is 10 minutes). */
  timeoutMs?: number;
  /** Retries of connection errors, 408/409/429 and 5xx responses (the SDK default is 2). */
  maxRetries?: number;
}

/** js-tiktoken for OpenAI's models, the script-aware estimate for the others. */
function counterFor(model: string): TokenCounter {
  const encoding = openAIEncodingFor(model);
  return encoding === null ? estimateTokenCounter : tiktokenCounter(encoding);
}

/** Returns the known context window of `model`, or 32768. Provider prefixes (`openai/gpt-4o`) are ignored. */
export function defaultOpenAIContextTokens(model: string): number {
  const name = (model.split('/').pop() ?? model).toLowerCase();
  let best: readonly [string, number] | undefined;
  for (const entry of KNOWN_CONTEXT_TOKENS) {
    if (name.startsWith(entry[0]) && (best === undefined || entry[0].length > best[0].length)) best = entry;
  }
  return best?.[1] ?? DEFAULT_OPENAI_MAX_CONTEXT_TOKENS;
}

/**
 * Creates an adapter for any OpenAI-compatible chat-completions endpoint (OpenAI, DeepSeek, Ollama,
 * vLLM, llama.cpp server…) on the official `openai` SDK, with tool calls, streaming and usage.
 */
export function createOpenAICompatibleAdapter(options: OpenAICompatibleAdapterOptions): LLMAdapter {
  const sdk = lazySdk(async () => {
    const { default: OpenAIClient, APIUserAbortError } = await import('openai');
    return {
      client: new OpenAIClient({
        // Local servers need no key, but the SDK refuses to start without one.
        apiKey: options.apiKey ?? process.env.OPENAI_API_KEY ?? 'not-needed',
        ...sdkClientOptions(options),
      }),
      isAbort: (error: unknown) => error instanceof APIUserAbortError,
    };
  });
  const model = options.model;
  const defaultMaxTokens = options.maxTokens ?? DEFAULT_OPENAI_MAX_TOKENS;

  function buildParams(
    messages: Message[],
    callOptions: LLMCompleteOptions | undefined,
  ): ChatCompletionCreateParamsBase {
    const tools = callOptions?.tools ?? [];
    return {
      max_tokens: callOptions?.maxTokens ?? defaultMaxTokens,
      ...(callOptions?.temperature !== undefined && { temperature: callOptions.temperature }),
      // extraBody may replace the generic parameters above (e.g. max_completion_tokens), not the prompt.
      ...options.extraBody,
      model,
      messages: toOpenAIMessages(messages),
      ...(tools.length > 0 && { tools: tools.map(toOpenAITool) }),
    };
  }

  return {
    model,
    provider: PROVIDER,
    maxContextTokens: options.maxContextTokens ?? defaultOpenAIContextTokens(model),
    maxOutputTokens: defaultMaxTokens,
    tokenCounter: options.tokenCounter ?? counterFor(model),

    async complete(messages, callOptions) {
      const signal = callOptions?.signal;
      const completion = await sdkRequest(sdk, PROVIDER, signal, (client) =>
        client.chat.completions.create({ ...buildParams(messages, callOptions), stream: false }, { signal }),
      );
      return fromOpenAICompletion(completion);
    },

    stream(messages, callOptions) {
      const signal = callOptions?.signal;
      return sdkStream(sdk, PROVIDER, signal, async function* (client) {
        const stream = await client.chat.completions.create(
          { ...buildParams(messages, callOptions), stream: true, stream_options: { include_usage: true } },
          { signal },
        );
        let usage: TokenUsage | undefined;
        for await (const chunk of stream) {
          if (chunk.usage) usage = toTokenUsage(chunk.usage);
          const mapped = fromOpenAIChunk(chunk);
          if (mapped) yield mapped;
        }
        // Usage arrives in its own trailing chunk (empty choices); it is re-emitted last whatever its position.
        return usage ? { delta: '', usage } : undefined;
      });
    },
  };
}

/** Maps session messages to chat-completions messages; consecutive system messages become one. */
function toOpenAIMessages(messages: Message[]): ChatCompletionMessageParam[] {
  const out: ChatCompletionMessageParam[] = [];
  for (const message of messages) {
    const previous = out.at(-1);
    switch (message.role) {
      case 'system':
        if (previous?.role === 'system')
          previous.content = `${previous.content as string}\n\n${message.content}`;
        else out.push({ role: 'system', content: message.content });
        break;
      case 'user':
        out.push({ role: 'user', content: message.content });
        break;
      case 'assistant': {
        const toolCalls = message.toolCalls ?? [];
        if (toolCalls.length === 0) {
          out.push({ role: 'assistant', content: message.content });
          break;
        }
        out.push({
          role: 'assistant',
          // Some servers reject an empty string next to tool_calls; null is the documented "no text".
          content: message.content === '' ? null : message.content,
          tool_calls: toolCalls.map((call) => ({
            id: call.id,
            type: 'function' as const,
            function: { name: call.name, arguments: JSON.stringify(call.input) },
          })),
        });
        break;
      }
      case 'tool':
        out.push({ role: 'tool', tool_call_id: message.toolCallId ?? '', content: message.content });
        break;
    }
  }
  return out;
}

function toOpenAITool(tool: ToolSchema): ChatCompletionTool {
  return {
    type: 'function',
    function: { name: tool.name, description: tool.description, parameters: tool.inputSchema },
  };
}

function toTokenUsage(usage: CompletionUsage): TokenUsage {
  return { promptTokens: usage.prompt_tokens, completionTokens: usage.completion_tokens };
}

function fromOpenAICompletion(completion: OpenAI.Chat.Completions.ChatCompletion): LLMResult {
  const choice = completion.choices[0];
  const toolCalls: ToolCall[] = [];
  for (const call of choice?.message.tool_calls ?? []) {
    if (call.type !== 'function') continue;
    toolCalls.push({
      id: call.id,
      name: call.function.name,
      input: parseToolArguments(call.function.arguments),
    });
  }
  return {
    content: choice?.message.content ?? null,
    ...(toolCalls.length > 0 && { toolCalls }),
    ...(completion.usage && { usage: toTokenUsage(completion.usage) }),
    metadata: { model: completion.model, finishReason: choice?.finish_reason ?? null },
  };
}

function fromOpenAIChunk(chunk: ChatCompletionChunk): LLMChunk | null {
  const delta = chunk.choices[0]?.delta;
  if (!delta) return null;
  const toolCallDeltas: ToolCallDelta[] = [];
  for (const call of delta.tool_calls ?? []) {
    toolCallDeltas.push({
      index: call.index,
      ...(call.id && { id: call.id }),
      ...(call.function?.name && { name: call.function.name }),
      ...(call.function?.arguments && { input: call.function.arguments }),
    });
  }
  const text = delta.content ?? '';
  if (text === '' && toolCallDeltas.length === 0) return null;
  return toolCallDeltas.length > 0 ? { delta: text, toolCallDeltas } : { delta: text };
}
