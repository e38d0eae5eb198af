import { SessionArchivedError, SessionError, sessionNotFoundError } from '../errors';
import type { TurnCommit, TurnCommitResult } from '../storage';
import type { Message, SlotKey } from '../types';
import {
  checkOwner,
  checkRecords,
  copy,
  invalid,
  now,
  type StoredSession,
  type StoreState,
} from './store-support';

/** Writes a slot. Throws `SESSION_NOT_FOUND`. */
export function putSlot(state: StoreState, id: string, key: SlotKey, content: string): void {
  const session = state.sessions.get(id);
  if (!session) throw sessionNotFoundError(id);
  if (typeof content !== 'string') throw invalid(`slot "${key}" content must be a string`);
  session.slots[key] = content;
}

/** Deletes a slot (no-op when missing). Throws `SESSION_NOT_FOUND`. */
export function deleteSlot(state: StoreState, id: string, key: SlotKey): void {
  const session = state.sessions.get(id);
  if (!session) throw sessionNotFoundError(id);
  delete session.slots[key];
}

/** Appends records in order (a missing timestamp becomes now). Throws `SESSION_NOT_FOUND`. */
export function appendRecords(state: StoreState, id: string, records: Message[]): void {
  const session = state.sessions.get(id);
  if (!session) throw sessionNotFoundError(id);
  checkRecords(records);
  appendEntries(state, session, records, now());
}

/** Replaces every record of the session. Throws `SESSION_NOT_FOUND`. */
export function replaceRecords(state: StoreState, id: string, records: Message[]): void {
  const session = state.sessions.get(id);
  if (!session) throw sessionNotFoundError(id);
  checkRecords(records);
  session.records = [];
  appendEntries(state, session, records, now());
}

/** Keeps the newest `keepRecent` records. Throws `SESSION_NOT_FOUND` or `INVALID_ARGUMENT`. */
export function trimRecords(state: StoreState, id: string, keepRecent: number): void {
  if (!Number.isInteger(keepRecent) || keepRecent < 0) {
    throw invalid('keepRecent must be a non-negative integer', { keepRecent });
  }
  const session = state.sessions.get(id);
  if (!session) throw sessionNotFoundError(id);
  session.records = keepRecent === 0 ? [] : session.records.slice(-keepRecent);
}

/** Writes a turn atomically; see `SessionStorage.commitTurn`. */
export function commitTurn(state: StoreState, id: string, commit: TurnCommit): TurnCommitResult {
  const session = state.sessions.get(id);
  if (!session) throw sessionNotFoundError(id);
  if (session.status === 'archived') throw new SessionArchivedError(id);
  if (commit.expectedTurnCount !== undefined && commit.expectedTurnCount !== session.turnCount) {
    throw new SessionError('TURN_CONFLICT', `session "${id}" changed during the turn`, {
      details: { sessionId: id, expected: commit.expectedTurnCount, actual: session.turnCount },
    });
  }
  checkRecords(commit.records);
  if (commit.releaseLease !== undefined) checkOwner(commit.releaseLease);
  const ledgerTurn = commit.turn ? state.turns.get(commit.turn.turnId) : undefined;
  if (commit.turn) {
    if (!ledgerTurn || ledgerTurn.cancelRequested || ledgerTurn.status !== 'running') {
      throw new SessionError('TURN_CANCELLED', `turn "${commit.turn.turnId}" was cancelled`, {
        details: { turnId: commit.turn.turnId },
      });
    }
    if (commit.releaseLease === undefined || session.lease?.owner !== commit.releaseLease) {
      throw new SessionError('TURN_CONFLICT', `turn "${commit.turn.turnId}" lost its session's lease`, {
        details: { turnId: commit.turn.turnId, sessionId: id },
      });
    }
  }
  const at = now();
  appendEntries(state, session, commit.records, at);
  if (typeof commit.consumeInsight === 'string' && session.slots.insight === commit.consumeInsight) {
    delete session.slots.insight;
  }
  if (commit.countTurn) session.turnCount += 1;
  if (commit.releaseLease !== undefined && session.lease?.owner === commit.releaseLease) session.lease = null;
  if (ledgerTurn && commit.turn) {
    ledgerTurn.status = 'completed';
    ledgerTurn.result = structuredClone(commit.turn.result);
    if (commit.turn.lastSeq !== undefined) ledgerTurn.lastSeq = commit.turn.lastSeq;
  }
  session.lastActiveAt = at;
  session.updatedAt = at;
  return { turnCount: session.turnCount, lastActiveAt: at };
}

/**
 * Writes the synthesis into the main session's memory slot and each insight into its target,
 * atomically. Throws `SESSION_NOT_FOUND` (main or a target missing) or `NOT_MAIN_SESSION`.
 */
export function commitIntegration(
  state: StoreState,
  mainId: string,
  synthesis: string,
  insights: { sessionId: string; content: string }[],
): void {
  const main = state.sessions.get(mainId);
  if (!main) throw sessionNotFoundError(mainId);
  if (main.role !== 'main')
    throw new SessionError('NOT_MAIN_SESSION', `session "${mainId}" is not the main session`);
  if (typeof synthesis !== 'string') throw invalid('synthesis must be a string');
  for (const insight of insights) {
    if (!state.sessions.has(insight.sessionId)) throw sessionNotFoundError(insight.sessionId);
    if (typeof insight.content !== 'string') throw invalid('insight content must be a string');
  }
  main.slots.memory = synthesis;
  // Like the PostgreSQL store: a target archived (or the root itself) since integration read
  // the children is skipped rather than failing the whole integration.
  for (const insight of insights) {
    const target = state.sessions.get(insight.sessionId)!;
    if (target.role === 'standard' && target.status === 'active') target.slots.insight = insight.content;
  }
}

/** Writes a global (JSON-like) value; `undefined` is stored as `null`. */
export function putGlobal(state: StoreState, key: string, value: unknown): void {
  if (typeof key !== 'string' || key.length === 0) throw invalid('global key must be a non-empty string');
  state.globals.set(key, value === undefined ? null : copy(value));
}

export function appendEntries(
  state: StoreState,
  session: StoredSession,
  records: Message[],
  at: string,
): void {
  for (const record of records) {
    const message = copy(record);
    if (!message.timestamp) message.timestamp = at;
    session.records.push({ seq: state.nextSeq, message });
    state.nextSeq += 1;
  }
}
