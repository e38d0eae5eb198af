import { type Span, SpanStatusCode } from '@opentelemetry/api';

/**
 * Marks `span` failed with the error's code as `error.type` (`fallback` when it has none). Never
 * the message: an adapter's or a memory function's message may quote the prompt or the session.
 */
export function recordFailure(span: Span, error: unknown, fallback: string): void {
  const code = (error as { code?: unknown } | null)?.code;
  span.setAttribute('error.type', typeof code === 'string' ? code : fallback);
  span.setStatus({ code: SpanStatusCode.ERROR });
}
