import { context, type Span, SpanKind, type Tracer, trace } from '@opentelemetry/api';
import type { LLMAdapter, LLMChunk, LLMCompleteOptions, LLMResult, TokenUsage } from '@stello-ai/session';
import { recordFailure } from './span-failure';

// One span per call of an agent's chat model, a child of the span active at the call (the turn's).
// Only names, counts and times go on it: never the messages, the answer or the provider's key.

function startCallSpan(tracer: Tracer, model: LLMAdapter, stream: boolean): Span {
  const name = model.model ?? 'unknown';
  const provider = model.provider ?? 'unknown';
  return tracer.startSpan(
    `chat ${name}`,
    {
      kind: SpanKind.CLIENT,
      attributes: {
        'gen_ai.operation.name': 'chat',
        'gen_ai.provider.name': provider,
        'gen_ai.request.model': name,
        'stello.llm.adapter': provider,
        'stello.llm.stream': stream,
      },
    },
    context.active(),
  );
}

function endCallSpan(span: Span, usage: TokenUsage | undefined, error: unknown): void {
  if (usage) {
    span.setAttribute('gen_ai.usage.input_tokens', usage.promptTokens);
    span.setAttribute('gen_ai.usage.output_tokens', usage.completionTokens);
  }
  if (error !== undefined) recordFailure(span, error, 'LLM_ERROR');
  span.end();
}

/**
 * `model`, opening one OpenTelemetry span per call (`chat <model>`, kind `CLIENT`): the adapter
 * (`gen_ai.provider.name`, `stello.llm.adapter`), the model, whether it streamed, the token counts
 * when the provider reports them, a `first_delta` event when the first text or tool-call delta of
 * a stream arrives, and the error code of a failure. A non-streamed call runs with its span active.
 */
export function traceModel(model: LLMAdapter, tracer: Tracer): LLMAdapter {
  // Every other member is read from the model itself (getters included), at each access.
  const traced = {
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
  traced.complete = async (messages, options?: LLMCompleteOptions): Promise<LLMResult> => {
    const span = startCallSpan(tracer, model, false);
    try {
      const result = await context.with(trace.setSpan(context.active(), span), () =>
        model.complete(messages, options),
      );
      endCallSpan(span, result.usage, undefined);
      return result;
    } catch (error) {
      endCallSpan(span, undefined, error ?? 'error');
      throw error;
    }
  };
  const stream = model.stream;
  if (stream) {
    traced.stream = (messages, options?: LLMCompleteOptions): AsyncIterable<LLMChunk> => ({
      async *[Symbol.asyncIterator]() {
        const span = startCallSpan(tracer, model, true);
        let usage: TokenUsage | undefined;
        let failure: unknown;
        let sawDelta = false;
        try {
          for await (const chunk of stream.call(model, messages, options)) {
            if (!sawDelta && (chunk.delta !== '' || chunk.toolCallDeltas?.length)) {
              sawDelta = true;
              span.addEvent('first_delta');
            }
            if (chunk.usage) usage = chunk.usage;
            yield chunk;
          }
        } catch (error) {
          failure = error ?? 'error';
          throw error;
        } finally {
          endCallSpan(span, usage, failure);
        }
      },
    });
  }
  return traced;
}
