import { isUuid } from '@stello-ai/db';
import type { Message, TurnCommit, TurnCommitResult } from '@stello-ai/session';
import { sql } from 'kysely';
import { type RecordDbRow, toIso, toMessage } from '../mappers';
import { SessionArchivedError, SessionError, sessionNotFoundError } from './domain-errors';
import type { HistoryCache } from './history-cache';
import { runHot } from './prepared';
import { insertRecordsFrom } from './records-sql';
import type { SqlContext } from './sql-context';
import { assertTurnId } from './turn-args';
import { assertLeaseOwner, releaseLeaseSet } from './turn-context-sql';
import { completeTurnCte, explainFencedCommit, fenceCte } from './turns-sql';
import { assertCount, assertJsonObject, assertText, toRecordsParam } from './validate';

/** The body of `PgSessionStorage.commitTurn` (see there): one statement, a second only to say why it wrote nothing. */
export async function writeTurn(
  ctx: SqlContext,
  history: HistoryCache | null,
  sessionId: string,
  commit: TurnCommit,
): Promise<TurnCommitResult> {
  assertJsonObject(commit, 'commit');
  const recordsJson = toRecordsParam(commit.records);
  const consume = commit.consumeInsight ?? null;
  if (consume !== null) assertText(consume, 'consumeInsight');
  if (commit.expectedTurnCount !== undefined) assertCount(commit.expectedTurnCount, 'expectedTurnCount');
  if (commit.releaseLease !== undefined) assertLeaseOwner(commit.releaseLease);
  if (!isUuid(sessionId)) throw sessionNotFoundError(sessionId);

  const writesRecords = commit.records.length > 0;
  const turnEntry = commit.turn;
  if (turnEntry !== undefined) assertTurnId(turnEntry.turnId);
  const fenced =
    turnEntry === undefined
      ? sql``
      : sql`AND EXISTS (SELECT 1 FROM fence)${
          commit.releaseLease === undefined
            ? sql``
            : sql` AND turn_lease_owner = ${commit.releaseLease}::text`
        }`;
  const rows = await runHot(
    ctx,
    sql<{ turn_count: number; last_active_at: Date; records_rev: number }>`
    WITH ${turnEntry === undefined ? sql`` : fenceCte(ctx, sessionId, turnEntry.turnId)} turn AS (
      UPDATE sessions
      SET turn_count = turn_count + ${commit.countTurn === true ? 1 : 0}::int,
          records_rev = records_rev + ${writesRecords ? 1 : 0}::int,
          last_active_at = now(),
          updated_at = now()${releaseLeaseSet(commit.releaseLease)}
      WHERE id = ${sessionId} AND space_id = ${ctx.spaceId} AND status = 'active'
        ${commit.expectedTurnCount === undefined ? sql`` : sql`AND turn_count = ${commit.expectedTurnCount}`}
        ${fenced}
      RETURNING id, space_id, turn_count, last_active_at, records_rev
    )${turnEntry === undefined ? sql`` : completeTurnCte(turnEntry.turnId, turnEntry.result, turnEntry.lastSeq)},
    written AS (${insertRecordsFrom(sql`turn`, recordsJson)} RETURNING 1)
    ${
      consume === null
        ? sql``
        : sql`, consumed AS (
            DELETE FROM session_data d USING turn
            WHERE d.session_id = turn.id AND d.space_id = turn.space_id AND d.key = 'insight'
              AND d.content = ${consume}::text
            RETURNING 1
          )`
    }
    SELECT turn_count, last_active_at, records_rev FROM turn`,
  ).catch((error: unknown) => {
    // Whether it committed is unknown (a lost connection): the next read sends the window.
    history?.delete(sessionId);
    throw error;
  });
  const row = rows[0];
  if (row) {
    if (writesRecords) history?.append(sessionId, row.records_rev, toCachedMessages(recordsJson));
    return { turnCount: row.turn_count, lastActiveAt: toIso(row.last_active_at) };
  }

  if (turnEntry !== undefined) {
    const fencedOut = await explainFencedCommit(ctx, sessionId, turnEntry.turnId);
    if (fencedOut) throw fencedOut;
  }
  const current = await ctx.db
    .selectFrom('sessions')
    .select(['status', 'turn_count'])
    .where('id', '=', sessionId)
    .where('space_id', '=', ctx.spaceId)
    .executeTakeFirst();
  if (!current) throw sessionNotFoundError(sessionId);
  if (current.status === 'archived') {
    throw new SessionArchivedError(sessionId);
  }
  if (turnEntry !== undefined && current.turn_count === commit.expectedTurnCount) {
    throw new SessionError('TURN_CONFLICT', `turn "${turnEntry.turnId}" lost its session's turn lease`, {
      details: { sessionId, turnId: turnEntry.turnId, reason: 'lease_lost' },
    });
  }
  throw new SessionError(
    'TURN_CONFLICT',
    `session "${sessionId}" has turn count ${current.turn_count}, expected ${String(commit.expectedTurnCount)}`,
    { details: { sessionId, expected: commit.expectedTurnCount, actual: current.turn_count } },
  );
}

/**
 * The records a commit wrote, as a read would return them, parsed from the JSON sent to
 * PostgreSQL (so later changes to the caller's objects cannot reach the cache). `null` when one
 * has no exact ISO timestamp: its stored time is PostgreSQL's clock or parsing, unknown here.
 */
function toCachedMessages(recordsJson: string): Message[] | null {
  const params = JSON.parse(recordsJson) as Array<
    Partial<RecordDbRow> & Pick<RecordDbRow, 'role' | 'content'>
  >;
  const messages: Message[] = [];
  for (const param of params) {
    const timestamp = param.timestamp;
    if (typeof timestamp !== 'string' || new Date(timestamp).toISOString() !== timestamp) return null;
    messages.push(
      toMessage({
        id: 0,
        role: param.role,
        content: param.content,
        tool_calls: param.tool_calls ?? null,
        tool_call_id: param.tool_call_id ?? null,
        metadata: param.metadata ?? null,
        timestamp,
      }),
    );
  }
  return messages;
}
