import type {
  Message as AnthropicMessage,
  ContentBlockParam,
  MessageCreateParamsBase,
  MessageParam,
  Tool,
} from '@anthropic-ai/sdk/resources/messages';
import type { LLMAdapter, LLMCompleteOptions, LLMResult, ToolSchema } from '../llm/llm';
import { parseToolArguments } from '../llm/parse-tool-arguments';
import { estimateTokenCounter } from '../tokens/token-counter';
import type { Message, ToolCall } from '../types';
import { lazySdk, sdkClientOptions, sdkRequest, sdkStream } from './_sdk';

/** Generated-token cap when neither the adapter nor the call sets one. */
export const DEFAULT_ANTHROPIC_MAX_TOKENS = 4096;
/** Context window of current Claude models. */
export const DEFAULT_ANTHROPIC_MAX_CONTEXT_TOKENS = 200_000;

const PROVIDER = 'anthropic';
/** Stand-in first user turn when the conversation opens with the assistant. */
const OPENING_USER_TEXT = '(conversation start)';

/** Options of {@link createAnthropicAdapter}. */
export interface AnthropicAdapterOptions {
  apiKey: string;
  /** Base URL of the API (proxies, tests); defaults to `https://api.anthropic.com` (or `ANTHROPIC_BASE_URL`). */
  baseURL?: string;
  model: string;
  /** Context window budgeted by the session; 200000 when unset. */
  maxContextTokens?: number;
  /** Default `max_tokens` of every call (a call's own `maxTokens` wins); 4096 when unset. */
  maxTokens?: number;
  /** Custom fetch implementation (proxies, tests). */
  fetch?: typeof globalThis.fetch;
  /** Per-request timeout in milliseconds (the SDK default is 10 minutes). */
  timeoutMs?: number;
  /** Retries of connection errors, 408/409/429 and 5xx responses (the SDK default is 2). */
  maxRetries?: number;
}

/**
 * Creates an adapter for Claude on the official `@anthropic-ai/sdk` messages API, with tool_use /
 * tool_result blocks, streaming (tool ids and names included) and usage.
 */
export function createAnthropicAdapter(options: AnthropicAdapterOptions): LLMAdapter {
  const sdk = lazySdk(async () => {
    const { default: AnthropicClient, APIUserAbortError } = await import('@anthropic-ai/sdk');
    return {
      client: new AnthropicClient({ apiKey: options.apiKey, ...sdkClientOptions(options) }),
      isAbort: (error: unknown) => error instanceof APIUserAbortError,
    };
  });
  const model = options.model;
  const defaultMaxTokens = options.maxTokens ?? DEFAULT_ANTHROPIC_MAX_TOKENS;

  function buildParams(
    messages: Message[],
    callOptions: LLMCompleteOptions | undefined,
  ): MessageCreateParamsBase {
    const tools = callOptions?.tools ?? [];
    const system = messages
      .filter((message) => message.role === 'system')
      .map((message) => message.content)
      .join('\n\n');
    return {
      model,
      max_tokens: callOptions?.maxTokens ?? defaultMaxTokens,
      ...(system !== '' && { system }),
      messages: toAnthropicMessages(messages),
      ...(callOptions?.temperature !== undefined && { temperature: callOptions.temperature }),
      ...(tools.length > 0 && { tools: tools.map(toAnthropicTool) }),
    };
  }

  return {
    model,
    provider: PROVIDER,
    maxContextTokens: options.maxContextTokens ?? DEFAULT_ANTHROPIC_MAX_CONTEXT_TOKENS,
    maxOutputTokens: defaultMaxTokens,
    // Claude's tokenizer is not published: the script-aware estimate stands in for it.
    tokenCounter: estimateTokenCounter,

    async complete(messages, callOptions) {
      const signal = callOptions?.signal;
      const response = await sdkRequest(sdk, PROVIDER, signal, (client) =>
        client.messages.create({ ...buildParams(messages, callOptions), stream: false }, { signal }),
      );
      return fromAnthropicMessage(response);
    },

    stream(messages, callOptions) {
      const signal = callOptions?.signal;
      return sdkStream(sdk, PROVIDER, signal, async function* (client) {
        const stream = await client.messages.create(
          { ...buildParams(messages, callOptions), stream: true },
          { signal },
        );
        let promptTokens: number | null = null;
        let completionTokens: number | null = null;
        // Content-block index → position among the tool calls, which is the index of ToolCallDelta.
        const toolOrdinals = new Map<number, number>();
        for await (const event of stream) {
          switch (event.type) {
            case 'message_start':
              promptTokens = event.message.usage.input_tokens;
              completionTokens = event.message.usage.output_tokens;
              break;
            case 'message_delta':
              // message_delta usage is cumulative; input_tokens is only present on newer API versions.
              if (event.usage.input_tokens != null) promptTokens = event.usage.input_tokens;
              completionTokens = event.usage.output_tokens;
              break;
            case 'content_block_start':
              if (event.content_block.type === 'tool_use') {
                const index = toolOrdinals.size;
                toolOrdinals.set(event.index, index);
                const { id, name } = event.content_block;
                yield { delta: '', toolCallDeltas: [{ index, id, name }] };
              } else if (event.content_block.type === 'text' && event.content_block.text !== '') {
                yield { delta: event.content_block.text };
              }
              break;
            case 'content_block_delta':
              if (event.delta.type === 'text_delta') {
                if (event.delta.text !== '') yield { delta: event.delta.text };
              } else if (event.delta.type === 'input_json_delta') {
                const index = toolOrdinals.get(event.index);
                if (index !== undefined && event.delta.partial_json !== '') {
                  yield { delta: '', toolCallDeltas: [{ index, input: event.delta.partial_json }] };
                }
              }
              break;
            default:
              break;
          }
        }
        return promptTokens !== null && completionTokens !== null
          ? { delta: '', usage: { promptTokens, completionTokens } }
          : undefined;
      });
    },
  };
}

/**
 * Maps session messages to Anthropic turns. System messages go to `system` (see buildParams),
 * assistant tool calls become tool_use blocks, and tool messages become tool_result blocks of a
 * user turn; adjacent turns of one role are merged so roles alternate as the API expects.
 */
function toAnthropicMessages(messages: Message[]): MessageParam[] {
  const out: { role: 'user' | 'assistant'; content: ContentBlockParam[] }[] = [];
  const push = (role: 'user' | 'assistant', blocks: ContentBlockParam[]) => {
    if (blocks.length === 0) return;
    const previous = out.at(-1);
    if (previous?.role === role) previous.content.push(...blocks);
    else out.push({ role, content: blocks });
  };
  for (const message of messages) {
    switch (message.role) {
      case 'system':
        break;
      case 'user':
        // The API rejects empty text blocks; an empty user message carries nothing anyway.
        push('user', message.content === '' ? [] : [{ type: 'text', text: message.content }]);
        break;
      case 'assistant': {
        // Likewise a tool-only assistant turn carries no text block.
        const blocks: ContentBlockParam[] =
          message.content === '' ? [] : [{ type: 'text', text: message.content }];
        for (const call of message.toolCalls ?? []) {
          blocks.push({ type: 'tool_use', id: call.id, name: call.name, input: call.input });
        }
        push('assistant', blocks);
        break;
      }
      case 'tool':
        push('user', [
          { type: 'tool_result', tool_use_id: message.toolCallId ?? '', content: message.content },
        ]);
        break;
    }
  }
  // The API requires the first turn to be the user's; a fork's opening assistant prompt would break that.
  if (out[0]?.role === 'assistant')
    out.unshift({ role: 'user', content: [{ type: 'text', text: OPENING_USER_TEXT }] });
  // A turn made of a single text block is sent in the plain string form.
  return out.map(({ role, content }) => {
    const [only] = content;
    return content.length === 1 && only?.type === 'text' ? { role, content: only.text } : { role, content };
  });
}

function toAnthropicTool(tool: ToolSchema): Tool {
  return {
    name: tool.name,
    description: tool.description,
    input_schema: { type: 'object', ...tool.inputSchema } as Tool.InputSchema,
  };
}

function fromAnthropicMessage(response: AnthropicMessage): LLMResult {
  let text: string | null = null;
  const toolCalls: ToolCall[] = [];
  for (const block of response.content) {
    if (block.type === 'text') text = (text ?? '') + block.text;
    else if (block.type === 'tool_use') {
      const input = block.input;
      toolCalls.push({
        id: block.id,
        name: block.name,
        input:
          input !== null && typeof input === 'object' && !Array.isArray(input)
            ? (input as Record<string, unknown>)
            : parseToolArguments(typeof input === 'string' ? input : undefined),
      });
    }
  }
  return {
    content: text,
    ...(toolCalls.length > 0 && { toolCalls }),
    usage: { promptTokens: response.usage.input_tokens, completionTokens: response.usage.output_tokens },
    metadata: { model: response.model, stopReason: response.stop_reason },
  };
}
