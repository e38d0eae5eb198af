import type { StelloAgent } from '@stello-ai/core';
import { TransportError } from '../errors';
import type { SeqFrame, TurnHub } from './turn-hub';
import type { TurnRelay } from './turn-relay';

/** How often a resume polls a turn that runs in another process. */
const POLL_MS = 250;
/** Longest a resume waits for a turn that runs in another process. */
const MAX_WAIT_MS = 10 * 60_000;

/**
 * The frames a resume sends after `afterSeq`: from this process's hub while it keeps the turn (the
 * frames it missed, then the live ones, then the end); from the process that streams it through the
 * relay, when one is given and the turn still runs elsewhere; otherwise from storage once the turn is over,
 * wherever it ran: `stream.end` with the stored result (the whole final text), `turn.cancelled`, or
 * an `error` frame for a failed turn.
 *
 * @throws TransportError `TURN_NOT_FOUND` when the session has no such turn
 */
export async function* followTurn(
  agent: Pick<StelloAgent, 'getTurn'>,
  hub: TurnHub,
  sessionId: string,
  turnId: string,
  afterSeq: number,
  signal?: AbortSignal,
  relay?: TurnRelay,
): AsyncGenerator<SeqFrame> {
  if (hub.has(turnId)) {
    yield* hub.follow(turnId, afterSeq, signal);
    return;
  }
  const deadline = Date.now() + MAX_WAIT_MS;
  let relayed = false;
  for (;;) {
    const turn = await agent.getTurn(sessionId, turnId);
    if (!turn)
      throw new TransportError('TURN_NOT_FOUND', `turn "${turnId}" not found in session "${sessionId}"`);
    const seq = Math.max(afterSeq, turn.lastSeq ?? 0) + 1;
    if (turn.status === 'completed' && turn.result) {
      yield { type: 'stream.end', turnId, seq, result: turn.result };
      return;
    }
    if (turn.status === 'cancelled') {
      yield { type: 'turn.cancelled', turnId, seq };
      return;
    }
    if (turn.status === 'failed') {
      const code = turn.error?.code ?? 'TURN_FAILED';
      yield { type: 'error', turnId, seq, code, message: turn.error?.message ?? 'the turn failed' };
      return;
    }
    // Queued or running: here (its frames appear in the hub) or in another process (poll).
    if (hub.has(turnId)) {
      yield* hub.follow(turnId, afterSeq, signal);
      return;
    }
    if (relay && !relayed) {
      // Live frames from the process that streams it; its end may still have to come from storage.
      relayed = true;
      const outcome = yield* relay.follow(turnId, afterSeq, signal);
      if (outcome.ended) return;
      afterSeq = outcome.lastSeq;
      continue;
    }
    if (signal?.aborted || Date.now() > deadline) return;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
