import type { EngineTurnResult } from '@stello-ai/core';
import type { Logger } from '@stello-ai/runtime';

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
 */
export async function runLoggedTurn(
  logger: Logger,
  context: TurnLogContext,
  run: () => Promise<EngineTurnResult>,
): Promise<EngineTurnResult> {
  const startedAt = performance.now();
  try {
    const result = await run();
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
