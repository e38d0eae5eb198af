import { type FakeLLMServer, startFakeOpenAI } from '@internal/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { accumulateToolCalls, collectChunks } from '../__fixtures__/llm-chunks';
import type { LLMAdapter, ToolSchema } from '../llm/llm';
import type { Message } from '../types';
import { createOpenAICompatibleAdapter, defaultOpenAIContextTokens } from './openai-compatible';

const WEATHER_TOOL: ToolSchema = {
  name: 'get_weather',
  description: 'Current weather of a city',
  inputSchema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};

describe('createOpenAICompatibleAdapter', () => {
  let fake: FakeLLMServer;
  let adapter: LLMAdapter;

  beforeAll(async () => {
    fake = await startFakeOpenAI();
  });
  afterAll(async () => {
    await fake.close();
  });
  beforeEach(() => {
    fake.requests.length = 0;
    fake.setScript();
    adapter = createOpenAICompatibleAdapter({
      apiKey: 'test-key',
      baseURL: fake.baseURL,
      model: 'gpt-4o',
      maxRetries: 0,
    });
  });

  it('returns content, usage and metadata when the provider answers with text', async () => {
    fake.setScript([{ content: 'Hello there', usage: { promptTokens: 11, completionTokens: 3 } }]);

    const result = await adapter.complete([{ role: 'user', content: 'hi' }]);

    expect(result).toEqual({
      content: 'Hello there',
      usage: { promptTokens: 11, completionTokens: 3 },
      metadata: { model: 'gpt-4o', finishReason: 'stop' },
    });
    const request = fake.requests[0];
    expect(request?.headers.authorization).toBe('Bearer test-key');
    expect(request?.body).toMatchObject({ model: 'gpt-4o', max_tokens: 4096, stream: false });
    expect(request?.body.tools).toBeUndefined();
  });

  it('maps system, tool-call and tool messages and the tools to the wire format', async () => {
    const messages: Message[] = [
      { role: 'system', content: 'You are helpful.' },
      { role: 'system', content: 'Memory: likes tea.' },
      { role: 'user', content: 'Weather in Paris and Rome?' },
      {
        role: 'assistant',
        content: '',
        toolCalls: [
          { id: 'call_1', name: 'get_weather', input: { city: 'Paris' } },
          { id: 'call_2', name: 'get_weather', input: { city: 'Rome' } },
        ],
      },
      { role: 'tool', toolCallId: 'call_1', content: '{"temp":18}' },
      { role: 'tool', toolCallId: 'call_2', content: '{"temp":24}' },
      { role: 'system', content: 'Answer briefly.' },
    ];

    await adapter.complete(messages, { tools: [WEATHER_TOOL], temperature: 0.2 });

    const body = fake.requests[0]?.body;
    expect(body.messages).toEqual([
      { role: 'system', content: 'You are helpful.\n\nMemory: likes tea.' },
      { role: 'user', content: 'Weather in Paris and Rome?' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          {
            id: 'call_1',
            type: 'function',
            function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
          },
          { id: 'call_2', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Rome"}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'call_1', content: '{"temp":18}' },
      { role: 'tool', tool_call_id: 'call_2', content: '{"temp":24}' },
      { role: 'system', content: 'Answer briefly.' },
    ]);
    expect(body.tools).toEqual([
      {
        type: 'function',
        function: {
          name: 'get_weather',
          description: WEATHER_TOOL.description,
          parameters: WEATHER_TOOL.inputSchema,
        },
      },
    ]);
    expect(body.temperature).toBe(0.2);
  });

  it('parses tool calls and turns invalid argument JSON into {} when the provider calls tools', async () => {
    fake.setScript([
      {
        toolCalls: [
          { id: 'call_a', name: 'get_weather', input: { city: 'Oslo' } },
          { id: 'call_b', name: 'get_weather', input: '{"city": "Ber' },
        ],
      },
    ]);

    const result = await adapter.complete([{ role: 'user', content: 'weather?' }], { tools: [WEATHER_TOOL] });

    expect(result.content).toBeNull();
    expect(result.toolCalls).toEqual([
      { id: 'call_a', name: 'get_weather', input: { city: 'Oslo' } },
      { id: 'call_b', name: 'get_weather', input: {} },
    ]);
    expect(result.metadata).toMatchObject({ finishReason: 'tool_calls' });
  });

  it('sends the configured max_tokens and extra body when set, and a call override wins', async () => {
    const custom = createOpenAICompatibleAdapter({
      baseURL: fake.baseURL,
      apiKey: 'k',
      model: 'deepseek-chat',
      maxTokens: 1000,
      extraBody: { top_k: 5, model: 'ignored' },
    });

    await custom.complete([{ role: 'user', content: 'a' }]);
    await custom.complete([{ role: 'user', content: 'b' }], { maxTokens: 77 });

    expect(fake.requests[0]?.body).toMatchObject({ model: 'deepseek-chat', max_tokens: 1000, top_k: 5 });
    expect(fake.requests[1]?.body.max_tokens).toBe(77);
  });

  it('streams text deltas with usage on the last chunk when streaming', async () => {
    fake.setScript([{ content: 'one two three four five', usage: { promptTokens: 9, completionTokens: 5 } }]);

    const chunks = await collectChunks(adapter.stream!([{ role: 'user', content: 'count' }]));

    expect(chunks.length).toBeGreaterThan(2);
    expect(chunks.map((chunk) => chunk.delta).join('')).toBe('one two three four five');
    expect(chunks.at(-1)).toEqual({ delta: '', usage: { promptTokens: 9, completionTokens: 5 } });
    expect(chunks.slice(0, -1).every((chunk) => chunk.usage === undefined)).toBe(true);
    expect(fake.requests[0]?.body).toMatchObject({ stream: true, stream_options: { include_usage: true } });
  });

  it('streams tool-call deltas with id, name and argument fragments when the model calls tools', async () => {
    fake.setScript([
      {
        content: 'Checking.',
        toolCalls: [
          { id: 'call_x', name: 'get_weather', input: { city: 'Lima' } },
          { id: 'call_y', name: 'get_weather', input: { city: 'Quito' } },
        ],
      },
    ]);

    const chunks = await collectChunks(
      adapter.stream!([{ role: 'user', content: 'weather' }], { tools: [WEATHER_TOOL] }),
    );

    expect(chunks.map((chunk) => chunk.delta).join('')).toBe('Checking.');
    const fragments = chunks
      .flatMap((chunk) => chunk.toolCallDeltas ?? [])
      .filter((delta) => delta.index === 0);
    expect(fragments.length).toBeGreaterThan(1);
    expect(accumulateToolCalls(chunks)).toEqual([
      { id: 'call_x', name: 'get_weather', input: '{"city":"Lima"}' },
      { id: 'call_y', name: 'get_weather', input: '{"city":"Quito"}' },
    ]);
  });

  it('rejects with LLM_ERROR keeping the cause and status when the provider fails', async () => {
    fake.setScript([
      { status: 400, errorBody: { error: { message: 'bad model', type: 'invalid_request_error' } } },
    ]);

    const error = await adapter.complete([{ role: 'user', content: 'x' }]).catch((e: unknown) => e);

    expect(error).toMatchObject({ code: 'LLM_ERROR', details: { status: 400 } });
    expect((error as Error).message).toContain('bad model');
    expect((error as Error).cause).toBeInstanceOf(Error);
  });

  it('throws LLM_ERROR from stream when the provider fails with a 5xx', async () => {
    fake.setScript([{ status: 503 }]);

    await expect(collectChunks(adapter.stream!([{ role: 'user', content: 'x' }]))).rejects.toMatchObject({
      code: 'LLM_ERROR',
      details: { status: 503 },
    });
  });

  it('throws an AbortError and closes the connection when aborted mid-stream', async () => {
    const slow = await startFakeOpenAI({ chunkCount: 20, chunkDelayMs: 50 });
    try {
      const streaming = createOpenAICompatibleAdapter({
        apiKey: 'k',
        baseURL: slow.baseURL,
        model: 'gpt-4o',
      });
      const controller = new AbortController();
      const received: string[] = [];
      const consume = async () => {
        for await (const chunk of streaming.stream!([{ role: 'user', content: 'a long answer please' }], {
          signal: controller.signal,
        })) {
          received.push(chunk.delta);
          if (received.join('') !== '') controller.abort();
        }
      };

      await expect(consume()).rejects.toMatchObject({ name: 'AbortError', code: 'ABORTED' });
      expect(await slow.waitForOutcome(0)).toBe('aborted');
      expect(received.join('').length).toBeLessThan('Echo: a long answer please'.length);
    } finally {
      await slow.close();
    }
  });

  it('rejects complete with an AbortError when the signal aborts before the answer', async () => {
    const slow = await startFakeOpenAI({ firstTokenLatencyMs: 5_000 });
    try {
      const waiting = createOpenAICompatibleAdapter({ apiKey: 'k', baseURL: slow.baseURL, model: 'gpt-4o' });
      const controller = new AbortController();
      const pending = waiting.complete([{ role: 'user', content: 'x' }], { signal: controller.signal });
      setTimeout(() => controller.abort(), 50);

      await expect(pending).rejects.toMatchObject({ name: 'AbortError', code: 'ABORTED' });
      expect(await slow.waitForOutcome(0)).toBe('aborted');
      await expect(
        waiting.complete([{ role: 'user', content: 'x' }], { signal: AbortSignal.abort() }),
      ).rejects.toMatchObject({ name: 'AbortError' });
    } finally {
      await slow.close();
    }
  });

  it('defaults maxContextTokens from the model name when none is given', () => {
    expect(adapter.maxContextTokens).toBe(128_000);
    expect(adapter.model).toBe('gpt-4o');
    expect(defaultOpenAIContextTokens('gpt-4o-mini-2024-07-18')).toBe(128_000);
    expect(defaultOpenAIContextTokens('gpt-4.1-nano')).toBe(1_047_576);
    expect(defaultOpenAIContextTokens('deepseek/deepseek-chat')).toBe(65_536);
    expect(defaultOpenAIContextTokens('my-local-model')).toBe(32_768);
    expect(
      createOpenAICompatibleAdapter({ model: 'x', apiKey: 'k', maxContextTokens: 8000 }).maxContextTokens,
    ).toBe(8000);
  });
});
