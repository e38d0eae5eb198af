import { SessionError } from '../errors';
import type { StoredTurn, TurnClaim, TurnStatus } from '../storage';

/** One turn of the in-memory ledger (the `turns` table's row in memory). */
export interface LedgerTurn {
  sessionId: string;
  /** `''` for a cancel tombstone: any request of that id reads it as cancelled. */
  requestHash: string;
  status: TurnStatus;
  result?: unknown;
  error?: { code: string; message: string };
  lastSeq?: number;
  cancelRequested: boolean;
}

/** The ledger of one space: turn id → turn. */
export type TurnLedger = Map<string, LedgerTurn>;

const FINISHED: ReadonlySet<TurnStatus> = new Set(['completed', 'cancelled', 'failed']);

/** The outcome of checking a claim against the ledger before the lease is taken. */
export type ClaimCheck =
  | { kind: 'new' }
  | { kind: 'finished'; turn: StoredTurn }
  | { kind: 'same-turn-waiting' }
  | { kind: 'same-turn-open' };

/** Where a claim stands: a new id, a finished one (its outcome), or one already queued or running. */
export function checkClaim(ledger: TurnLedger, sessionId: string, claim: TurnClaim): ClaimCheck {
  const prior = ledger.get(claim.turnId);
  if (!prior) return { kind: 'new' };
  const tombstone = prior.requestHash === '' && prior.status === 'cancelled';
  if (prior.sessionId !== sessionId || (!tombstone && prior.requestHash !== claim.requestHash)) {
    throw turnIdConflict(claim.turnId);
  }
  if (FINISHED.has(prior.status)) return { kind: 'finished', turn: toStoredTurn(claim.turnId, prior) };
  // Cancelled while it ran: it can no longer commit, so a retry gets the cancel at once.
  if (prior.cancelRequested) {
    return {
      kind: 'finished',
      turn: { turnId: claim.turnId, sessionId, status: 'cancelled', error: cancelledError(claim.turnId) },
    };
  }
  return prior.status === 'queued' ? { kind: 'same-turn-waiting' } : { kind: 'same-turn-open' };
}

/** `TURN_ID_CONFLICT`: the id was used for another request or session. */
export function turnIdConflict(turnId: string): SessionError {
  return new SessionError('TURN_ID_CONFLICT', `turn id "${turnId}" was used for a different request`, {
    details: { turnId },
  });
}

/** The running turn of a session, if any. */
export function runningTurnOf(ledger: TurnLedger, sessionId: string): string | undefined {
  for (const [turnId, turn] of ledger) {
    if (turn.sessionId === sessionId && turn.status === 'running') return turnId;
  }
  return undefined;
}

/** A ledger turn as `SessionStorage.getTurn` returns it. */
export function toStoredTurn(turnId: string, turn: LedgerTurn): StoredTurn {
  // A running turn asked to cancel can no longer commit: it reads cancelled, as in PostgreSQL.
  if (turn.status === 'running' && turn.cancelRequested) {
    return { turnId, sessionId: turn.sessionId, status: 'cancelled', error: cancelledError(turnId) };
  }
  const stored: StoredTurn = { turnId, sessionId: turn.sessionId, status: turn.status };
  if (turn.result !== undefined) stored.result = structuredClone(turn.result);
  if (turn.error) stored.error = { ...turn.error };
  if (turn.lastSeq !== undefined) stored.lastSeq = turn.lastSeq;
  return stored;
}

/** Marks an open turn failed or cancelled; finished turns stay as they are. */
export function finishLedgerTurn(
  ledger: TurnLedger,
  sessionId: string,
  turnId: string,
  status: 'failed' | 'cancelled',
  error: { code: string; message: string },
): void {
  const turn = ledger.get(turnId);
  if (!turn || turn.sessionId !== sessionId || FINISHED.has(turn.status)) return;
  turn.status = status;
  turn.error = { code: error.code, message: error.message };
}

/** Requests a cancel (see `SessionStorage.requestTurnCancel`); the status after it. */
export function cancelLedgerTurn(ledger: TurnLedger, sessionId: string, turnId: string): TurnStatus {
  const turn = ledger.get(turnId);
  if (!turn) {
    ledger.set(turnId, {
      sessionId,
      requestHash: '',
      status: 'cancelled',
      error: cancelledError(turnId),
      cancelRequested: true,
    });
    return 'cancelled';
  }
  if (turn.sessionId !== sessionId) throw turnIdConflict(turnId);
  if (FINISHED.has(turn.status)) return turn.status;
  turn.cancelRequested = true;
  if (turn.status === 'queued') {
    turn.status = 'cancelled';
    turn.error = cancelledError(turnId);
  }
  return 'cancelled';
}

/** The stored error of a cancelled turn. */
export function cancelledError(turnId: string): { code: string; message: string } {
  return { code: 'TURN_CANCELLED', message: `turn "${turnId}" was cancelled` };
}
