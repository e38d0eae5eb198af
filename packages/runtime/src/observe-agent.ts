import type { EngineHooks } from '@stello-ai/core';
import type { LLMAdapter, LLMChunk, LLMCompleteOptions, LLMResult, TokenUsage } from '@stello-ai/session';
import type { Logger } from './logger';

// What happens inside an agent reaches the logs (and, through them, the server's metrics) from
// here: the LLM calls of its model, and its hooks. Nothing in core or session knows about logs.

function usageFields(usage: TokenUsage | undefined): Record<string, number> {
  return usage ? { promptTokens: usage.promptTokens, completionTokens: usage.completionTokens } : {};
}

function errorCode(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'LLM_ERROR';
}

/**
 * `model`, with one `llm.call` debug event per call: `{ model, stream, durationMs, firstDeltaMs
 * (streams), promptTokens, completionTokens, outcome }` (outcome `ok` or the error code). The
 * messages and the answer are never logged.
 */
export function instrumentModel(model: LLMAdapter, logger: Logger): LLMAdapter {
  const log = (fields: Record<string, unknown>) =>
    logger.debug?.('llm.call', { model: model.model ?? null, ...fields });
  // Every other member is read from the model itself (getters included), at each access.
  const instrumented = {
    get maxContextTokens() {
      return model.maxContextTokens;
    },
    get model() {
      return model.model;
    },
    get provider() {
      return model.provider;
    },
    get maxOutputTokens() {
      return model.maxOutputTokens;
    },
    get tokenCounter() {
      return model.tokenCounter;
    },
  } as LLMAdapter;
  instrumented.complete = async (messages, options?: LLMCompleteOptions): Promise<LLMResult> => {
    const startedAt = performance.now();
    try {
      const result = await model.complete(messages, options);
      log({
        stream: false,
        durationMs: Math.round(performance.now() - startedAt),
        outcome: 'ok',
        ...usageFields(result.usage),
      });
      return result;
    } catch (error) {
      log({
        stream: false,
        durationMs: Math.round(performance.now() - startedAt),
        outcome: errorCode(error),
      });
      throw error;
    }
  };
  const stream = model.stream;
  if (stream) {
    instrumented.stream = (messages, options?: LLMCompleteOptions): AsyncIterable<LLMChunk> => ({
      async *[Symbol.asyncIterator]() {
        const startedAt = performance.now();
        let firstDeltaMs: number | undefined;
        let usage: TokenUsage | undefined;
        let outcome = 'ok';
        try {
          for await (const chunk of stream.call(model, messages, options)) {
            if (firstDeltaMs === undefined && (chunk.delta !== '' || chunk.toolCallDeltas?.length)) {
              firstDeltaMs = Math.round(performance.now() - startedAt);
            }
            if (chunk.usage) usage = chunk.usage;
            yield chunk;
          }
        } catch (error) {
          outcome = errorCode(error);
          throw error;
        } finally {
          log({
            stream: true,
            durationMs: Math.round(performance.now() - startedAt),
            ...(firstDeltaMs !== undefined && { firstDeltaMs }),
            outcome,
            ...usageFields(usage),
          });
        }
      },
    });
  }
  return instrumented;
}

type Hook<K extends keyof EngineHooks> = EngineHooks[K] | undefined;

/**
 * `hooks`, also logging what the server measures: `turn.lease_wait` (debug; from the start of a
 * turn on its session, after the in-process queue, to its first LLM call: the turn lease, waits
 * on a lease another process holds included, and the context read), `memory.consolidated` and
 * `memory.integrated` (info; a background memory run that succeeded; failures are
 * `agent.background_failed`). The caller's own hooks still run.
 */
export function withObservedHooks(
  hooks: Partial<EngineHooks> | undefined,
  spaceId: string,
  logger: Logger,
): Partial<EngineHooks> {
  const started = new Map<string, number>();
  const chain = <K extends keyof EngineHooks>(
    name: K,
    observe: (event: Parameters<EngineHooks[K]>[0]) => void,
  ): EngineHooks[K] => {
    const own = hooks?.[name] as Hook<K>;
    return ((event: Parameters<EngineHooks[K]>[0]) => {
      observe(event);
      // biome-ignore lint/suspicious/noExplicitAny: one generic call of the caller's own hook
      return (own as any)?.(event);
    }) as EngineHooks[K];
  };
  return {
    ...hooks,
    onMessageReceived: chain('onMessageReceived', (event) => {
      started.set(event.sessionId, performance.now());
    }),
    onRoundStart: chain('onRoundStart', (event) => {
      const at = started.get(event.sessionId);
      if (event.round !== 0 || at === undefined) return;
      started.delete(event.sessionId);
      logger.debug?.('turn.lease_wait', {
        spaceId,
        sessionId: event.sessionId,
        waitMs: Math.round(performance.now() - at),
      });
    }),
    onRoundEnd: chain('onRoundEnd', (event) => {
      started.delete(event.sessionId);
    }),
    onConsolidated: chain('onConsolidated', (event) => {
      logger.info('memory.consolidated', { spaceId, sessionId: event.sessionId });
    }),
    onIntegrated: chain('onIntegrated', (event) => {
      logger.info('memory.integrated', { spaceId, insightCount: event.insightCount });
    }),
  };
}
