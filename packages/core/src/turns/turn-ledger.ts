import { createHash } from 'node:crypto';
import type {
  SessionErrorCode,
  SessionStorage,
  StoredTurn,
  TurnConcurrency,
  TurnStatus,
} from '@stello-ai/session';
import { isCodedError, SessionError } from '@stello-ai/session';
import type { EngineTurnResult } from '../types';
import type { LocalTurn } from './local-turns';
import { isSameTurn } from './turn-lease';

export type { TurnConcurrency, TurnStatus } from '@stello-ai/session';

/** Progress of a running turn, in order, from every round (see `TurnOptions.onEvent`). */
export type TurnProgressEvent =
  | { type: 'delta'; text: string }
  | { type: 'tool.call'; callId: string; name: string; input: unknown }
  | { type: 'tool.result'; callId: string; ok: boolean; output?: unknown; error?: string };

/** A turn as `StelloAgent.getTurn` reports it. */
export interface TurnInfo {
  turnId: string;
  sessionId: string;
  status: TurnStatus;
  /** The completed turn's result. */
  result?: EngineTurnResult;
  /** Why a failed or cancelled turn ended. */
  error?: { code: string; message: string };
  lastSeq?: number;
}

/** The turn policies an agent accepts. */
export const TURN_CONCURRENCIES: ReadonlySet<string> = new Set<TurnConcurrency>(['enqueue', 'reject']);

/**
 * The hash a retry must match: what was asked (the kind of request and its input). Turns and
 * streams produce the same stored result, so they share the kind.
 */
export function requestHash(input: string): string {
  return createHash('sha256')
    .update(JSON.stringify(['turn', input]))
    .digest('hex');
}

/** `TURN_CANCELLED`: the turn was cancelled; nothing of it was written. */
export function turnCancelledError(turnId: string): SessionError {
  return new SessionError('TURN_CANCELLED', `turn "${turnId}" was cancelled`, { details: { turnId } });
}

/** `TURN_ID_CONFLICT`: the turn id was used for another input or session. */
export function turnIdConflictError(turnId: string): SessionError {
  return new SessionError('TURN_ID_CONFLICT', `turn id "${turnId}" was used for a different request`, {
    details: { turnId },
  });
}

/** The result a completed turn stored (`{turn:{…}}`) as an engine result. */
export function storedResult(turnId: string, stored: unknown): EngineTurnResult {
  const turn = (stored as { turn?: EngineTurnResult['turn'] } | null)?.turn;
  if (!turn) {
    throw new SessionError('INVALID_ARGUMENT', `turn "${turnId}" has no stored result`, {
      details: { turnId },
    });
  }
  return { turnId, turn };
}

/** A stored turn as `getTurn` reports it. */
export function toTurnInfo(stored: StoredTurn): TurnInfo {
  const record: TurnInfo = { turnId: stored.turnId, sessionId: stored.sessionId, status: stored.status };
  if (stored.status === 'completed' && stored.result !== undefined) {
    record.result = storedResult(stored.turnId, stored.result);
  }
  if (stored.error) record.error = stored.error;
  if (stored.lastSeq !== undefined) record.lastSeq = stored.lastSeq;
  return record;
}

/**
 * What a resubmitted turn id that already ended answers: its stored result, or its error again
 * (`TURN_CANCELLED` for a cancelled one).
 */
export function replayFinishedTurn(stored: StoredTurn): EngineTurnResult {
  if (stored.status === 'completed') return storedResult(stored.turnId, stored.result);
  if (stored.status === 'cancelled') throw turnCancelledError(stored.turnId);
  const error = stored.error ?? { code: 'LLM_ERROR', message: `turn "${stored.turnId}" failed` };
  // Stored codes come from this layer's own errors (or the ledger's TURN_FAILED for a dead process).
  throw new SessionError(error.code as SessionErrorCode, error.message, {
    details: { turnId: stored.turnId },
  });
}

/** The `{code, message}` a failed or cancelled turn stores. */
export function storedError(error: unknown): { code: string; message: string } {
  const code = (error as { code?: unknown })?.code;
  const message = error instanceof Error ? error.message : String(error);
  return { code: typeof code === 'string' ? code : 'INTERNAL', message: message.slice(0, 2_000) };
}

/** A storage with the turn ledger's optional methods. */
export type LedgerStorage = SessionStorage &
  Required<Pick<SessionStorage, 'getTurn' | 'finishTurn' | 'requestTurnCancel'>>;

export function hasLedger(storage: SessionStorage): storage is LedgerStorage {
  return (
    typeof storage.getTurn === 'function' &&
    typeof storage.finishTurn === 'function' &&
    typeof storage.requestTurnCancel === 'function'
  );
}

/**
 * False for the errors of a turn whose ledger entry is not this submission's to finish: the id
 * belongs to another request, or it is still running elsewhere (a retry waited for it).
 */
export function ownsLedgerEntry(error: unknown): boolean {
  if (isCodedError(error, 'TURN_ID_CONFLICT')) return false;
  return !(isCodedError(error, 'SESSION_BUSY') && isSameTurn(error));
}

/** True when a turn ended by a cancel or an abort (recorded `cancelled`, not reported as a failure). */
export function isCancel(error: unknown, local: LocalTurn): boolean {
  return local.cancelled || isCodedError(error, 'ABORTED') || isCodedError(error, 'TURN_CANCELLED');
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function assertTurnId(turnId: unknown): asserts turnId is string {
  if (typeof turnId !== 'string' || !UUID.test(turnId)) {
    throw new SessionError('INVALID_ARGUMENT', 'turnId must be a UUID', { details: { field: 'turnId' } });
  }
}

export function turnNotFoundError(turnId: string): SessionError {
  return new SessionError('TURN_NOT_FOUND', `turn "${turnId}" not found`, { details: { turnId } });
}
