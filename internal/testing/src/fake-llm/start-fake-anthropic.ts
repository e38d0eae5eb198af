import { tiktokenCounter } from '@stello-ai/session';
import {
  type ProviderProtocol,
  type ResolvedReply,
  type SseEvent,
  splitArguments,
  startFakeServer,
} from './_fake-server';
import type { FakeLLMServer, FakeLLMServerOptions, FakeRequest } from './types';

type Body = FakeRequest['body'];
type Invalid = ReturnType<ProviderProtocol['validate']>;
type Block = { type?: string; text?: string; id?: string; tool_use_id?: string };

const invalid = (message: string): Invalid => ({ status: 400, type: 'invalid_request_error', message });

function blocksOf(content: unknown): Block[] {
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  return Array.isArray(content) ? content : [];
}

// The checks the real API applies to a messages request, with its error messages.
function validate(request: FakeRequest): Invalid {
  if (!request.headers['x-api-key'] && !request.headers.authorization) {
    return { status: 401, type: 'authentication_error', message: 'x-api-key header is required' };
  }
  if (!request.headers['anthropic-version']) return invalid('anthropic-version: header is required');
  const body: Body = request.body;
  if (body === null || typeof body !== 'object') return invalid('request body must be a JSON object');
  if (typeof body.model !== 'string' || body.model === '') return invalid('model: Field required');
  if (!Number.isInteger(body.max_tokens) || body.max_tokens < 1) return invalid('max_tokens: Field required');
  if (!Array.isArray(body.messages) || body.messages.length === 0) return invalid('messages: Field required');
  if (body.system !== undefined && typeof body.system !== 'string' && !Array.isArray(body.system)) {
    return invalid('system: Input should be a valid string or a list of text blocks');
  }
  for (const [i, tool] of (body.tools ?? []).entries()) {
    if (typeof tool?.name !== 'string' || tool.input_schema?.type !== 'object') {
      return invalid(`tools.${i}.input_schema.type: Input should be 'object'`);
    }
  }
  if (body.messages[0]?.role !== 'user') return invalid('messages: first message must use the "user" role');
  let pendingToolUses: string[] = [];
  for (const [i, message] of body.messages.entries()) {
    if (message?.role !== 'user' && message?.role !== 'assistant') {
      return invalid(`messages.${i}.role: Input should be 'user' or 'assistant'`);
    }
    const blocks = blocksOf(message.content);
    if (blocks.length === 0) return invalid(`messages.${i}: all messages must have non-empty content`);
    for (const [j, block] of blocks.entries()) {
      if (block.type === 'text' && (block.text ?? '') === '') {
        return invalid(`messages.${i}.content.${j}: text content blocks must be non-empty`);
      }
    }
    const results = blocks
      .filter((block) => block.type === 'tool_result')
      .map((block) => block.tool_use_id ?? '');
    const unexpected = results.filter((id) => !pendingToolUses.includes(id));
    if (message.role === 'assistant' && results.length > 0) {
      return invalid(`messages.${i}: tool_result blocks are only allowed in user messages`);
    }
    if (unexpected.length > 0) {
      return invalid(
        `messages.${i}.content: unexpected \`tool_use_id\` found in \`tool_result\` blocks: ${unexpected.join(', ')}. Each \`tool_result\` block must have a corresponding \`tool_use\` block in the previous message.`,
      );
    }
    const missing = pendingToolUses.filter((id) => !results.includes(id));
    if (missing.length > 0) {
      return invalid(
        `messages.${i - 1}: \`tool_use\` ids were found without \`tool_result\` blocks immediately after: ${missing.join(', ')}. Each \`tool_use\` block must have a corresponding \`tool_result\` block in the next message.`,
      );
    }
    pendingToolUses =
      message.role === 'assistant'
        ? blocks.filter((block) => block.type === 'tool_use').map((block) => block.id ?? '')
        : [];
  }
  if (pendingToolUses.length > 0) {
    return invalid(
      `messages.${body.messages.length - 1}: \`tool_use\` ids were found without \`tool_result\` blocks immediately after: ${pendingToolUses.join(', ')}. Each \`tool_use\` block must have a corresponding \`tool_result\` block in the next message.`,
    );
  }
  return null;
}

const stopReason = (reply: ResolvedReply) => (reply.toolCalls.length > 0 ? 'tool_use' : 'end_turn');

function parsedInput(call: ResolvedReply['toolCalls'][number]): unknown {
  if (typeof call.input !== 'string') return call.input;
  try {
    return JSON.parse(call.input);
  } catch {
    return call.input;
  }
}

function usageOf(inputTokens: number, outputTokens: number) {
  return {
    input_tokens: inputTokens,
    output_tokens: outputTokens,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: 0,
    service_tier: 'standard',
  };
}

const ANTHROPIC_PROTOCOL: ProviderProtocol = {
  path: '/v1/messages',
  baseURLSuffix: '',
  toolIdPrefix: 'toolu_fake_',
  lastUserText(body) {
    const messages: { role?: string; content?: unknown }[] = Array.isArray(body?.messages)
      ? body.messages
      : [];
    for (const message of messages.toReversed()) {
      if (message.role !== 'user') continue;
      const text = blocksOf(message.content)
        .filter((block) => block.type === 'text')
        .map((block) => block.text ?? '')
        .join('');
      if (text !== '') return text;
    }
    return '';
  },
  validate,
  errorBody(_status, type, message) {
    return { type: 'error', error: { type, message } };
  },
  promptTexts(body) {
    const system =
      typeof body?.system === 'string' ? [body.system] : blocksOf(body?.system).map((b) => b.text ?? '');
    const messages: { content?: unknown }[] = Array.isArray(body?.messages) ? body.messages : [];
    const tools = Array.isArray(body?.tools) && body.tools.length > 0 ? [JSON.stringify(body.tools)] : [];
    return [
      ...system,
      ...tools,
      ...messages.map((message) =>
        blocksOf(message.content)
          .map((block) => (block.type === 'text' ? (block.text ?? '') : JSON.stringify(block)))
          .join(''),
      ),
    ];
  },
  // Claude's tokenizer is not published; cl100k_base stands in for it.
  defaultCounter() {
    return tiktokenCounter('cl100k_base');
  },
  overflowBody(tokens, max) {
    return {
      type: 'error',
      error: {
        type: 'invalid_request_error',
        message: `prompt is too long: ${tokens} tokens > ${max} maximum`,
      },
    };
  },
  isStream(body) {
    return body?.stream === true;
  },
  json(reply, body) {
    return {
      id: `msg_fake_${Date.now()}`,
      type: 'message',
      role: 'assistant',
      model: body.model,
      content: [
        ...(reply.content ? [{ type: 'text', text: reply.content }] : []),
        ...reply.toolCalls.map((call) => ({
          type: 'tool_use',
          id: call.id,
          name: call.name,
          input: parsedInput(call),
        })),
      ],
      stop_reason: stopReason(reply),
      stop_sequence: null,
      usage: usageOf(reply.usage.promptTokens, reply.usage.completionTokens),
    };
  },
  events(reply, body, textChunks) {
    const events: SseEvent[] = [
      {
        event: 'message_start',
        data: {
          type: 'message_start',
          message: {
            id: `msg_fake_${Date.now()}`,
            type: 'message',
            role: 'assistant',
            model: body.model,
            content: [],
            stop_reason: null,
            stop_sequence: null,
            usage: usageOf(reply.usage.promptTokens, 1),
          },
        },
      },
      { event: 'ping', data: { type: 'ping' } },
    ];
    let index = 0;
    if (textChunks.length > 0) {
      events.push({
        event: 'content_block_start',
        data: { type: 'content_block_start', index, content_block: { type: 'text', text: '' } },
      });
      for (const text of textChunks) {
        events.push({
          event: 'content_block_delta',
          data: { type: 'content_block_delta', index, delta: { type: 'text_delta', text } },
          delayed: true,
        });
      }
      events.push({ event: 'content_block_stop', data: { type: 'content_block_stop', index } });
      index += 1;
    }
    for (const call of reply.toolCalls) {
      events.push({
        event: 'content_block_start',
        data: {
          type: 'content_block_start',
          index,
          content_block: { type: 'tool_use', id: call.id, name: call.name, input: {} },
        },
        delayed: true,
      });
      for (const fragment of splitArguments(call.argumentsText)) {
        events.push({
          event: 'content_block_delta',
          data: {
            type: 'content_block_delta',
            index,
            delta: { type: 'input_json_delta', partial_json: fragment },
          },
          delayed: true,
        });
      }
      events.push({ event: 'content_block_stop', data: { type: 'content_block_stop', index } });
      index += 1;
    }
    events.push({
      event: 'message_delta',
      data: {
        type: 'message_delta',
        delta: { stop_reason: stopReason(reply), stop_sequence: null },
        usage: { output_tokens: reply.usage.completionTokens },
      },
    });
    events.push({ event: 'message_stop', data: { type: 'message_stop' } });
    return events;
  },
};

/**
 * Starts a fake Anthropic messages server (`POST /v1/messages`, JSON and SSE with `event:` lines)
 * on 127.0.0.1 with a random port. Pass `baseURL` to `@anthropic-ai/sdk`.
 */
export function startFakeAnthropic(options?: FakeLLMServerOptions): Promise<FakeLLMServer> {
  return startFakeServer(ANTHROPIC_PROTOCOL, options);
}
