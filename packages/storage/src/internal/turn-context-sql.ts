import type { TurnClaim, TurnLeaseClaim } from '@stello-ai/session';
import { type RawBuilder, sql } from 'kysely';
import { instanceAliveSql } from '../control/pg-control-channel';
import type { RecordDbRow, SessionDbRow } from '../mappers';
import { SessionError } from './domain-errors';
import { runHot } from './prepared';
import { RECORD_COLUMNS } from './records-sql';
import { SESSION_COLUMNS } from './sessions-sql';
import type { SqlContext } from './sql-context';
import {
  claimColumns,
  claimCte,
  claimLeaseCondition,
  priorCte,
  runningTurnColumn,
  type TurnClaimColumns,
} from './turns-sql';
import { assertText } from './validate';

/** Longest lease PostgreSQL's `int` parameter (and common sense) allows: about 24 days. */
const MAX_LEASE_TTL_MS = 2_147_483_647;

/** A turn-context row: the session, its three prompt slots, the newest records window and the lease outcome. */
export interface TurnContextDbRow extends SessionDbRow, Partial<TurnClaimColumns> {
  system_prompt: string | null;
  insight: string | null;
  memory: string | null;
  /**
   * `null` when the read was skipped: another owner holds the lease, or the records revision is
   * still the caller's `knownRev` (its cached window is exact).
   */
  records: RecordDbRow[] | null;
  /** The session's records revision (see `bumpRecordsRev`). */
  records_rev: number;
  /** True when this statement took (or re-took) the lease. */
  lease_taken: boolean;
  /**
   * False when the lease was taken on a row version newer than the statement's snapshot (a turn
   * committed while the statement waited for the row lock): the rest of the row may be stale.
   */
  lease_fresh: boolean;
  /** Milliseconds left on the lease as the snapshot saw it; 0 when none or lapsed. */
  lease_remaining_ms: number;
}

/** Checks a lease claim: a non-empty owner and a ttl of 1 ms up to about 24 days. */
export function assertLeaseClaim(lease: unknown): asserts lease is TurnLeaseClaim {
  if (typeof lease !== 'object' || lease === null) {
    throw new SessionError('INVALID_ARGUMENT', 'lease must be an object', { details: { field: 'lease' } });
  }
  const { owner, ttlMs } = lease as Partial<TurnLeaseClaim>;
  assertLeaseOwner(owner);
  assertLeaseTtl(ttlMs);
}

/** Checks a lease owner: non-empty text PostgreSQL can store. */
export function assertLeaseOwner(owner: unknown): asserts owner is string {
  assertText(owner, 'lease.owner');
  if (owner.length === 0) {
    throw new SessionError('INVALID_ARGUMENT', 'lease.owner must be a non-empty string', {
      details: { field: 'lease.owner' },
    });
  }
}

/** Checks a lease lifetime: a positive integer number of milliseconds. */
export function assertLeaseTtl(ttlMs: unknown): asserts ttlMs is number {
  if (typeof ttlMs !== 'number' || !Number.isInteger(ttlMs) || ttlMs < 1 || ttlMs > MAX_LEASE_TTL_MS) {
    throw new SessionError(
      'INVALID_ARGUMENT',
      `lease.ttlMs must be an integer from 1 to ${MAX_LEASE_TTL_MS}`,
      {
        details: { field: 'lease.ttlMs' },
      },
    );
  }
}

/** The `SESSION_BUSY` error of a session whose lease another owner holds (naming its turn when known). */
export function sessionBusy(
  sessionId: string,
  retryAfterMs: number,
  turn: { turnId?: string | null; sameTurn?: boolean } = {},
): SessionError {
  return new SessionError('SESSION_BUSY', `session "${sessionId}" is running another turn`, {
    details: {
      sessionId,
      retryAfterMs,
      ...(turn.turnId ? { turnId: turn.turnId } : {}),
      ...(turn.sameTurn ? { sameTurn: true } : {}),
    },
  });
}

/** The ledger part of a turn-context read: the turn to claim and this process's instance id. */
export interface TurnLedgerRead {
  claim?: TurnClaim;
  /** The control channel's instance id, recorded with the lease; `null` without one. */
  instance: number | null;
}

/** `now() + ttl`, as SQL. */
function expiresIn(ttlMs: number): RawBuilder<unknown> {
  return sql`now() + ${ttlMs}::int * interval '1 millisecond'`;
}

/**
 * Reads a turn's context in ONE statement: the session row, its system prompt, insight and
 * memory slots, and the newest `maxRecords + 1` records (the extra one tells whether older ones
 * exist), read backwards on the `(session_id, id)` index. `null` when the session is not in the
 * space. With `knownRev`, the records are left out (`null`) when the session's records revision
 * still equals it.
 *
 * With `lease`, a data-modifying CTE takes the lease of the active session in the same statement
 * when it is free, lapsed or already this owner's; concurrent takers queue on the row lock and
 * re-check the condition on the newest row version, so exactly one wins. When another owner
 * holds it, the slot and record reads are skipped (`records` is `null`, `lease_taken` false).
 */
export async function selectTurnContext(
  ctx: SqlContext,
  sessionId: string,
  maxRecords: number,
  lease?: TurnLeaseClaim,
  knownRev?: number,
  ledger: TurnLedgerRead = { instance: null },
): Promise<TurnContextDbRow | null> {
  const claim = lease ? ledger.claim : undefined;
  const leaseCte = lease
    ? sql`WITH ${claim ? priorCte(ctx, claim) : sql``} lease AS (
        UPDATE sessions
        SET turn_lease_owner = ${lease.owner}::text, turn_lease_expires_at = ${expiresIn(lease.ttlMs)},
          turn_lease_instance = ${ledger.instance}::int
        WHERE id = ${sessionId} AND space_id = ${ctx.spaceId} AND status = 'active'
          AND (turn_lease_owner IS NULL OR turn_lease_expires_at <= now() OR turn_lease_owner = ${lease.owner}::text
            OR (turn_lease_instance IS NOT NULL AND NOT ${instanceAliveSql(sql`turn_lease_instance`)}))
          ${claim ? claimLeaseCondition(sessionId, claim) : sql``}
        RETURNING turn_count, last_active_at
      )${claim ? claimCte(ctx, sessionId, claim, ledger.instance) : sql``}`
    : sql``;
  // Without a lease everything is read; with one, nothing more is read for a busy session.
  // With a lease, only a session whose lease this statement took is read: an archived session is
  // refused from its row alone, before any slot or record is read (or cached).
  const read = lease ? sql`EXISTS (SELECT 1 FROM lease)` : sql`true`;
  // The window, the bulk of the read, is sent only when the caller's copy is not exact.
  const readWindow = knownRev === undefined ? read : sql`${read} AND s.records_rev <> ${knownRev}::bigint`;
  const leaseColumns = lease
    ? sql`EXISTS (SELECT 1 FROM lease) AS lease_taken,
        coalesce((SELECT l.turn_count = s.turn_count AND l.last_active_at = s.last_active_at FROM lease l), true)
          AS lease_fresh,
        coalesce(greatest(0, ceil(extract(epoch FROM s.turn_lease_expires_at - now()) * 1000)), 0)::int
          AS lease_remaining_ms`
    : sql`false AS lease_taken, true AS lease_fresh, 0 AS lease_remaining_ms`;
  // Taking a lease needs no durable commit: lost in a crash, it is free again, which is what a
  // crash should do to it. Skipping the WAL flush for this statement halves a turn's flush waits.
  const syncCommitOff =
    lease && ctx.autocommit ? sql`, (SELECT set_config('synchronous_commit', 'off', true)) AS cfg` : sql``;
  const rows = await runHot(
    ctx,
    sql<TurnContextDbRow>`
    ${leaseCte}
    SELECT ${SESSION_COLUMNS}, s.records_rev, ${leaseColumns}${claim ? claimColumns() : sql``}${
      lease ? runningTurnColumn(sql`NOT ${read}`) : sql``
    },
      CASE WHEN ${read} THEN (SELECT d.content FROM session_data d
        WHERE d.session_id = s.id AND d.space_id = s.space_id AND d.key = 'system_prompt') END AS system_prompt,
      CASE WHEN ${read} THEN (SELECT d.content FROM session_data d
        WHERE d.session_id = s.id AND d.space_id = s.space_id AND d.key = 'insight') END AS insight,
      CASE WHEN ${read} THEN (SELECT d.content FROM session_data d
        WHERE d.session_id = s.id AND d.space_id = s.space_id AND d.key = 'memory') END AS memory,
      -- Positional arrays, newest first: building them costs PostgreSQL a fraction of json_agg
      -- over whole rows (keys per row plus a sort), and the window is the bulk of a turn's read.
      CASE WHEN ${readWindow} THEN (SELECT coalesce(json_agg(json_build_array(
          w.id, w.role, w.content, w.tool_calls, w.tool_call_id, w.metadata, w."timestamp")), '[]'::json) FROM (
          SELECT ${RECORD_COLUMNS} FROM records r
          WHERE r.session_id = s.id AND r.space_id = s.space_id
          ORDER BY r.id DESC LIMIT ${maxRecords + 1}
        ) w) END AS records
    FROM sessions s${claim ? sql` LEFT JOIN prior p ON true` : sql``}${syncCommitOff}
    WHERE s.id = ${sessionId} AND s.space_id = ${ctx.spaceId}`,
  );
  const row = rows[0];
  if (!row) return null;
  return { ...row, records: row.records === null ? null : fromRecordTuples(row.records) };
}

type RecordTuple = [
  RecordDbRow['id'],
  RecordDbRow['role'],
  RecordDbRow['content'],
  RecordDbRow['tool_calls'],
  RecordDbRow['tool_call_id'],
  RecordDbRow['metadata'],
  RecordDbRow['timestamp'],
];

/** The window's tuples (newest first) as record rows, oldest first. */
function fromRecordTuples(tuples: unknown): RecordDbRow[] {
  const list = tuples as RecordTuple[];
  const records: RecordDbRow[] = new Array(list.length);
  for (let i = 0, j = list.length - 1; j >= 0; i++, j--) {
    const [id, role, content, tool_calls, tool_call_id, metadata, timestamp] = list[j]!;
    records[i] = { id, role, content, tool_calls, tool_call_id, metadata, timestamp };
  }
  return records;
}

/**
 * The `SET` items of `commitTurn` that clear the lease when `owner` holds it, and leave it alone
 * otherwise (both read the old owner, as `SET` expressions do).
 */
export function releaseLeaseSet(owner: string | undefined): RawBuilder<unknown> {
  if (owner === undefined) return sql``;
  return sql`,
    turn_lease_owner = CASE WHEN turn_lease_owner = ${owner}::text THEN NULL ELSE turn_lease_owner END,
    turn_lease_expires_at = CASE WHEN turn_lease_owner = ${owner}::text THEN NULL ELSE turn_lease_expires_at END,
    turn_lease_instance = CASE WHEN turn_lease_owner = ${owner}::text THEN NULL ELSE turn_lease_instance END`;
}

/** Extends `owner`'s lease to `ttlMs` from now, in one statement; false when `owner` does not hold it. */
export async function renewLease(
  ctx: SqlContext,
  sessionId: string,
  owner: string,
  ttlMs: number,
): Promise<boolean> {
  const { rows } = await sql<{ id: string }>`
    UPDATE sessions SET turn_lease_expires_at = ${expiresIn(ttlMs)}
    WHERE id = ${sessionId} AND space_id = ${ctx.spaceId} AND turn_lease_owner = ${owner}::text
    RETURNING id`.execute(ctx.db);
  return rows.length > 0;
}

/** Clears the lease when `owner` holds it, in one statement. */
export async function releaseLease(ctx: SqlContext, sessionId: string, owner: string): Promise<void> {
  await sql`
    UPDATE sessions SET turn_lease_owner = NULL, turn_lease_expires_at = NULL, turn_lease_instance = NULL
    WHERE id = ${sessionId} AND space_id = ${ctx.spaceId} AND turn_lease_owner = ${owner}::text`.execute(
    ctx.db,
  );
}
