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
}

/**
 * Runs a turn and logs one `turn` line (space, session, duration, tool rounds) when it
 * completes, or one `turn.failed` line with the error code when it fails; rethrows failures.
 * With a `tracer`, the turn also runs under an OpenTelemetry turn span (see `traceTurn`).
 */
export async function runLoggedTurn(
  logger: Logger,
  context: TurnLogContext,
  run: () => Promise<EngineTurnResult>,
  tracer?: Tracer,
  turnId?: string,
): Promise<EngineTurnResult> {
  const startedAt = performance.now();
  try {
    const result = await (tracer ? traceTurn(tracer, turnSpanStart(context, turnId), run) : run());
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

function turnSpanStart(context: TurnLogContext, turnId: string | undefined) {
  const stream = context.stream === true;
  const transport = context.transport === 'rest' && stream ? ('sse' as const) : context.transport;
  return { transport, spaceId: context.spaceId, sessionId: context.sessionId, turnId, stream };
}
