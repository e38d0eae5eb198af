import { SessionError } from '../errors';
import type { TurnClaim, TurnContextData, TurnLeaseClaim } from '../storage';
import { loadTurnContext } from './store-reads';
import { checkLease, checkOwner, type StoreState } from './store-support';
import { checkClaim, runningTurnOf } from './turn-ledger';

/**
 * Takes the turn lease of an active session and reads its turn context, atomically; see
 * `SessionStorage.loadTurnContext`. `null` for an unknown id; an archived session is read
 * without taking the lease. Throws `SESSION_BUSY` when another owner holds a live lease.
 */
export function leaseTurnContext(
  state: StoreState,
  clock: () => number,
  id: string,
  maxRecords: number,
  lease: TurnLeaseClaim,
  claim?: TurnClaim,
): TurnContextData | null {
  checkLease(lease);
  const session = state.sessions.get(id);
  if (!session) return null;
  if (session.status !== 'active') return loadTurnContext(state, id, maxRecords);
  const check = claim ? checkClaim(state.turns, id, claim) : { kind: 'new' as const };
  if (check.kind === 'finished') {
    const context = loadTurnContext(state, id, 0)!;
    return { ...context, finishedTurn: check.turn };
  }
  const now = clock();
  const held = session.lease;
  if (held && held.owner !== lease.owner && held.expiresAt > now) {
    const runningTurnId = runningTurnOf(state.turns, id);
    if (claim && check.kind === 'new' && claim.concurrency === 'enqueue') {
      state.turns.set(claim.turnId, {
        sessionId: id,
        requestHash: claim.requestHash,
        status: 'queued',
        cancelRequested: false,
      });
    }
    throw new SessionError('SESSION_BUSY', `session "${id}" is running another turn`, {
      details: {
        sessionId: id,
        retryAfterMs: Math.max(0, Math.ceil(held.expiresAt - now)),
        ...(runningTurnId ? { turnId: runningTurnId } : {}),
        ...(check.kind === 'same-turn-open' ? { sameTurn: true } : {}),
      },
    });
  }
  session.lease = { owner: lease.owner, expiresAt: now + lease.ttlMs };
  if (claim) {
    const prior = state.turns.get(claim.turnId);
    if (prior) prior.status = 'running';
    else
      state.turns.set(claim.turnId, {
        sessionId: id,
        requestHash: claim.requestHash,
        status: 'running',
        cancelRequested: false,
      });
  }
  return loadTurnContext(state, id, maxRecords);
}

/** Extends the lease `owner` holds to `ttlMs` from now; `false` when it does not hold it. */
export function renewTurnLease(
  state: StoreState,
  clock: () => number,
  id: string,
  owner: string,
  ttlMs: number,
): boolean {
  checkLease({ owner, ttlMs });
  const session = state.sessions.get(id);
  if (!session?.lease || session.lease.owner !== owner) return false;
  session.lease = { owner, expiresAt: clock() + ttlMs };
  return true;
}

/** Clears the lease when `owner` holds it; no-op otherwise. */
export function releaseTurnLease(state: StoreState, id: string, owner: string): void {
  checkOwner(owner);
  const session = state.sessions.get(id);
  if (session?.lease && session.lease.owner === owner) session.lease = null;
}
