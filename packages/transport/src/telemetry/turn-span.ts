import {
  type Context,
  context,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api';

// The span of one turn. The turn's work is started inside `run`, so the spans opened below it (its
// SQL statements, its LLM calls) find this one active and nest under it.

/** How the turn was asked for: a REST turn, a REST stream (SSE) or a WebSocket message/stream. */
export type TurnSpanTransport = 'rest' | 'sse' | 'ws';

/** What is known of a turn when it starts. */
export interface TurnSpanStart {
  transport: TurnSpanTransport;
  spaceId: string;
  sessionId: string;
  /** The client's turn id, when it chose one. */
  turnId?: string | undefined;
  /** True for a streamed turn. */
  stream: boolean;
}

/** The outcome of a turn: `ok`, or the code of its error (`TURN_CANCELLED`, `LLM_ERROR`, …). */
export function turnOutcome(error: unknown): string {
  if (error === undefined) return 'ok';
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'INTERNAL';
}

/** One turn's open span; the first `end` ends it, later ones do nothing. */
export class TurnSpan {
  readonly #span: Span;
  readonly #context: Context;
  #ended = false;

  constructor(tracer: Tracer, start: TurnSpanStart) {
    this.#span = tracer.startSpan(
      'stello.turn',
      {
        kind: SpanKind.INTERNAL,
        attributes: {
          'stello.space.id': start.spaceId,
          'stello.session.id': start.sessionId,
          'stello.transport': start.transport,
          'stello.turn.stream': start.stream,
          ...(start.turnId !== undefined && { 'stello.turn.id': start.turnId }),
        },
      },
      context.active(),
    );
    this.#context = trace.setSpan(context.active(), this.#span);
  }

  /** Runs `fn` with this span active: what it starts (statements, LLM calls) becomes its children. */
  run<T>(fn: () => T): T {
    return context.with(this.#context, fn);
  }

  /** Records the turn id (known once the turn started) and the outcome, then ends the span. */
  end(turnId: string | undefined, error?: unknown): void {
    if (this.#ended) return;
    this.#ended = true;
    if (turnId) this.#span.setAttribute('stello.turn.id', turnId);
    const outcome = turnOutcome(error);
    this.#span.setAttribute('stello.turn.outcome', outcome);
    // The code only: an error's message may quote the input.
    if (error !== undefined) this.#span.setStatus({ code: SpanStatusCode.ERROR, message: outcome });
    this.#span.end();
  }
}

/** Runs one turn under a new turn span, ending it with the turn's id and outcome. */
export async function traceTurn<R extends { turnId?: string }>(
  tracer: Tracer,
  start: TurnSpanStart,
  run: () => Promise<R>,
): Promise<R> {
  const span = new TurnSpan(tracer, start);
  try {
    const result = await span.run(run);
    span.end(result.turnId ?? start.turnId);
    return result;
  } catch (error) {
    span.end(start.turnId, error ?? 'error');
    throw error;
  }
}
