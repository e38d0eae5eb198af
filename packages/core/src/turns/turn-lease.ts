import type { Session, TurnClaim, TurnDraft } from '@stello-ai/session';
import { isCodedError, SessionError } from '@stello-ai/session';
import { guard, sleep, throwIfAborted } from '../abort';

/** Lifetime of a turn lease unless renewed: a crashed instance blocks a session this long at most. */
export const DEFAULT_TURN_LEASE_TTL_MS = 120_000;
/** How long a turn waits for another instance's turn on the same session before `SESSION_BUSY`. */
export const DEFAULT_TURN_LEASE_WAIT_MS = 60_000;
/** First pause between two attempts to take a busy lease; it doubles up to the cap. */
export const TURN_LEASE_RETRY_MIN_MS = 25;
/** Longest pause between two attempts to take a busy lease. */
export const TURN_LEASE_RETRY_MAX_MS = 1_000;

/** How a turn takes, keeps and gives back the turn lease of its session. */
export interface TurnLeaseSettings {
  /** Unique per turn, so a late release can never free another turn's lease. */
  owner: string;
  /** Lifetime of the lease; renewed every third of it while the turn runs. */
  ttlMs: number;
  /** Longest wait for a lease another owner holds; 0 fails at once with `SESSION_BUSY`. */
  waitMs: number;
  /** Receives failures nobody else sees: a renewal or a release that failed, a lease that was lost. */
  onError(error: unknown): void;
  /** The turn's ledger entry, claimed with the lease (storages with a ledger). */
  claim?: TurnClaim;
  /**
   * Policy `reject`: a session busy with another turn fails at once with `SESSION_BUSY` (a busy
   * session running this very turn id is still waited for: that is a retry).
   */
  rejectBusy?: boolean;
  /** Called with a begun turn's error before its lease is released (must not throw). */
  beforeRelease?: (error: unknown) => Promise<void>;
}

/**
 * Begins a turn under the session's turn lease, waiting while another owner holds it: it retries
 * with a backoff from 25 ms doubling to 1 s (with jitter, so instances do not retry in step)
 * until `waitMs` has passed, then throws `SESSION_BUSY`. Each attempt is one storage read.
 *
 * An abort rejects at once with `ABORTED`; an attempt still in flight then releases the lease
 * it may still take, so an aborted turn never leaves the session busy.
 *
 * @throws SessionError `SESSION_BUSY` after `waitMs`, `ABORTED`, and whatever `beginTurn` throws
 */
export async function beginLeasedTurn(
  session: Session,
  input: string,
  signal: AbortSignal,
  lease: TurnLeaseSettings,
): Promise<TurnDraft> {
  const deadline = Date.now() + lease.waitMs;
  let pause = TURN_LEASE_RETRY_MIN_MS;
  for (;;) {
    try {
      return await attempt(session, input, signal, lease);
    } catch (error) {
      if (!isCodedError(error, 'SESSION_BUSY')) throw error;
      if (lease.rejectBusy && !isSameTurn(error)) throw error;
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new SessionError(
          'SESSION_BUSY',
          `session "${session.id}" is still running another turn after ${lease.waitMs} ms`,
          {
            cause: error,
            details: {
              sessionId: session.id,
              waitedMs: lease.waitMs,
              ...retryAfter(error),
              ...busyTurn(error),
            },
          },
        );
      }
      await sleep(Math.min(withJitter(pause), left), signal);
      pause = Math.min(pause * 2, TURN_LEASE_RETRY_MAX_MS);
    }
  }
}

/** One `beginTurn` with the lease; a draft that arrives after an abort is released. */
async function attempt(
  session: Session,
  input: string,
  signal: AbortSignal,
  lease: TurnLeaseSettings,
): Promise<TurnDraft> {
  throwIfAborted(signal);
  let late: Promise<TurnDraft> | undefined;
  try {
    return await guard(signal, () => {
      late = session.beginTurn(input, {
        signal,
        lease: { owner: lease.owner, ttlMs: lease.ttlMs, onReleaseError: lease.onError },
        ...(lease.claim ? { turn: lease.claim } : {}),
      });
      return late;
    });
  } catch (error) {
    if (signal.aborted && late) {
      late.then(
        (draft) => releaseDraft(draft, lease.onError),
        () => undefined,
      );
    }
    throw error;
  }
}

/** Releases the draft's lease; the draft reports its own failures, this catches a draft that breaks that promise. */
export async function releaseDraft(draft: TurnDraft, onError: (error: unknown) => void): Promise<void> {
  try {
    await draft.release();
  } catch (error) {
    onError(error);
  }
}

/** A running renewal; `stop()` is idempotent. */
export interface LeaseKeeper {
  stop(): void;
}

/**
 * Renews the draft's lease every `ttlMs / 3` while the turn runs, so only turns that run longer
 * than that cost a renewal (one storage write each). A renewal that finds the lease taken over
 * stops and reports it (the commit's turn-count guard then decides which turn wins); a failed
 * renewal is reported and tried again at the next tick. The timer never keeps the process alive.
 */
export function keepLeaseAlive(draft: TurnDraft, settings: TurnLeaseSettings): LeaseKeeper {
  const everyMs = Math.max(1, Math.floor(settings.ttlMs / 3));
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(tick, everyMs);
    timer.unref?.();
  };
  const tick = () => {
    draft.renewLease().then(
      (held) => {
        if (stopped) return;
        if (held) {
          schedule();
          return;
        }
        stopped = true;
        settings.onError(
          new SessionError('SESSION_BUSY', `the turn lease of session "${draft.sessionId}" was lost`, {
            details: { sessionId: draft.sessionId, owner: settings.owner },
          }),
        );
      },
      (error: unknown) => {
        if (stopped) return;
        settings.onError(error);
        schedule();
      },
    );
  };
  schedule();
  return {
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}

function withJitter(ms: number): number {
  return Math.round(ms * (0.75 + Math.random() * 0.5));
}

function busyTurn(error: unknown): { turnId?: string; sameTurn?: boolean } {
  const details = (error as { details?: { turnId?: unknown; sameTurn?: unknown } }).details;
  return {
    ...(typeof details?.turnId === 'string' ? { turnId: details.turnId } : {}),
    ...(details?.sameTurn === true ? { sameTurn: true } : {}),
  };
}

/** True for the `SESSION_BUSY` of a session running this very turn id (a retry joins it). */
export function isSameTurn(error: unknown): boolean {
  return (error as { details?: { sameTurn?: unknown } }).details?.sameTurn === true;
}

function retryAfter(error: unknown): { retryAfterMs?: number } {
  const value = (error as { details?: { retryAfterMs?: unknown } }).details?.retryAfterMs;
  return typeof value === 'number' ? { retryAfterMs: value } : {};
}
