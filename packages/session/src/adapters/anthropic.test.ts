import { type FakeLLMServer, startFakeAnthropic } from '@internal/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { accumulateToolCalls, collectChunks } from '../__fixtures__/llm-chunks';
import type { LLMAdapter, ToolSchema } from '../llm/llm';
import type { Message } from '../types';
import { createAnthropicAdapter } from './anthropic';

const SEARCH_TOOL: ToolSchema = {
  name: 'search',
  description: 'Searches the notes',
  inputSchema: { type: 'object', properties: { query: { type: 'string' } }, required: ['query'] },
};

describe('createAnthropicAdapter', () => {
  let fake: FakeLLMServer;
  let adapter: LLMAdapter;

  beforeAll(async () => {
    fake = await startFakeAnthropic();
  });
  afterAll(async () => {
    await fake.close();
  });
  beforeEach(() => {
    fake.requests.length = 0;
    fake.setScript();
    adapter = createAnthropicAdapter({
      apiKey: 'sk-ant-test',
      baseURL: fake.baseURL,
      model: 'claude-opus-4-8',
      maxRetries: 0,
    });
  });

  it('returns content, usage and metadata when the model answers with text', async () => {
    fake.setScript([{ content: 'Bonjour', usage: { promptTokens: 12, completionTokens: 2 } }]);

    const result = await adapter.complete([
      { role: 'system', content: 'Be terse.' },
      { role: 'user', content: 'hello' },
    ]);

    expect(result).toEqual({
      content: 'Bonjour',
      usage: { promptTokens: 12, completionTokens: 2 },
      metadata: { model: 'claude-opus-4-8', stopReason: 'end_turn' },
    });
    const request = fake.requests[0];
    expect(request?.headers.authorization).toBe('Bearer sk-ant-test');
    expect(request?.body).toEqual({
      model: 'claude-opus-4-8',
      max_tokens: 4096,
      system: 'Be terse.',
      messages: [{ role: 'user', content: 'hello' }],
      stream: false,
    });
  });

  it('maps system messages, tool_use and grouped tool_result blocks and tools to the wire format', async () => {
    const messages: Message[] = [
      { role: 'system', content: 'You are a librarian.' },
      { role: 'system', content: 'Summary so far: none.' },
      { role: 'user', content: 'Find cats and dogs' },
      {
        role: 'assistant',
        content: 'Searching.',
        toolCalls: [
          { id: 'toolu_1', name: 'search', input: { query: 'cats' } },
          { id: 'toolu_2', name: 'search', input: { query: 'dogs' } },
        ],
      },
      { role: 'tool', toolCallId: 'toolu_1', content: '3 notes' },
      { role: 'tool', toolCallId: 'toolu_2', content: 'no notes' },
      {
        role: 'assistant',
        content: '',
        toolCalls: [{ id: 'toolu_3', name: 'search', input: { query: 'birds' } }],
      },
      { role: 'tool', toolCallId: 'toolu_3', content: '1 note' },
    ];

    await adapter.complete(messages, { tools: [SEARCH_TOOL], maxTokens: 256, temperature: 0 });

    const body = fake.requests[0]?.body;
    expect(body.system).toBe('You are a librarian.\n\nSummary so far: none.');
    expect(body.max_tokens).toBe(256);
    expect(body.temperature).toBe(0);
    expect(body.messages).toEqual([
      { role: 'user', content: 'Find cats and dogs' },
      {
        role: 'assistant',
        content: [
          { type: 'text', text: 'Searching.' },
          { type: 'tool_use', id: 'toolu_1', name: 'search', input: { query: 'cats' } },
          { type: 'tool_use', id: 'toolu_2', name: 'search', input: { query: 'dogs' } },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'toolu_1', content: '3 notes' },
          { type: 'tool_result', tool_use_id: 'toolu_2', content: 'no notes' },
        ],
      },
      {
        role: 'assistant',
        content: [{ type: 'tool_use', id: 'toolu_3', name: 'search', input: { query: 'birds' } }],
      },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_3', content: '1 note' }] },
    ]);
    expect(body.tools).toEqual([
      { name: 'search', description: 'Searches the notes', input_schema: SEARCH_TOOL.inputSchema },
    ]);
  });

  it('opens with a stand-in user turn when the conversation starts with the assistant', async () => {
    await adapter.complete([
      { role: 'system', content: 'Child session.' },
      { role: 'assistant', content: 'Let us plan the trip.' },
      { role: 'user', content: 'Sure' },
    ]);

    expect(fake.requests[0]?.body.messages).toEqual([
      { role: 'user', content: '(conversation start)' },
      { role: 'assistant', content: 'Let us plan the trip.' },
      { role: 'user', content: 'Sure' },
    ]);
  });

  it('maps tool_use blocks back to tool calls when the model calls tools', async () => {
    fake.setScript([
      { content: 'Let me look.', toolCalls: [{ id: 'toolu_9', name: 'search', input: { query: 'owls' } }] },
    ]);

    const result = await adapter.complete([{ role: 'user', content: 'owls?' }], { tools: [SEARCH_TOOL] });

    expect(result.content).toBe('Let me look.');
    expect(result.toolCalls).toEqual([{ id: 'toolu_9', name: 'search', input: { query: 'owls' } }]);
    expect(result.metadata).toMatchObject({ stopReason: 'tool_use' });
  });

  it('uses the configured default max_tokens when set', async () => {
    const custom = createAnthropicAdapter({
      apiKey: 'k',
      baseURL: fake.baseURL,
      model: 'claude-haiku-4-5',
      maxTokens: 900,
    });

    await custom.complete([{ role: 'user', content: 'hi' }]);

    expect(fake.requests[0]?.body.max_tokens).toBe(900);
    expect(custom.maxContextTokens).toBe(200_000);
    expect(createAnthropicAdapter({ apiKey: 'k', model: 'm', maxContextTokens: 1000 }).maxContextTokens).toBe(
      1000,
    );
  });

  it('streams text deltas with usage on the last chunk when streaming', async () => {
    fake.setScript([{ content: 'alpha beta gamma delta', usage: { promptTokens: 20, completionTokens: 6 } }]);

    const chunks = await collectChunks(adapter.stream!([{ role: 'user', content: 'letters' }]));

    expect(chunks.length).toBeGreaterThan(2);
    expect(chunks.map((chunk) => chunk.delta).join('')).toBe('alpha beta gamma delta');
    expect(chunks.at(-1)).toEqual({ delta: '', usage: { promptTokens: 20, completionTokens: 6 } });
    expect(fake.requests[0]?.body.stream).toBe(true);
  });

  it('streams tool_use ids, names and partial JSON when the model calls tools', async () => {
    fake.setScript([
      {
        content: 'Two searches.',
        toolCalls: [
          { id: 'toolu_a', name: 'search', input: { query: 'red' } },
          { id: 'toolu_b', name: 'search', input: { query: 'blue' } },
        ],
      },
    ]);

    const chunks = await collectChunks(
      adapter.stream!([{ role: 'user', content: 'colours' }], { tools: [SEARCH_TOOL] }),
    );

    expect(chunks.map((chunk) => chunk.delta).join('')).toBe('Two searches.');
    expect(accumulateToolCalls(chunks)).toEqual([
      { id: 'toolu_a', name: 'search', input: '{"query":"red"}' },
      { id: 'toolu_b', name: 'search', input: '{"query":"blue"}' },
    ]);
  });

  it('rejects with LLM_ERROR keeping the cause when the provider fails', async () => {
    fake.setScript([
      {
        status: 400,
        errorBody: { type: 'error', error: { type: 'invalid_request_error', message: 'prompt too long' } },
      },
    ]);

    const error = await adapter.complete([{ role: 'user', content: 'x' }]).catch((e: unknown) => e);

    expect(error).toMatchObject({ code: 'LLM_ERROR', details: { provider: 'anthropic', status: 400 } });
    expect((error as Error).message).toContain('prompt too long');
    expect((error as Error).cause).toBeInstanceOf(Error);
  });

  it('throws LLM_ERROR from stream when the provider is overloaded', async () => {
    fake.setScript([{ status: 529 }]);

    await expect(collectChunks(adapter.stream!([{ role: 'user', content: 'x' }]))).rejects.toMatchObject({
      code: 'LLM_ERROR',
    });
  });

  it('throws an AbortError and closes the connection when aborted mid-stream', async () => {
    const slow = await startFakeAnthropic({ chunkCount: 20, chunkDelayMs: 50 });
    try {
      const streaming = createAnthropicAdapter({
        apiKey: 'k',
        baseURL: slow.baseURL,
        model: 'claude-haiku-4-5',
      });
      const controller = new AbortController();
      let text = '';
      const consume = async () => {
        for await (const chunk of streaming.stream!([{ role: 'user', content: 'tell me a long story' }], {
          signal: controller.signal,
        })) {
          text += chunk.delta;
          if (text !== '') controller.abort();
        }
      };

      await expect(consume()).rejects.toMatchObject({ name: 'AbortError', code: 'ABORTED' });
      expect(await slow.waitForOutcome(0)).toBe('aborted');
      expect(text.length).toBeLessThan('Echo: tell me a long story'.length);
    } finally {
      await slow.close();
    }
  });

  it('rejects complete with an AbortError when the signal aborts before the answer', async () => {
    const slow = await startFakeAnthropic({ firstTokenLatencyMs: 5_000 });
    try {
      const waiting = createAnthropicAdapter({
        apiKey: 'k',
        baseURL: slow.baseURL,
        model: 'claude-haiku-4-5',
      });
      const controller = new AbortController();
      const pending = waiting.complete([{ role: 'user', content: 'x' }], { signal: controller.signal });
      setTimeout(() => controller.abort(), 50);

      await expect(pending).rejects.toMatchObject({ name: 'AbortError', code: 'ABORTED' });
      expect(await slow.waitForOutcome(0)).toBe('aborted');
    } finally {
      await slow.close();
    }
  });
});
