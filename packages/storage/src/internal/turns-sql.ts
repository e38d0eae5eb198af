import type { StoredTurn, TurnClaim, TurnStatus } from '@stello-ai/session';
import { type RawBuilder, sql } from 'kysely';
import type { ControlEventInput } from '../control/control-channel';
import { instanceAliveSql } from '../control/pg-control-channel';
import { SessionError } from './domain-errors';
import type { SqlContext } from './sql-context';
import { toJsonParam } from './validate';

/**
 * What the turn ledger needs of the process's control channel: its identity (whose liveness
 * PostgreSQL tracks) and the NOTIFY of an event inside a statement. `PgControlChannel` fits.
 */
export interface TurnControlBinding {
  /** This process's instance id; 0 while the channel is not started (then only lease TTLs apply). */
  readonly instanceId: number;
  notifySql(event: ControlEventInput): RawBuilder<unknown>;
}

/** The error stored for a turn whose process died while it was queued or running. */
export const OWNER_DIED_ERROR = { code: 'TURN_FAILED', message: 'the process running the turn stopped' };

/** The error stored for a cancelled turn. */
function cancelledError(turnId: string): { code: string; message: string } {
  return { code: 'TURN_CANCELLED', message: `turn "${turnId}" was cancelled` };
}

const FINISHED: ReadonlySet<string> = new Set(['completed', 'cancelled', 'failed']);

/** The ledger columns of a turn-context row (see `selectTurnContext` with a claim). */
export interface TurnClaimColumns {
  claim_status: TurnStatus | null;
  prior_status: TurnStatus | null;
  prior_session_id: string | null;
  prior_hash: string | null;
  prior_result: unknown;
  prior_error: { code: string; message: string } | null;
  prior_last_seq: number | null;
  prior_owner_dead: boolean | null;
  prior_cancel_requested: boolean | null;
  running_turn_id: string | null;
}

/** True (as SQL) when the turn row `t` is open but its process is dead. */
export function ownerDeadSql(alias: string): RawBuilder<boolean> {
  const ref = sql.ref(`${alias}.owner_instance`);
  return sql<boolean>`(${sql.ref(`${alias}.status`)} IN ('running', 'queued') AND ${ref} IS NOT NULL
    AND NOT ${instanceAliveSql(sql`${ref}`)})`;
}

/**
 * The CTEs of a claim, placed before `lease`: `prior` is the turn id's existing row, as the
 * statement's snapshot sees it.
 */
export function priorCte(ctx: SqlContext, claim: TurnClaim): RawBuilder<unknown> {
  return sql`prior AS (
    SELECT t.session_id, t.request_hash, t.status, t.result, t.error, t.last_seq, ${ownerDeadSql('t')} AS owner_dead,
      t.cancel_requested_at IS NOT NULL AS cancel_requested
    FROM turns t WHERE t.space_id = ${ctx.spaceId} AND t.turn_id = ${claim.turnId}
  ),`;
}

/** The lease condition of a claim: no row of this id other than this very turn still open. */
export function claimLeaseCondition(sessionId: string, claim: TurnClaim): RawBuilder<unknown> {
  return sql`AND NOT EXISTS (SELECT 1 FROM prior p WHERE p.owner_dead OR p.cancel_requested
    OR p.status NOT IN ('queued', 'running')
    OR p.session_id <> ${sessionId} OR p.request_hash <> ${claim.requestHash}::text)`;
}

/**
 * The `claim` CTE, after `lease`: inserts the turn `running` when the lease was taken, `queued`
 * when it waits (`enqueue` only); a queued (or re-read) row of this very turn becomes `running`.
 */
export function claimCte(
  ctx: SqlContext,
  sessionId: string,
  claim: TurnClaim,
  instance: number | null,
): RawBuilder<unknown> {
  const enqueue = claim.concurrency === 'enqueue';
  return sql`, claim AS (
    INSERT INTO turns (space_id, turn_id, session_id, request_hash, status, owner_instance)
    SELECT ${ctx.spaceId}, ${claim.turnId}, ${sessionId}, ${claim.requestHash}::text,
      CASE WHEN EXISTS (SELECT 1 FROM lease) THEN 'running' ELSE 'queued' END, ${instance}::int
    WHERE EXISTS (SELECT 1 FROM lease) OR (${enqueue}::boolean AND NOT EXISTS (SELECT 1 FROM prior)
      AND EXISTS (SELECT 1 FROM sessions x WHERE x.id = ${sessionId} AND x.space_id = ${ctx.spaceId} AND x.status = 'active'))
    ON CONFLICT (space_id, turn_id) DO UPDATE SET status = 'running', owner_instance = EXCLUDED.owner_instance
      WHERE EXCLUDED.status = 'running' AND turns.status IN ('queued', 'running')
        AND turns.session_id = EXCLUDED.session_id AND turns.request_hash = EXCLUDED.request_hash
    RETURNING status
  )`;
}

/** The ledger columns a claim adds to the turn-context row. */
export function claimColumns(): RawBuilder<unknown> {
  return sql`, (SELECT c.status FROM claim c) AS claim_status, p.status AS prior_status,
    p.session_id AS prior_session_id, p.request_hash AS prior_hash, p.result AS prior_result,
    p.error AS prior_error, p.last_seq AS prior_last_seq, p.owner_dead AS prior_owner_dead,
    p.cancel_requested AS prior_cancel_requested`;
}

/** The running turn of the session `s` (named by `SESSION_BUSY`), read only when `busy` holds. */
export function runningTurnColumn(busy: RawBuilder<unknown>): RawBuilder<unknown> {
  return sql`, CASE WHEN ${busy} THEN (SELECT t.turn_id FROM turns t
      WHERE t.space_id = s.space_id AND t.session_id = s.id AND t.status = 'running'
      ORDER BY t.created_at DESC LIMIT 1) END AS running_turn_id`;
}

/** `TURN_ID_CONFLICT`: the id was used for another request or another session. */
export function turnIdConflict(turnId: string): SessionError {
  return new SessionError('TURN_ID_CONFLICT', `turn id "${turnId}" was used for a different request`, {
    details: { turnId },
  });
}

/**
 * What a claim found before it: `null` for a new id or this very turn still open; the stored
 * outcome of an id that ended (a dead owner's open turn reads as failed).
 *
 * @throws SessionError `TURN_ID_CONFLICT` for the id of another request or session
 */
export function finishedPrior(row: TurnClaimColumns, sessionId: string, claim: TurnClaim): StoredTurn | null {
  if (row.prior_status === null) return null;
  const tombstone = row.prior_hash === '' && row.prior_status === 'cancelled';
  if (row.prior_session_id !== sessionId || (!tombstone && row.prior_hash !== claim.requestHash)) {
    throw turnIdConflict(claim.turnId);
  }
  if (row.prior_owner_dead) {
    return { turnId: claim.turnId, sessionId, status: 'failed', error: { ...OWNER_DIED_ERROR } };
  }
  // Cancelled while it ran: it can no longer commit, so a retry gets the cancel at once.
  if (row.prior_cancel_requested && !FINISHED.has(row.prior_status)) {
    return { turnId: claim.turnId, sessionId, status: 'cancelled', error: cancelledError(claim.turnId) };
  }
  if (!FINISHED.has(row.prior_status)) return null;
  const turn: StoredTurn = { turnId: claim.turnId, sessionId, status: row.prior_status };
  if (row.prior_result !== null && row.prior_result !== undefined) turn.result = row.prior_result;
  if (row.prior_error) turn.error = row.prior_error;
  if (row.prior_last_seq !== null) turn.lastSeq = row.prior_last_seq;
  return turn;
}

/** The fence CTE of a commit: the turn row, locked, while still running and not cancelled. */
export function fenceCte(ctx: SqlContext, sessionId: string, turnId: string): RawBuilder<unknown> {
  return sql`fence AS (
    SELECT t.turn_id FROM turns t
    WHERE t.space_id = ${ctx.spaceId} AND t.turn_id = ${turnId} AND t.session_id = ${sessionId}
      AND t.status = 'running' AND t.cancel_requested_at IS NULL
    FOR UPDATE
  ),`;
}

/** The CTE that completes the fenced turn row, after the session update `turn`. */
export function completeTurnCte(
  turnId: string,
  result: unknown,
  lastSeq: number | undefined,
): RawBuilder<unknown> {
  return sql`, done AS (
    UPDATE turns t SET status = 'completed', result = ${toJsonParam(result ?? null, 'turn.result')}::jsonb,
      last_seq = ${lastSeq ?? null}::int, finished_at = now()
    FROM turn WHERE t.space_id = turn.space_id AND t.turn_id = ${turnId}
    RETURNING 1
  )`;
}

/** Why a fenced commit wrote nothing: the turn was cancelled, or its lease was lost. */
export async function explainFencedCommit(
  ctx: SqlContext,
  sessionId: string,
  turnId: string,
): Promise<SessionError | null> {
  const { rows } = await sql<{ status: string; cancelled: boolean }>`
    SELECT status, cancel_requested_at IS NOT NULL AS cancelled FROM turns
    WHERE space_id = ${ctx.spaceId} AND turn_id = ${turnId} AND session_id = ${sessionId}`.execute(ctx.db);
  const row = rows[0];
  if (row && (row.cancelled || row.status === 'cancelled')) {
    return new SessionError('TURN_CANCELLED', `turn "${turnId}" was cancelled`, { details: { turnId } });
  }
  return null;
}

/** A turn of the session; a dead owner's open turn reads as `failed`. */
export async function selectTurn(
  ctx: SqlContext,
  sessionId: string,
  turnId: string,
): Promise<StoredTurn | null> {
  const { rows } = await sql<{
    status: TurnStatus;
    owner_dead: boolean;
    result: unknown;
    error: { code: string; message: string } | null;
    last_seq: number | null;
    cancel_requested: boolean;
  }>`
    SELECT t.status, ${ownerDeadSql('t')} AS owner_dead, t.result, t.error, t.last_seq,
      t.cancel_requested_at IS NOT NULL AS cancel_requested FROM turns t
    WHERE t.space_id = ${ctx.spaceId} AND t.turn_id = ${turnId} AND t.session_id = ${sessionId}`.execute(
    ctx.db,
  );
  const row = rows[0];
  if (!row) return null;
  if (row.owner_dead) return { turnId, sessionId, status: 'failed', error: { ...OWNER_DIED_ERROR } };
  // A running turn asked to cancel can no longer commit: it is cancelled, whatever it still does.
  if (row.status === 'running' && row.cancel_requested) {
    return { turnId, sessionId, status: 'cancelled', error: cancelledError(turnId) };
  }
  const turn: StoredTurn = { turnId, sessionId, status: row.status };
  if (row.result !== null) turn.result = row.result;
  if (row.error) turn.error = row.error;
  if (row.last_seq !== null) turn.lastSeq = row.last_seq;
  return turn;
}

/** Marks an open turn failed or cancelled, in one statement. */
export async function markTurnFinished(
  ctx: SqlContext,
  sessionId: string,
  turnId: string,
  status: 'failed' | 'cancelled',
  error: { code: string; message: string },
): Promise<void> {
  await sql`
    UPDATE turns SET status = ${status}::text, error = ${toJsonParam(error, 'error')}::jsonb, finished_at = now()
    WHERE space_id = ${ctx.spaceId} AND turn_id = ${turnId} AND session_id = ${sessionId}
      AND status IN ('queued', 'running')`.execute(ctx.db);
}

/**
 * Requests a cancel in ONE statement: sets `cancel_requested_at` (a queued turn ends `cancelled`
 * at once), or inserts a `cancelled` tombstone for an unknown id, and with a control binding
 * publishes `turn.cancel` in the same statement. The status after it; `null` for an unknown session.
 *
 * @throws SessionError `TURN_ID_CONFLICT` when the id is a turn of another session
 */
export async function requestCancel(
  ctx: SqlContext,
  sessionId: string,
  turnId: string,
  control: TurnControlBinding | undefined,
): Promise<TurnStatus | null> {
  const error = toJsonParam(cancelledError(turnId), 'error');
  const notify = control
    ? sql`, note AS (SELECT ${control.notifySql({ kind: 'turn.cancel', spaceId: ctx.spaceId, sessionId, turnId })} FROM upd)`
    : sql``;
  const notified = control ? sql`(SELECT count(*) FROM note)` : sql`0`;
  const { rows } = await sql<{ found: boolean; status: TurnStatus | null; other: boolean; notified: string }>`
    WITH s AS (SELECT id, space_id FROM sessions WHERE id = ${sessionId} AND space_id = ${ctx.spaceId}),
    upd AS (
      UPDATE turns t SET cancel_requested_at = coalesce(t.cancel_requested_at, now()),
        status = CASE WHEN t.status = 'queued' THEN 'cancelled' ELSE t.status END,
        error = CASE WHEN t.status = 'queued' THEN ${error}::jsonb ELSE t.error END,
        finished_at = CASE WHEN t.status = 'queued' THEN now() ELSE t.finished_at END
      FROM s WHERE t.space_id = s.space_id AND t.turn_id = ${turnId} AND t.session_id = s.id
        AND t.status IN ('queued', 'running')
      RETURNING t.status
    ),
    ins AS (
      INSERT INTO turns (space_id, turn_id, session_id, request_hash, status, error, cancel_requested_at, finished_at)
      SELECT s.space_id, ${turnId}, s.id, '', 'cancelled', ${error}::jsonb, now(), now() FROM s
      WHERE NOT EXISTS (SELECT 1 FROM turns t WHERE t.space_id = s.space_id AND t.turn_id = ${turnId})
      ON CONFLICT (space_id, turn_id) DO NOTHING
      RETURNING status
    )${notify}
    SELECT EXISTS (SELECT 1 FROM s) AS found,
      coalesce((SELECT CASE WHEN u.status = 'running' THEN 'cancelled' ELSE u.status END FROM upd u),
        (SELECT i.status FROM ins i),
        (SELECT CASE WHEN ${ownerDeadSql('t')} THEN 'failed' ELSE t.status END FROM turns t
          WHERE t.space_id = ${ctx.spaceId} AND t.turn_id = ${turnId} AND t.session_id = ${sessionId})) AS status,
      EXISTS (SELECT 1 FROM turns t WHERE t.space_id = ${ctx.spaceId} AND t.turn_id = ${turnId}
        AND t.session_id <> ${sessionId}) AS other,
      ${notified} AS notified`.execute(ctx.db);
  const row = rows[0];
  if (!row?.found) return null;
  if (row.other) throw turnIdConflict(turnId);
  return row.status;
}
