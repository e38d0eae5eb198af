import type { Tracer } from '@opentelemetry/api';
import type { EngineTurnResult } from '@stello-ai/core';
import type { Logger } from '@stello-ai/runtime';
import { traceTurn } from './telemetry/turn-span';

/** Who asked for a turn, for the `turn` log line. */
export interface TurnLogContext {
  /** `rest` or `ws`. */
  transport: 'rest' | 'ws';
  spaceId: string;
  sessionId: string;
  /** REST request id. */
  requestId?: string;
  /** WebSocket connection id. */
  connectionId?: string;
  /** True for a streamed turn. */
  stream?: boolean;
  /** Runs the turn under an OpenTelemetry turn span (see `traceTurn`); never logged. */
  tracer?: Tracer | undefined;
  /** The client's turn id, for that span; never logged. */
  turnId?: string | undefined;
}

/**
 * Runs a turn and logs one `turn` line (space, session, duration, tool rounds) when it
 * completes, or one `turn.failed` line with the error code when it fails; rethrows failures.
 * With `context.tracer`, the turn also runs under an OpenTelemetry turn span (see `traceTurn`).
 */
export async function runLoggedTurn(
  logger: Logger,
  turnContext: TurnLogContext,
  run: () => Promise<EngineTurnResult>,
): Promise<EngineTurnResult> {
  const { tracer } = turnContext;
  // Copied without the tracing fields only when they are there: an untraced turn allocates nothing more.
  const context = tracer ? withoutTracing(turnContext) : turnContext;
  const startedAt = performance.now();
  try {
    const result = await (tracer ? traceTurn(tracer, turnSpanStart(turnContext), run) : run());
    logger.info('turn', {
      ...context,
      durationMs: Math.round(performance.now() - startedAt),
      toolRounds: result.turn.toolRoundCount,
      toolCalls: result.turn.toolCallsExecuted,
    });
    return result;
  } catch (error) {
    const code = error instanceof Error ? (error as { code?: unknown }).code : undefined;
    logger.warn('turn.failed', {
      ...context,
      durationMs: Math.round(performance.now() - startedAt),
      code: typeof code === 'string' ? code : 'INTERNAL',
    });
    throw error;
  }
}

function withoutTracing(context: TurnLogContext): TurnLogContext {
  const { tracer: _tracer, turnId: _turnId, ...rest } = context;
  return rest;
}

function turnSpanStart(context: TurnLogContext) {
  const stream = context.stream === true;
  const transport = context.transport === 'rest' && stream ? ('sse' as const) : context.transport;
  const { spaceId, sessionId, turnId } = context;
  return { transport, spaceId, sessionId, turnId, stream };
}
