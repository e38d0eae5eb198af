import { createOfflineAdapter, type LLMAdapter } from '@stello-ai/session';
import { describe, expect, it } from 'vitest';
import type { Logger } from './logger';
import { instrumentModel, withObservedHooks } from './observe-agent';

function recorder() {
  const events: { event: string; fields: Record<string, unknown> }[] = [];
  const push = (event: string, fields: Record<string, unknown> = {}) => events.push({ event, fields });
  const logger: Logger = { debug: push, info: push, warn: push, error: push };
  return { events, logger };
}

describe('instrumentModel', () => {
  it('logs one llm.call per call with duration, first delta and tokens, never the messages', async () => {
    const { events, logger } = recorder();
    const model = instrumentModel(createOfflineAdapter(), logger);
    const messages = [{ role: 'user' as const, content: 'a private question' }];
    await model.complete(messages);
    for await (const _chunk of model.stream!(messages)) {
      // drained
    }
    expect(events.map((entry) => entry.event)).toEqual(['llm.call', 'llm.call']);
    expect(events[0]!.fields).toMatchObject({
      stream: false,
      outcome: 'ok',
      promptTokens: expect.any(Number),
    });
    expect(events[1]!.fields).toMatchObject({
      stream: true,
      outcome: 'ok',
      firstDeltaMs: expect.any(Number),
    });
    expect(JSON.stringify(events)).not.toContain('private question');
    expect(model.maxContextTokens).toBe(createOfflineAdapter().maxContextTokens);
  });

  it('logs the error code of a failed call and rethrows', async () => {
    const { events, logger } = recorder();
    const failing: LLMAdapter = {
      maxContextTokens: 1000,
      complete: async () => {
        throw Object.assign(new Error('down'), { code: 'LLM_ERROR' });
      },
    };
    await expect(instrumentModel(failing, logger).complete([])).rejects.toThrow('down');
    expect(events[0]!.fields).toMatchObject({ outcome: 'LLM_ERROR' });
  });
});

describe('withObservedHooks', () => {
  it("logs a turn's wait up to its first LLM call and successful memory runs, and still calls the caller's hooks", async () => {
    const { events, logger } = recorder();
    const own: string[] = [];
    const hooks = withObservedHooks({ onRoundStart: () => void own.push('round') }, 'space-1', logger);
    await hooks.onMessageReceived?.({ sessionId: 's', input: 'x' });
    await hooks.onRoundStart?.({ sessionId: 's', round: 0 });
    await hooks.onRoundStart?.({ sessionId: 's', round: 1 });
    await hooks.onConsolidated?.({ sessionId: 's', memory: 'm' });
    await hooks.onIntegrated?.({ synthesis: 'x', insightCount: 2 });
    expect(events.map((entry) => entry.event)).toEqual([
      'turn.lease_wait',
      'memory.consolidated',
      'memory.integrated',
    ]);
    expect(events[0]!.fields).toMatchObject({
      spaceId: 'space-1',
      sessionId: 's',
      waitMs: expect.any(Number),
    });
    expect(own).toEqual(['round', 'round']);
  });
});
