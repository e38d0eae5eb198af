import { openAIEncodingFor, tiktokenCounter } from '@stello-ai/session';
import {
  type ProviderProtocol,
  type ResolvedReply,
  type SseEvent,
  splitArguments,
  startFakeServer,
} from './_fake-server';
import type { FakeLLMServer, FakeLLMServerOptions, FakeRequest } from './types';

const MESSAGE_ROLES = new Set(['system', 'developer', 'user', 'assistant', 'tool']);
const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

type Body = FakeRequest['body'];
type Invalid = ReturnType<ProviderProtocol['validate']>;

const invalid = (message: string): Invalid => ({ status: 400, type: 'invalid_request_error', message });

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((part: { type?: string; text?: string }) => (part.type === 'text' ? (part.text ?? '') : ''))
    .join('');
}

// The checks the real API applies to a chat request, with its error messages.
function validate(request: FakeRequest): Invalid {
  const body: Body = request.body;
  if (body === null || typeof body !== 'object') return invalid('request body must be a JSON object');
  if (typeof body.model !== 'string' || body.model === '')
    return invalid('you must provide a model parameter');
  if (!Array.isArray(body.messages) || body.messages.length === 0) {
    return invalid("Invalid 'messages': empty array. Expected an array with minimum length 1.");
  }
  if (body.max_tokens != null && (!Number.isInteger(body.max_tokens) || body.max_tokens < 1)) {
    return invalid("Invalid 'max_tokens': integer below minimum value. Expected a value >= 1.");
  }
  for (const [i, tool] of (body.tools ?? []).entries()) {
    if (tool?.type !== 'function' || !TOOL_NAME.test(tool.function?.name ?? '')) {
      return invalid(
        `Invalid 'tools[${i}]': expected a function tool with a name matching ^[a-zA-Z0-9_-]{1,64}$.`,
      );
    }
  }
  let pending: string[] = [];
  for (const [i, message] of body.messages.entries()) {
    if (!MESSAGE_ROLES.has(message?.role)) return invalid(`Invalid value for 'messages[${i}].role'.`);
    if (message.role === 'tool') {
      if (!pending.includes(message.tool_call_id)) {
        return invalid(
          `Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.`,
        );
      }
      pending = pending.filter((id) => id !== message.tool_call_id);
      continue;
    }
    if (pending.length > 0) {
      return invalid(
        `An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: ${pending.join(', ')}`,
      );
    }
    if (message.role === 'assistant' && Array.isArray(message.tool_calls)) {
      for (const call of message.tool_calls) {
        if (typeof call?.id !== 'string' || typeof call.function?.arguments !== 'string') {
          return invalid(`Invalid 'messages[${i}].tool_calls': each call needs an id and string arguments.`);
        }
      }
      pending = message.tool_calls.map((call: { id: string }) => call.id);
    }
  }
  if (pending.length > 0) {
    return invalid(
      `An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: ${pending.join(', ')}`,
    );
  }
  return null;
}

function usageOf(reply: ResolvedReply) {
  const { promptTokens, completionTokens } = reply.usage;
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
  };
}

const finishReason = (reply: ResolvedReply) => (reply.toolCalls.length > 0 ? 'tool_calls' : 'stop');

const OPENAI_PROTOCOL: ProviderProtocol = {
  path: '/v1/chat/completions',
  baseURLSuffix: '/v1',
  toolIdPrefix: 'call_fake_',
  lastUserText(body) {
    const messages: { role?: string; content?: unknown }[] = Array.isArray(body?.messages)
      ? body.messages
      : [];
    return textOf(messages.findLast((message) => message.role === 'user')?.content);
  },
  validate,
  errorBody(_status, type, message) {
    return { error: { message, type, param: null, code: null } };
  },
  promptTexts(body) {
    const messages: { content?: unknown; tool_calls?: unknown }[] = Array.isArray(body?.messages)
      ? body.messages
      : [];
    const tools = Array.isArray(body?.tools) && body.tools.length > 0 ? [JSON.stringify(body.tools)] : [];
    return [
      ...tools,
      ...messages.map(
        (message) => textOf(message.content) + (message.tool_calls ? JSON.stringify(message.tool_calls) : ''),
      ),
    ];
  },
  defaultCounter(body) {
    // Models that are not OpenAI's are counted with cl100k_base, a stand-in for their own tokenizers.
    return tiktokenCounter(
      openAIEncodingFor(typeof body?.model === 'string' ? body.model : '') ?? 'cl100k_base',
    );
  },
  overflowBody(tokens, max) {
    return {
      error: {
        message: `This model's maximum context length is ${max} tokens. However, your messages resulted in ${tokens} tokens. Please reduce the length of the messages.`,
        type: 'invalid_request_error',
        param: 'messages',
        code: 'context_length_exceeded',
      },
    };
  },
  isStream(body) {
    return body?.stream === true;
  },
  json(reply, body) {
    return {
      id: `chatcmpl-fake-${Date.now()}`,
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: body.model,
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: reply.content,
            refusal: null,
            ...(reply.toolCalls.length > 0 && {
              tool_calls: reply.toolCalls.map((call) => ({
                id: call.id,
                type: 'function',
                function: { name: call.name, arguments: call.argumentsText },
              })),
            }),
          },
          logprobs: null,
          finish_reason: finishReason(reply),
        },
      ],
      usage: usageOf(reply),
      system_fingerprint: 'fp_fake',
    };
  },
  events(reply, body, textChunks) {
    const includeUsage = body.stream_options?.include_usage === true;
    const base = {
      id: `chatcmpl-fake-${Date.now()}`,
      object: 'chat.completion.chunk',
      created: Math.floor(Date.now() / 1000),
      model: body.model,
      system_fingerprint: 'fp_fake',
      // With include_usage every chunk carries `usage: null` except the last one.
      ...(includeUsage && { usage: null }),
    };
    const chunk = (delta: Record<string, unknown>, finish: string | null = null) => ({
      ...base,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
    });
    const events: SseEvent[] = [{ data: chunk({ role: 'assistant', content: '', refusal: null }) }];
    for (const text of textChunks) events.push({ data: chunk({ content: text }), delayed: true });
    for (const [index, call] of reply.toolCalls.entries()) {
      events.push({
        data: chunk({
          tool_calls: [
            { index, id: call.id, type: 'function', function: { name: call.name, arguments: '' } },
          ],
        }),
        delayed: true,
      });
      for (const fragment of splitArguments(call.argumentsText)) {
        events.push({
          data: chunk({ tool_calls: [{ index, function: { arguments: fragment } }] }),
          delayed: true,
        });
      }
    }
    events.push({ data: chunk({}, finishReason(reply)) });
    if (includeUsage) events.push({ data: { ...base, choices: [], usage: usageOf(reply) } });
    events.push({ data: '[DONE]' });
    return events;
  },
};

/**
 * Starts a fake OpenAI chat-completions server (`POST /v1/chat/completions`, JSON and SSE) on
 * 127.0.0.1 with a random port. Pass `baseURL` to the `openai` SDK.
 */
export function startFakeOpenAI(options?: FakeLLMServerOptions): Promise<FakeLLMServer> {
  return startFakeServer(OPENAI_PROTOCOL, options);
}
