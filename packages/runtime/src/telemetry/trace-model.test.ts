import { trace } from '@opentelemetry/api';
import { createOfflineAdapter, type LLMAdapter } from '@stello-ai/session';
import { describe, expect, it } from 'vitest';
import { useInMemoryTracing } from '../__fixtures__/in-memory-tracing';
import { traceModel } from './trace-model';

describe('traceModel', () => {
  const { exporter, tracer } = useInMemoryTracing();
  const messages = [{ role: 'user' as const, content: 'a private question' }];

  it('opens a child span per call with the adapter, model, stream flag, tokens and first delta', async () => {
    const model = traceModel(createOfflineAdapter(), tracer);
    const parent = await tracer.startActiveSpan('turn', async (span) => {
      await model.complete(messages);
      for await (const _chunk of model.stream!(messages)) {
        // drained
      }
      span.end();
      return span.spanContext().spanId;
    });
    const calls = exporter.getFinishedSpans().filter((s) => s.name === 'chat offline');
    expect(calls).toHaveLength(2);
    expect(calls.map((s) => s.parentSpanContext?.spanId)).toEqual([parent, parent]);
    expect(calls.map((s) => s.attributes['stello.llm.stream'])).toEqual([false, true]);
    for (const call of calls) {
      expect(call.attributes).toMatchObject({
        'stello.llm.adapter': 'offline',
        'gen_ai.provider.name': 'offline',
        'gen_ai.request.model': 'offline',
        'gen_ai.usage.input_tokens': expect.any(Number),
      });
    }
    expect(calls[0]!.events).toEqual([]);
    expect(calls[1]!.events.map((e) => e.name)).toEqual(['first_delta']);
    expect(JSON.stringify(calls.map((s) => [s.attributes, s.events]))).not.toContain('private');
    expect(model.provider).toBe('offline');
    expect(model.maxContextTokens).toBe(createOfflineAdapter().maxContextTokens);
  });

  it('runs a non-streamed call with its span active, and records a failure by code only', async () => {
    let activeInside: string | undefined;
    const failing: LLMAdapter = {
      maxContextTokens: 1000,
      model: 'm',
      async complete() {
        activeInside = trace.getActiveSpan()?.spanContext().spanId;
        throw Object.assign(new Error('provider echoed: a private question'), { code: 'LLM_ERROR' });
      },
    };
    const model = traceModel(failing, tracer);
    await expect(model.complete(messages)).rejects.toThrow('provider echoed');
    const [call] = exporter.getFinishedSpans();
    expect(call?.name).toBe('chat m');
    expect(activeInside).toBe(call?.spanContext().spanId);
    expect(call?.attributes['error.type']).toBe('LLM_ERROR');
    expect(call?.status).toEqual({ code: 2 });
    expect(call?.attributes['stello.llm.adapter']).toBe('unknown');
    expect(model.stream).toBeUndefined();
  });
});
