import { isUuid } from '@stello-ai/db';
import type { LoadTurnContextOptions, Message, StoredTurn, TurnContextData } from '@stello-ai/session';
import { toMessage, toSessionMeta } from '../mappers';
import type { HistoryCache } from './history-cache';
import type { SqlContext } from './sql-context';
import { assertTurnClaim } from './turn-args';
import { assertLeaseClaim, releaseLease, selectTurnContext, sessionBusy } from './turn-context-sql';
import { finishedPrior } from './turns-sql';
import { assertCount } from './validate';

/** Re-reads of a turn context whose lease was taken on a newer row version than its snapshot. */
const MAX_STALE_REREADS = 3;

/**
 * The body of `PgSessionStorage.loadTurnContext` (see there): one statement that reads the turn's
 * context and, when asked, takes the lease and claims the ledger entry; the history window comes
 * from `history` when the session's records revision still matches.
 */
export async function readTurnContext(
  ctx: SqlContext,
  history: HistoryCache | null,
  instance: number | null,
  sessionId: string,
  options: LoadTurnContextOptions,
): Promise<TurnContextData | null> {
  assertCount(options?.maxRecords, 'maxRecords');
  const lease = options.lease;
  if (lease !== undefined) assertLeaseClaim(lease);
  if (!isUuid(sessionId)) return null;
  const { maxRecords } = options;
  const claim = lease ? options.turn : undefined;
  if (claim) assertTurnClaim(claim);
  const ledger = { ...(claim ? { claim } : {}), instance: instance };
  // Captured before the read: a commit may replace the entry while the statement runs.
  const cached = history?.get(sessionId, maxRecords);
  let row = await selectTurnContext(ctx, sessionId, maxRecords, lease, cached?.rev, ledger);
  for (let reread = 0; row && !row.lease_fresh && reread < MAX_STALE_REREADS; reread++) {
    row = await selectTurnContext(ctx, sessionId, maxRecords, lease, cached?.rev, ledger);
  }
  if (!row) {
    history?.delete(sessionId);
    return null;
  }
  let finishedTurn: StoredTurn | null = null;
  if (claim && lease) {
    try {
      finishedTurn = finishedPrior(row as Required<typeof row>, sessionId, claim);
    } catch (error) {
      // Never left holding a lease for a turn that will not run.
      if (row.lease_taken) await releaseLease(ctx, sessionId, lease.owner);
      throw error;
    }
    if (row.lease_taken && row.claim_status !== 'running') {
      // Another statement claimed this id meanwhile: give the lease back and wait like a busy turn.
      await releaseLease(ctx, sessionId, lease.owner);
      throw sessionBusy(sessionId, 0, { sameTurn: true });
    }
  }
  if (lease && row.status === 'active' && !row.lease_taken && !finishedTurn) {
    throw sessionBusy(sessionId, row.lease_remaining_ms, {
      turnId: row.running_turn_id ?? null,
      sameTurn: row.prior_status === 'running' || row.prior_status === 'queued',
    });
  }
  if (lease && row.status !== 'active') {
    // Refused by the caller from the meta; nothing was read, and nothing is cached.
    return {
      meta: toSessionMeta(row),
      turnCount: row.turn_count,
      systemPrompt: null,
      insight: null,
      memory: null,
      records: [],
      hasOlderRecords: false,
    };
  }
  if (finishedTurn) {
    return {
      meta: toSessionMeta(row),
      turnCount: row.turn_count,
      systemPrompt: null,
      insight: null,
      memory: null,
      records: [],
      hasOlderRecords: false,
      finishedTurn,
    };
  }
  let records: Message[];
  let hasOlderRecords: boolean;
  if (cached !== undefined && row.records === null && row.records_rev === cached.rev) {
    records = cached.records.slice();
    hasOlderRecords = cached.hasOlderRecords;
  } else {
    const rows = row.records ?? [];
    // One extra row was read to learn whether older records exist; it is the oldest, so drop it.
    hasOlderRecords = rows.length > maxRecords;
    records = (hasOlderRecords ? rows.slice(1) : rows).map(toMessage);
    history?.set(sessionId, row.records_rev, maxRecords, records.slice(), hasOlderRecords);
  }
  return {
    meta: toSessionMeta(row),
    turnCount: row.turn_count,
    systemPrompt: row.system_prompt,
    insight: row.insight,
    memory: row.memory,
    records,
    hasOlderRecords,
  };
}
