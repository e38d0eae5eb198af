import { isUuid } from '@stello-ai/db';
import { SessionError } from './domain-errors';
import { assertText } from './validate';

/** Checks a turn id: a UUID. */
export function assertTurnId(turnId: unknown): asserts turnId is string {
  if (!isUuid(turnId)) {
    throw new SessionError('INVALID_ARGUMENT', 'turnId must be a UUID', { details: { field: 'turnId' } });
  }
}

/** Checks a ledger claim: a UUID turn id, a request hash and a known concurrency policy. */
export function assertTurnClaim(claim: unknown): void {
  const { turnId, requestHash, concurrency } = (claim ?? {}) as Record<string, unknown>;
  assertTurnId(turnId);
  assertText(requestHash, 'turn.requestHash');
  if (concurrency !== 'enqueue' && concurrency !== 'reject') {
    throw new SessionError('INVALID_ARGUMENT', 'turn.concurrency must be enqueue or reject', {
      details: { field: 'turn.concurrency' },
    });
  }
}
