import { describe, expect, it } from 'vitest';
import { collectChunks } from '../__fixtures__/llm-chunks';
import type { ToolSchema } from '../llm/llm';
import type { Message } from '../types';
import { createOfflineAdapter } from './offline';

const ECHO_TOOL: ToolSchema = {
  name: 'echo',
  description: 'Echoes its input',
  inputSchema: { type: 'object', properties: { text: { type: 'string' } } },
};

describe('createOfflineAdapter', () => {
  const conversation: Message[] = [
    { role: 'system', content: 'You are kind.' },
    { role: 'user', content: 'What is the capital of France?' },
  ];

  it('answers deterministically from the last user message and the context size', async () => {
    const adapter = createOfflineAdapter();

    const first = await adapter.complete(conversation);
    const second = await adapter.complete(conversation);

    expect(first.content).toBe(
      'Offline model reply to "What is the capital of France?" (2 messages in context)',
    );
    expect(second).toEqual(first);
    expect(first.usage).toEqual({ promptTokens: 12, completionTokens: Math.ceil(first.content!.length / 4) });
    expect(first.toolCalls).toBeUndefined();
    expect(adapter.model).toBe('offline');
    expect(adapter.maxContextTokens).toBe(32_768);
    expect(createOfflineAdapter({ maxContextTokens: 500 }).maxContextTokens).toBe(500);
  });

  it('truncates a long user message in its reply', async () => {
    const result = await createOfflineAdapter().complete([{ role: 'user', content: 'x'.repeat(500) }]);

    expect(result.content).toBe(`Offline model reply to "${'x'.repeat(60)}…" (1 message in context)`);
  });

  it('streams several word chunks that concatenate to the complete text, usage last', async () => {
    const adapter = createOfflineAdapter();

    const complete = await adapter.complete(conversation);
    const chunks = await collectChunks(adapter.stream!(conversation));

    const text = chunks.filter((chunk) => chunk.usage === undefined);
    expect(text.length).toBeGreaterThan(5);
    expect(text.map((chunk) => chunk.delta).join('')).toBe(complete.content);
    expect(chunks.at(-1)).toEqual({ delta: '', usage: complete.usage });
  });

  it('calls the named tool with the directive arguments when that tool is offered', async () => {
    const adapter = createOfflineAdapter();
    const messages: Message[] = [{ role: 'user', content: 'Please [[tool:echo {"text":"hi"}]] now' }];

    const first = await adapter.complete(messages, { tools: [ECHO_TOOL] });
    const again = await adapter.complete(messages, { tools: [ECHO_TOOL] });
    const other = await adapter.complete([...messages, { role: 'user', content: '[[tool:echo]]' }], {
      tools: [ECHO_TOOL],
    });

    expect(first.content).toBeNull();
    expect(first.toolCalls).toEqual([
      { id: expect.stringMatching(/^call_offline_/), name: 'echo', input: { text: 'hi' } },
    ]);
    expect(again.toolCalls).toEqual(first.toolCalls);
    expect(other.toolCalls?.[0]?.input).toEqual({});
    expect(other.toolCalls?.[0]?.id).not.toBe(first.toolCalls?.[0]?.id);
  });

  it('streams the directive tool call as id, name and argument fragments', async () => {
    const chunks = await collectChunks(
      createOfflineAdapter().stream!([{ role: 'user', content: '[[tool:echo {"text":"streamed"}]]' }], {
        tools: [ECHO_TOOL],
      }),
    );

    const deltas = chunks.flatMap((chunk) => chunk.toolCallDeltas ?? []);
    expect(deltas.length).toBe(2);
    expect(deltas[0]).toMatchObject({ index: 0, name: 'echo', id: expect.stringMatching(/^call_offline_/) });
    expect(deltas.map((delta) => delta.input).join('')).toBe('{"text":"streamed"}');
    expect(chunks.map((chunk) => chunk.delta).join('')).toBe('');
  });

  it('never calls a tool when no tools or other tools are offered', async () => {
    const adapter = createOfflineAdapter({ toolPlan: () => [{ id: 't1', name: 'echo', input: {} }] });
    const messages: Message[] = [{ role: 'user', content: '[[tool:echo {"text":"hi"}]]' }];

    const none = await adapter.complete(messages);
    const otherTool = await createOfflineAdapter().complete(messages, {
      tools: [{ ...ECHO_TOOL, name: 'other' }],
    });
    const streamed = await collectChunks(adapter.stream!(messages));

    expect(none.toolCalls).toBeUndefined();
    expect(none.content).toContain('Offline model reply to');
    expect(otherTool.toolCalls).toBeUndefined();
    expect(streamed.some((chunk) => chunk.toolCallDeltas)).toBe(false);
  });

  it('answers with the tool results when the last message is a tool result', async () => {
    const messages: Message[] = [
      { role: 'user', content: '[[tool:echo {"text":"hi"}]]' },
      { role: 'assistant', content: '', toolCalls: [{ id: 'call_1', name: 'echo', input: { text: 'hi' } }] },
      { role: 'tool', toolCallId: 'call_1', content: '"hi"' },
    ];

    const result = await createOfflineAdapter().complete(messages, { tools: [ECHO_TOOL] });

    expect(result.toolCalls).toBeUndefined();
    expect(result.content).toBe('Offline model received tool results: echo returned "hi"');
  });

  it('uses the tool plan when given and tools are offered', async () => {
    const seen: number[] = [];
    const adapter = createOfflineAdapter({
      toolPlan: (messages, tools) => {
        seen.push(tools.length);
        return messages.at(-1)?.role === 'user'
          ? [{ id: 'plan_1', name: 'echo', input: { text: 'planned' } }]
          : null;
      },
    });

    const result = await adapter.complete([{ role: 'user', content: 'anything' }], { tools: [ECHO_TOOL] });

    expect(result.toolCalls).toEqual([{ id: 'plan_1', name: 'echo', input: { text: 'planned' } }]);
    expect(seen).toEqual([1]);
  });

  it('rejects with an AbortError when the signal is aborted', async () => {
    const adapter = createOfflineAdapter({ chunkDelayMs: 20 });
    const controller = new AbortController();

    await expect(adapter.complete(conversation, { signal: AbortSignal.abort() })).rejects.toMatchObject({
      name: 'AbortError',
      code: 'ABORTED',
    });
    const received: string[] = [];
    const consume = async () => {
      for await (const chunk of adapter.stream!(conversation, { signal: controller.signal })) {
        received.push(chunk.delta);
        controller.abort();
      }
    };
    await expect(consume()).rejects.toMatchObject({ name: 'AbortError' });
    expect(received).toHaveLength(1);

    const slowComplete = new AbortController();
    const pending = adapter.complete(conversation, { signal: slowComplete.signal });
    slowComplete.abort();
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
  });
});

describe('createOfflineAdapter integration replies', () => {
  it('answers an integration request with a valid synthesis and one insight per named session', async () => {
    const llm = createOfflineAdapter();
    const result = await llm.complete([
      { role: 'system', content: 'Reply with JSON: {"synthesis": "...", "insights": [...]}' },
      { role: 'user', content: 'Sessions:\n- [sessionId=a1] Alpha: about a\n- [sessionId=b2] Beta: about b' },
    ]);
    const parsed = JSON.parse(result.content ?? '') as {
      synthesis: string;
      insights: { sessionId: string }[];
    };
    expect(parsed.synthesis).toContain('Alpha; Beta');
    expect(parsed.insights.map((insight) => insight.sessionId)).toEqual(['a1', 'b2']);
  });

  it('sends no insight when a single session is integrated', async () => {
    const llm = createOfflineAdapter();
    const result = await llm.complete([
      { role: 'system', content: 'Reply with JSON: {"synthesis": "...", "insights": [...]}' },
      { role: 'user', content: 'Sessions:\n- [sessionId=a1] Alpha: about a' },
    ]);
    expect(JSON.parse(result.content ?? '')).toEqual({
      synthesis: 'Offline synthesis of 1 session: Alpha.',
      insights: [],
    });
  });
});
