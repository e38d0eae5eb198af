import type { KeyLimits, Logger } from '@stello-ai/runtime';
import { TransportError } from '../errors';

/** The per-key limits the transport asks before a turn (the runtime's `KeyLimits` satisfies it). */
export type TransportKeyLimits = Pick<KeyLimits, 'takeTurn' | 'openStream'>;

/** Where a turn was asked, for the `rate.limited` log line (and its metric). */
export interface AdmitContext {
  transport: 'rest' | 'ws';
  stream: boolean;
  requestId?: string;
  connectionId?: string;
}

const NOTHING_TO_RELEASE = () => {};

function refused(
  logger: Logger,
  keyId: string,
  limit: 'turns_per_minute' | 'concurrent_streams',
  retryAfterMs: number,
  context: AdmitContext,
): TransportError {
  logger.info('rate.limited', { ...context, userId: keyId, limit, retryAfterMs });
  const what = limit === 'turns_per_minute' ? 'turns per minute' : 'streams at once';
  return new TransportError('RATE_LIMITED', `this API key is over its limit of ${what}; retry later`, {
    details: { limit, retryAfterMs: Math.max(0, Math.ceil(retryAfterMs)) },
  });
}

/**
 * Admits one turn of the key (the user's active key) under its limits, in memory: a streamed turn
 * also takes one of the key's stream slots. Returns what to call once the turn has ended (it
 * frees the stream slot; idempotent).
 * @throws TransportError `RATE_LIMITED` (429) with `details.retryAfterMs`
 */
export function admitKeyTurn(
  limits: TransportKeyLimits | undefined,
  keyId: string,
  logger: Logger,
  context: AdmitContext,
): () => void {
  if (!limits) return NOTHING_TO_RELEASE;
  let release = NOTHING_TO_RELEASE;
  if (context.stream) {
    const slot = limits.openStream(keyId);
    if (!slot.allowed) throw refused(logger, keyId, 'concurrent_streams', slot.retryAfterMs, context);
    release = slot.release;
  }
  const turn = limits.takeTurn(keyId);
  if (!turn.allowed) {
    release();
    throw refused(logger, keyId, 'turns_per_minute', turn.retryAfterMs, context);
  }
  return release;
}

/**
 * The `Retry-After` header of an answer: whole seconds (at least 1) from the error's
 * `details.retryAfterMs` for every 429 (`RATE_LIMITED`, `TOO_MANY_TURNS`, …), 1 when it gives
 * none; `undefined` for any other status.
 */
export function retryAfterHeader(answer: { status: number; details?: unknown }): string | undefined {
  if (answer.status !== 429) return undefined;
  const ms = (answer.details as { retryAfterMs?: unknown } | undefined)?.retryAfterMs;
  return String(typeof ms === 'number' && ms > 0 ? Math.ceil(ms / 1000) : 1);
}
