import { isUuid } from '@stello-ai/db';
import type {
  ChildSessionSpec,
  ListRecordsOptions,
  LoadTurnContextOptions,
  Message,
  SessionMeta,
  SessionRow,
  SessionStorage,
  SlotKey,
  StoredTurn,
  TurnCommit,
  TurnCommitResult,
  TurnContextData,
  TurnStatus,
} from '@stello-ai/session';
import { sql } from 'kysely';
import type pg from 'pg';
import { SessionArchivedError, SessionError, sessionNotFoundError } from './internal/domain-errors';
import { HistoryCache } from './internal/history-cache';
import { runHot } from './internal/prepared';
import { appendRecords, bumpRecordsRev, insertRecordsFrom, listRecords } from './internal/records-sql';
import { insertChild, insertRoot, selectSession } from './internal/sessions-sql';
import { deleteSlot, getSlot, putSlot } from './internal/slots-sql';
import { createSqlContext, type PgTarget, type SqlContext } from './internal/sql-context';
import { runInTransaction } from './internal/transaction';
import {
  assertLeaseClaim,
  assertLeaseOwner,
  assertLeaseTtl,
  releaseLease,
  releaseLeaseSet,
  renewLease,
  selectTurnContext,
  sessionBusy,
} from './internal/turn-context-sql';
import {
  completeTurnCte,
  explainFencedCommit,
  fenceCte,
  finishedPrior,
  markTurnFinished,
  requestCancel,
  selectTurn,
  type TurnControlBinding,
} from './internal/turns-sql';
import {
  assertCount,
  assertJsonObject,
  assertLabel,
  assertSlotKey,
  assertTags,
  assertText,
  toJsonParam,
  toRecordsParam,
} from './internal/validate';
import { type RecordDbRow, toIso, toMessage, toSessionMeta, toSessionRow } from './mappers';
import { withPgErrors } from './pg-errors';

/** Sessions whose history window one pool-bound storage keeps by default. */
export const DEFAULT_HISTORY_CACHE_SESSIONS = 32;

/** Options of `PgSessionStorage` (and `PgMainStorage`). */
export interface PgSessionStorageOptions {
  /**
   * How many sessions' history windows to keep in memory (least recently used first out), so a
   * turn reads none of the records it already knows: its one read statement compares the
   * session's records revision and sends the window only when another writer changed it.
   * Only a storage built on a pool caches; `0` turns it off. Default 32.
   */
  historyCacheSessions?: number;
  /**
   * Sends the two statements of every turn as named prepared statements, parsed and planned once
   * per connection. Turn it off behind a pooler that cannot keep named statements per client
   * (PgBouncer in transaction mode before 1.21, or without `max_prepared_statements`). Default true.
   */
  preparedStatements?: boolean;
  /**
   * The process's control channel (`PgControlChannel`): turn leases record its instance id, so a
   * session whose turn process died accepts a new turn at once (its lease and ledger rows are seen
   * as dead through PostgreSQL's advisory locks), and a cancel publishes `turn.cancel` in its own
   * statement. Without it (or behind a transaction pooler, where advisory locks do not hold) only
   * the lease TTL frees a dead process's session.
   */
  control?: TurnControlBinding;
}

/**
 * Checks `PgSessionStorageOptions` without building anything.
 * @throws SessionError `INVALID_ARGUMENT` naming the bad option
 */
export function assertStorageOptions(options: PgSessionStorageOptions): void {
  if (typeof options !== 'object' || options === null) {
    throw new SessionError('INVALID_ARGUMENT', 'storage options must be an object', {
      details: { field: 'options' },
    });
  }
  if (options.preparedStatements !== undefined && typeof options.preparedStatements !== 'boolean') {
    throw new SessionError('INVALID_ARGUMENT', 'preparedStatements must be a boolean', {
      details: { field: 'preparedStatements' },
    });
  }
  assertCount(options.historyCacheSessions ?? DEFAULT_HISTORY_CACHE_SESSIONS, 'historyCacheSessions');
}

const SESSION_STATUSES: ReadonlySet<string> = new Set(['active', 'archived']);

/** True for PostgreSQL's unique violation of the sessions primary key (the id already exists). */
function isPrimaryKeyViolation(error: unknown): boolean {
  const { code, constraint } = (error ?? {}) as { code?: unknown; constraint?: unknown };
  return code === '23505' && constraint === 'sessions_pkey';
}
const MESSAGE_ROLES: ReadonlySet<string> = new Set(['system', 'user', 'assistant', 'tool']);

/** Re-reads of a turn context whose lease was taken on a newer row version than its snapshot. */
const MAX_STALE_REREADS = 3;

/**
 * `SessionStorage` over PostgreSQL for one space: sessions, L3 records and named slots.
 *
 * Every statement filters by the space: an id of another space (or any string that is not a
 * uuid) reads as missing and is refused by writes with `SESSION_NOT_FOUND`; nothing is written.
 * A turn costs two statements: `loadTurnContext` and `commitTurn`, whatever the history length;
 * with a turn lease, the first takes it and the second releases it, so turns on one session run
 * one at a time across processes at no extra round trip.
 * PostgreSQL failures surface as `StorageError`s with stable codes (see `pg-errors.ts`).
 *
 * @example
 * ```ts
 * const storage = new PgSessionStorage(pool, spaceId);
 * const ctx = await storage.loadTurnContext(sessionId, { maxRecords: 50 });
 * await storage.commitTurn(sessionId, { records: [user, assistant], countTurn: true });
 * ```
 */
export class PgSessionStorage implements SessionStorage {
  readonly #client: pg.Pool | pg.PoolClient;
  readonly #ctx: SqlContext;
  readonly #options: PgSessionStorageOptions;
  /** `null` on a checked-out client: its writes may belong to a transaction that rolls back. */
  readonly #history: HistoryCache | null;

  /**
   * Binds the storage to a pool (each call borrows a connection) or to one checked-out client
   * (every call runs on it, inside whatever transaction the caller opened).
   *
   * @throws SessionError `INVALID_ARGUMENT` when `spaceId` is not a uuid or an option is invalid
   */
  constructor(client: PgTarget, spaceId: string, options: PgSessionStorageOptions = {}) {
    this.#options = options;
    assertStorageOptions(options);
    this.#ctx = createSqlContext(client, spaceId, options.preparedStatements ?? true);
    this.#client = this.#ctx.client;
    const sessions = options.historyCacheSessions ?? DEFAULT_HISTORY_CACHE_SESSIONS;
    this.#history = this.#ctx.autocommit && sessions > 0 ? new HistoryCache(sessions) : null;
  }

  /** The space every statement of this instance is scoped to. */
  get spaceId(): string {
    return this.#ctx.spaceId;
  }

  /** Reads a session's meta; `null` when it is not in this space. */
  getSession(id: string): Promise<SessionMeta | null> {
    return withPgErrors(async () => {
      const row = await selectSession(this.#ctx, id);
      return row ? toSessionMeta(row) : null;
    });
  }

  /**
   * Updates an existing session's label, status, tags and metadata (role and `createdAt` are fixed
   * at creation). An unknown id is created, as the original 0.2.x `createSession()` and `fork()`
   * expect: with `role: 'main'` as the space's root when it has none; with `role: 'standard'` as
   * the next child of the root (the flat place the original's fork strategy gave every fork), so
   * the space keeps one root. Move it elsewhere with `PgMainStorage.putNode`.
   *
   * @throws SessionError `SESSION_NOT_FOUND` for a second root or a space without a root,
   * `SESSION_ARCHIVED` when the root is archived, `INVALID_ARGUMENT` for bad fields
   * @throws StorageError `CONFLICT` when the id is taken by a session of another space
   */
  putSession(meta: SessionMeta): Promise<void> {
    return withPgErrors(async () => {
      assertJsonObject(meta, 'meta');
      assertLabel(meta.label);
      if (!SESSION_STATUSES.has(meta.status)) {
        throw new SessionError('INVALID_ARGUMENT', 'status must be active or archived', {
          details: { field: 'status' },
        });
      }
      assertTags(meta.tags, 'tags');
      assertJsonObject(meta.metadata, 'metadata');
      const metadataJson = toJsonParam(meta.metadata, 'metadata');
      if (!isUuid(meta.id)) {
        throw new SessionError('INVALID_ARGUMENT', `session id "${String(meta.id)}" is not a uuid`, {
          details: { field: 'id' },
        });
      }
      const update = async () =>
        (await this.#ctx.db
          .updateTable('sessions')
          .set({
            label: meta.label,
            status: meta.status,
            tags: meta.tags,
            metadata: metadataJson,
            updated_at: sql`now()`,
          })
          .where('id', '=', meta.id)
          .where('space_id', '=', this.#ctx.spaceId)
          .returning('id')
          .executeTakeFirst()) !== undefined;
      if (await update()) return;
      if (meta.role === 'main') {
        const root = await insertRoot(this.#ctx, {
          id: meta.id,
          label: meta.label,
          status: meta.status,
          tags: meta.tags,
          metadata: meta.metadata,
        });
        if (root?.id === meta.id) return;
        throw sessionNotFoundError(meta.id);
      }
      try {
        await this.#createUnderRoot(meta);
      } catch (error) {
        // A concurrent putSession of the same id created it first: this one is then an update.
        if (!isPrimaryKeyViolation(error) || !(await update())) throw error;
      }
    });
  }

  /** `putSession`'s create path for a standard session: the next child of the root, in one statement. */
  async #createUnderRoot(meta: SessionMeta): Promise<void> {
    const root = await this.#ctx.db
      .selectFrom('sessions')
      .select('id')
      .where('space_id', '=', this.#ctx.spaceId)
      .where('parent_id', 'is', null)
      .executeTakeFirst();
    if (!root) throw sessionNotFoundError(meta.id);
    await insertChild(
      this.#ctx,
      root.id,
      { label: meta.label, tags: meta.tags, metadata: meta.metadata, systemPrompt: null },
      { id: meta.id, status: meta.status },
    );
  }

  /**
   * Appends one record after the session's newest.
   *
   * @throws SessionError `SESSION_NOT_FOUND`, `INVALID_ARGUMENT` (bad role, NUL characters…)
   */
  appendRecord(sessionId: string, record: Message): Promise<void> {
    return withPgErrors(async () => {
      const recordsJson = toRecordsParam([record], 'record');
      if (!isUuid(sessionId) || !(await appendRecords(this.#ctx, sessionId, recordsJson))) {
        throw sessionNotFoundError(sessionId);
      }
    });
  }

  /** Records oldest first; the role filter applies before `limit` and `offset`. `[]` for an unknown session. */
  listRecords(sessionId: string, options: ListRecordsOptions = {}): Promise<Message[]> {
    return withPgErrors(async () => {
      if (options.limit !== undefined) assertCount(options.limit, 'limit');
      if (options.offset !== undefined) assertCount(options.offset, 'offset');
      if (options.role !== undefined && !MESSAGE_ROLES.has(options.role)) {
        throw new SessionError('INVALID_ARGUMENT', 'role must be system, user, assistant or tool', {
          details: { field: 'role' },
        });
      }
      if (!isUuid(sessionId)) return [];
      return (await listRecords(this.#ctx, sessionId, options)).map(toMessage);
    });
  }

  /**
   * Deletes all but the newest `keepRecent` records, in one statement.
   *
   * @throws SessionError `SESSION_NOT_FOUND`, `INVALID_ARGUMENT`
   */
  trimRecords(sessionId: string, keepRecent: number): Promise<void> {
    return withPgErrors(async () => {
      assertCount(keepRecent, 'keepRecent');
      if (!isUuid(sessionId)) throw sessionNotFoundError(sessionId);
      const { rows } = await sql<{ found: boolean }>`
        WITH target AS (${bumpRecordsRev(this.#ctx, sessionId)}),
        kept AS (
          SELECT r.id FROM records r JOIN target ON r.session_id = target.id AND r.space_id = target.space_id
          ORDER BY r.id DESC LIMIT ${keepRecent}
        ),
        removed AS (
          DELETE FROM records r USING target
          WHERE r.session_id = target.id AND r.space_id = target.space_id
            AND (NOT EXISTS (SELECT 1 FROM kept) OR r.id < (SELECT min(kept.id) FROM kept))
          RETURNING 1
        )
        SELECT EXISTS (SELECT 1 FROM target) AS found`.execute(this.#ctx.db);
      if (rows[0]?.found !== true) throw sessionNotFoundError(sessionId);
    });
  }

  /** The `system_prompt` slot; `null` when unset. */
  getSystemPrompt(sessionId: string): Promise<string | null> {
    return this.getSlot(sessionId, 'system_prompt');
  }

  /** Sets the `system_prompt` slot. @throws SessionError `SESSION_NOT_FOUND` */
  putSystemPrompt(sessionId: string, content: string): Promise<void> {
    return this.putSlot(sessionId, 'system_prompt', content);
  }

  /** The `insight` slot (the one-shot inbox written by integration); `null` when empty. */
  getInsight(sessionId: string): Promise<string | null> {
    return this.getSlot(sessionId, 'insight');
  }

  /** Sets (replaces) the `insight` slot. @throws SessionError `SESSION_NOT_FOUND` */
  putInsight(sessionId: string, content: string): Promise<void> {
    return this.putSlot(sessionId, 'insight', content);
  }

  /** Deletes the `insight` slot. @throws SessionError `SESSION_NOT_FOUND` */
  clearInsight(sessionId: string): Promise<void> {
    return withPgErrors(async () => {
      if (!isUuid(sessionId) || !(await deleteSlot(this.#ctx, sessionId, 'insight'))) {
        throw sessionNotFoundError(sessionId);
      }
    });
  }

  /** The `memory` slot (L2 of a standard session, synthesis of the main one); `null` when unset. */
  getMemory(sessionId: string): Promise<string | null> {
    return this.getSlot(sessionId, 'memory');
  }

  /** Sets the `memory` slot. @throws SessionError `SESSION_NOT_FOUND` */
  putMemory(sessionId: string, content: string): Promise<void> {
    return this.putSlot(sessionId, 'memory', content);
  }

  /**
   * Writes the `memory` slot and the turn count it covers in one statement, so an agent rebuilt
   * later (a restart, a space change, another process) knows the session is already consolidated.
   * @throws SessionError `SESSION_NOT_FOUND`, `INVALID_ARGUMENT`
   */
  putConsolidatedMemory(sessionId: string, content: string, turnCount: number): Promise<void> {
    return withPgErrors(async () => {
      assertText(content, 'content');
      assertCount(turnCount, 'turnCount');
      if (!isUuid(sessionId)) throw sessionNotFoundError(sessionId);
      // The status check is part of the write, so an archive in between never gets a memory.
      const { rows } = await sql<{ written: boolean; status: string | null }>`
        WITH target AS (
          UPDATE sessions SET consolidated_turn_count = ${turnCount}::int
          WHERE id = ${sessionId} AND space_id = ${this.#ctx.spaceId} AND status <> 'archived'
          RETURNING id, space_id
        ),
        slot AS (
          INSERT INTO session_data (space_id, session_id, key, content)
          SELECT space_id, id, 'memory', ${content}::text FROM target
          ON CONFLICT (session_id, key) DO UPDATE SET content = excluded.content, updated_at = now()
          RETURNING 1
        )
        SELECT EXISTS (SELECT 1 FROM target) AS written,
          (SELECT status FROM sessions WHERE id = ${sessionId} AND space_id = ${this.#ctx.spaceId}) AS status`.execute(
        this.#ctx.db,
      );
      if (rows[0]?.written === true) return;
      if (!rows[0]?.status) throw sessionNotFoundError(sessionId);
      throw new SessionArchivedError(sessionId);
    });
  }

  /** The turn count the last consolidated memory covers; `null` before the first or for an unknown session. */
  getConsolidatedTurnCount(sessionId: string): Promise<number | null> {
    return withPgErrors(async () => {
      if (!isUuid(sessionId)) return null;
      const row = await this.#ctx.db
        .selectFrom('sessions')
        .select('consolidated_turn_count')
        .where('id', '=', sessionId)
        .where('space_id', '=', this.#ctx.spaceId)
        .executeTakeFirst();
      return row?.consolidated_turn_count ?? null;
    });
  }

  /** Any named slot; `null` when unset or when the session is not in this space. */
  getSlot(sessionId: string, key: SlotKey): Promise<string | null> {
    return withPgErrors(async () => {
      assertSlotKey(key);
      if (!isUuid(sessionId)) return null;
      return getSlot(this.#ctx, sessionId, key);
    });
  }

  /** Upserts any named slot in one statement. @throws SessionError `SESSION_NOT_FOUND`, `INVALID_ARGUMENT` */
  putSlot(sessionId: string, key: SlotKey, content: string): Promise<void> {
    return withPgErrors(async () => {
      assertSlotKey(key);
      assertText(content, 'content');
      if (!isUuid(sessionId) || !(await putSlot(this.#ctx, sessionId, key, content))) {
        throw sessionNotFoundError(sessionId);
      }
    });
  }

  /**
   * Reads everything a turn needs in ONE statement: the session row, its system prompt, insight
   * and memory slots, and the newest `maxRecords` records (oldest first). The window is read
   * backwards on the `(session_id, id)` index, so the cost does not grow with the history.
   * `null` when the session is not in this space.
   *
   * With `lease`, the same statement takes the session's turn lease when it is free, lapsed or
   * already this owner's (an archived session is read without it). When another owner holds it,
   * nothing else is read and it throws `SESSION_BUSY` with `details.retryAfterMs`. In the rare
   * race where the lease was taken from a turn that committed while this statement waited for the
   * row lock, the statement's snapshot predates that commit; it is then read again (the lease is
   * already ours), so a context never misses the previous turn.
   *
   * @throws SessionError `SESSION_BUSY`, `INVALID_ARGUMENT`
   */
  loadTurnContext(sessionId: string, options: LoadTurnContextOptions): Promise<TurnContextData | null> {
    return withPgErrors(async () => {
      assertCount(options?.maxRecords, 'maxRecords');
      const lease = options.lease;
      if (lease !== undefined) assertLeaseClaim(lease);
      if (!isUuid(sessionId)) return null;
      const { maxRecords } = options;
      const claim = lease ? options.turn : undefined;
      if (claim) assertTurnClaim(claim);
      const ledger = { ...(claim ? { claim } : {}), instance: this.#instance() };
      // Captured before the read: a commit may replace the entry while the statement runs.
      const cached = this.#history?.get(sessionId, maxRecords);
      let row = await selectTurnContext(this.#ctx, sessionId, maxRecords, lease, cached?.rev, ledger);
      for (let reread = 0; row && !row.lease_fresh && reread < MAX_STALE_REREADS; reread++) {
        row = await selectTurnContext(this.#ctx, sessionId, maxRecords, lease, cached?.rev, ledger);
      }
      if (!row) {
        this.#history?.delete(sessionId);
        return null;
      }
      let finishedTurn: StoredTurn | null = null;
      if (claim && lease) {
        try {
          finishedTurn = finishedPrior(row as Required<typeof row>, sessionId, claim);
        } catch (error) {
          // Never left holding a lease for a turn that will not run.
          if (row.lease_taken) await releaseLease(this.#ctx, sessionId, lease.owner);
          throw error;
        }
        if (row.lease_taken && row.claim_status !== 'running') {
          // Another statement claimed this id meanwhile: give the lease back and wait like a busy turn.
          await releaseLease(this.#ctx, sessionId, lease.owner);
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
        this.#history?.set(sessionId, row.records_rev, maxRecords, records.slice(), hasOlderRecords);
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
    });
  }

  /**
   * Writes a turn in ONE statement (data-modifying CTEs commit or fail together): moves
   * `lastActiveAt` of the active session and counts the turn when `countTurn` is set (guarded by
   * `expectedTurnCount` when given), inserts the records in order, and deletes the insight slot
   * when it still holds `consumeInsight`. The records and the insight depend on the counter
   * update, so nothing is written when it matched no row; only then a second query tells why.
   * With `releaseLease`, the same update clears the turn lease when that owner holds it.
   *
   * @throws SessionError `SESSION_NOT_FOUND`, `SESSION_ARCHIVED`, `TURN_CONFLICT`, `INVALID_ARGUMENT`
   */
  commitTurn(sessionId: string, commit: TurnCommit): Promise<TurnCommitResult> {
    return withPgErrors(async () => {
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
        this.#ctx,
        sql<{ turn_count: number; last_active_at: Date; records_rev: number }>`
        WITH ${turnEntry === undefined ? sql`` : fenceCte(this.#ctx, sessionId, turnEntry.turnId)} turn AS (
          UPDATE sessions
          SET turn_count = turn_count + ${commit.countTurn === true ? 1 : 0}::int,
              records_rev = records_rev + ${writesRecords ? 1 : 0}::int,
              last_active_at = now(),
              updated_at = now()${releaseLeaseSet(commit.releaseLease)}
          WHERE id = ${sessionId} AND space_id = ${this.#ctx.spaceId} AND status = 'active'
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
        this.#history?.delete(sessionId);
        throw error;
      });
      const row = rows[0];
      if (row) {
        if (writesRecords) this.#history?.append(sessionId, row.records_rev, toCachedMessages(recordsJson));
        return { turnCount: row.turn_count, lastActiveAt: toIso(row.last_active_at) };
      }

      if (turnEntry !== undefined) {
        const fencedOut = await explainFencedCommit(this.#ctx, sessionId, turnEntry.turnId);
        if (fencedOut) throw fencedOut;
      }
      const current = await this.#ctx.db
        .selectFrom('sessions')
        .select(['status', 'turn_count'])
        .where('id', '=', sessionId)
        .where('space_id', '=', this.#ctx.spaceId)
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
    });
  }

  /**
   * Extends the turn lease `owner` holds to `ttlMs` from now, in one statement; `false` (nothing
   * written) when `owner` no longer holds it or the session is not in this space.
   *
   * @throws SessionError `INVALID_ARGUMENT`
   */
  renewTurnLease(sessionId: string, owner: string, ttlMs: number): Promise<boolean> {
    return withPgErrors(async () => {
      assertLeaseOwner(owner);
      assertLeaseTtl(ttlMs);
      if (!isUuid(sessionId)) return false;
      return renewLease(this.#ctx, sessionId, owner, ttlMs);
    });
  }

  /**
   * Clears the turn lease when `owner` holds it, in one statement; does nothing otherwise.
   *
   * @throws SessionError `INVALID_ARGUMENT`
   */
  releaseTurnLease(sessionId: string, owner: string): Promise<void> {
    return withPgErrors(async () => {
      assertLeaseOwner(owner);
      if (!isUuid(sessionId)) return;
      await releaseLease(this.#ctx, sessionId, owner);
    });
  }

  /**
   * The ledger entry of a turn of the session, in one statement; `null` when unknown. A queued or
   * running turn whose process died reads as `failed`.
   */
  getTurn(sessionId: string, turnId: string): Promise<StoredTurn | null> {
    return withPgErrors(async () => {
      if (!isUuid(sessionId) || !isUuid(turnId)) return null;
      return selectTurn(this.#ctx, sessionId, turnId);
    });
  }

  /** Marks a queued or running turn `failed` or `cancelled`, in one statement. */
  finishTurn(
    sessionId: string,
    turnId: string,
    status: 'failed' | 'cancelled',
    error: { code: string; message: string },
  ): Promise<void> {
    return withPgErrors(async () => {
      if (!isUuid(sessionId) || !isUuid(turnId)) return;
      await markTurnFinished(this.#ctx, sessionId, turnId, status, error);
    });
  }

  /**
   * Requests a turn's cancel in ONE statement (see `SessionStorage.requestTurnCancel`), with the
   * `turn.cancel` control event in the same statement when the storage has a control channel.
   *
   * @throws SessionError `TURN_ID_CONFLICT` (a turn of another session), `INVALID_ARGUMENT`
   */
  requestTurnCancel(sessionId: string, turnId: string): Promise<TurnStatus | null> {
    return withPgErrors(async () => {
      assertTurnId(turnId);
      if (!isUuid(sessionId)) return null;
      return requestCancel(this.#ctx, sessionId, turnId, this.#options.control);
    });
  }

  /** The control channel's instance id once started; `null` without one. */
  #instance(): number | null {
    const id = this.#options.control?.instanceId;
    return id !== undefined && id > 0 ? id : null;
  }

  /**
   * Creates a child of `parentId` in ONE statement: index taken under the parent's row lock (safe
   * under concurrent forks), depth + 1, system prompt (given, inherited, or none for `null`) and
   * seed records.
   *
   * @throws SessionError `SESSION_NOT_FOUND`, `SESSION_ARCHIVED`, `INVALID_ARGUMENT`
   */
  createChild(parentId: string, spec: ChildSessionSpec): Promise<SessionRow> {
    return withPgErrors(async () => toSessionRow(await insertChild(this.#ctx, parentId, spec)));
  }

  /** The full stored row, tree fields included; `null` when not in this space. */
  getSessionRow(id: string): Promise<SessionRow | null> {
    return withPgErrors(async () => {
      const row = await selectSession(this.#ctx, id);
      return row ? toSessionRow(row) : null;
    });
  }

  /**
   * Runs `fn` atomically with a storage of the same class bound to the transaction's connection.
   *
   * Built on a pool: checks out a client, `BEGIN`, `COMMIT` (or `ROLLBACK` and rethrow), release.
   * Built on a `PoolClient`: `fn` runs inside a `SAVEPOINT` of the caller's transaction (opening
   * one with `BEGIN` when the client has none), so a failure undoes only `fn`'s writes and the
   * caller's own `COMMIT` stays in charge.
   */
  transaction<T>(fn: (tx: this) => Promise<T>): Promise<T> {
    const Self = this.constructor as new (
      client: pg.Pool | pg.PoolClient,
      spaceId: string,
      options: PgSessionStorageOptions,
    ) => this;
    return runInTransaction(this.#client, (connection) =>
      fn(new Self(connection, this.#ctx.spaceId, this.#options)),
    );
  }
}

/** Checks a turn id: a UUID. */
function assertTurnId(turnId: unknown): asserts turnId is string {
  if (!isUuid(turnId)) {
    throw new SessionError('INVALID_ARGUMENT', 'turnId must be a UUID', { details: { field: 'turnId' } });
  }
}

/** Checks a ledger claim: a UUID turn id, a request hash and a known concurrency policy. */
function assertTurnClaim(claim: unknown): void {
  const { turnId, requestHash, concurrency } = (claim ?? {}) as Record<string, unknown>;
  assertTurnId(turnId);
  assertText(requestHash, 'turn.requestHash');
  if (concurrency !== 'enqueue' && concurrency !== 'reject') {
    throw new SessionError('INVALID_ARGUMENT', 'turn.concurrency must be enqueue or reject', {
      details: { field: 'turn.concurrency' },
    });
  }
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
