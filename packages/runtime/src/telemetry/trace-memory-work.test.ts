import { trace } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { createInMemoryStores, createStelloAgent } from '@stello-ai/core';
import { createOfflineAdapter } from '@stello-ai/session';
import { describe, expect, it } from 'vitest';
import { useInMemoryTracing } from '../__fixtures__/in-memory-tracing';
import { traceMemoryWork } from './trace-memory-work';
import { traceModel } from './trace-model';

describe('traceMemoryWork', () => {
  const { exporter, tracer } = useInMemoryTracing();

  const spans = (name: string) => exporter.getFinishedSpans().filter((span) => span.name === name);
  const childrenOf = (parent: ReadableSpan) =>
    exporter
      .getFinishedSpans()
      .filter((span) => span.parentSpanContext?.spanId === parent.spanContext().spanId);

  it('traces a background consolidation on its own, linked to the turn that set it off, with its LLM call under it', async () => {
    const agent = createStelloAgent({
      ...createInMemoryStores(),
      llm: traceModel(createOfflineAdapter(), tracer),
      orchestration: {
        consolidateEveryNTurns: 1,
        integrateAfterConsolidate: false,
        aroundMemoryWork: traceMemoryWork(tracer, 'space-1'),
      },
    });
    const root = await agent.createRoot();
    const child = await agent.forkSession(root.id, { label: 'child' });
    const turnSpanId = await tracer.startActiveSpan('turn', async (span) => {
      await agent.turn(child.id, 'a question about Lisbon');
      span.end();
      return span.spanContext().spanId;
    });
    await agent.idle();

    const [run] = spans('stello.memory.consolidate');
    expect(run).toBeDefined();
    expect(run!.parentSpanContext).toBeUndefined();
    expect(run!.links.map((link) => link.context.spanId)).toEqual([turnSpanId]);
    expect(run!.attributes).toEqual({
      'stello.space.id': 'space-1',
      'stello.session.id': child.id,
      'stello.memory.explicit': false,
    });
    expect(childrenOf(run!).map((span) => span.name)).toEqual(['chat offline']);
    expect(JSON.stringify(run!.attributes)).not.toContain('Lisbon');
  });

  it('traces an explicit run under the request that asked for it, and a failure by its code', async () => {
    const agent = createStelloAgent({
      ...createInMemoryStores(),
      llm: traceModel(createOfflineAdapter(), tracer),
      session: {
        integrateFn: async () => {
          throw Object.assign(new Error('the private synthesis failed'), { code: 'INVALID_MODEL_REPLY' });
        },
      },
      orchestration: { consolidateEveryNTurns: 0, aroundMemoryWork: traceMemoryWork(tracer, 'space-2') },
    });
    const root = await agent.createRoot();
    const child = await agent.forkSession(root.id, { label: 'child' });
    await agent.turn(child.id, 'hello');
    const requestSpanId = await tracer.startActiveSpan('request', async (span) => {
      await agent.consolidateSession(child.id);
      await expect(agent.integrate()).rejects.toMatchObject({ code: 'INVALID_MODEL_REPLY' });
      span.end();
      return span.spanContext().spanId;
    });
    await agent.idle();

    const [consolidation] = spans('stello.memory.consolidate');
    expect(consolidation!.parentSpanContext?.spanId).toBe(requestSpanId);
    expect(consolidation!.links).toEqual([]);
    expect(consolidation!.attributes['stello.memory.explicit']).toBe(true);
    expect(childrenOf(consolidation!).map((span) => span.name)).toEqual(['chat offline']);
    // The consolidation also set off a background integration (which failed the same way).
    const integration = spans('stello.memory.integrate').find(
      (span) => span.attributes['stello.memory.explicit'],
    );
    expect(integration!.parentSpanContext?.spanId).toBe(requestSpanId);
    expect(integration!.status.code).toBe(2);
    expect(integration!.attributes).toMatchObject({ 'error.type': 'INVALID_MODEL_REPLY' });
    expect(JSON.stringify(integration!.attributes)).not.toContain('private');
    expect(trace.getActiveSpan()).toBeUndefined();
  });
});
