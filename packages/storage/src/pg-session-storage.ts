// One file over the size rule on purpose: `PgSessionStorage` implements `SessionStorage`, one short
// method per member (about 30); the SQL and the turn's read and commit live in internal/.
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
import { appendRecords, bumpRecordsRev, listRecords } from './internal/records-sql';
import { insertChild, insertRoot, selectSession } from './internal/sessions-sql';
import { deleteSlot, getSlot, putSlot } from './internal/slots-sql';
import { createSqlContext, type PgTarget, type SqlContext } from './internal/sql-context';
import { runInTransaction } from './internal/transaction';
import { assertTurnId } from './internal/turn-args';
import { writeTurn } from './internal/turn-commit';
import { readTurnContext } from './internal/turn-context-read';
import { assertLeaseOwner, assertLeaseTtl, releaseLease, renewLease } from './internal/turn-context-sql';
import { markTurnFinished, requestCancel, selectTurn } from './internal/turns-sql';
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
import { toMessage, toSessionMeta, toSessionRow } from './mappers';
import { withPgErrors } from './pg-errors';
import {
  assertStorageOptions,
  DEFAULT_HISTORY_CACHE_SESSIONS,
  type PgSessionStorageOptions,
} from './pg-session-storage-options';

export {
  assertStorageOptions,
  DEFAULT_HISTORY_CACHE_SESSIONS,
  type PgSessionStorageOptions,
} from './pg-session-storage-options';

const SESSION_STATUSES: ReadonlySet<string> = new Set(['active', 'archived']);

/** True for PostgreSQL's unique violation of the sessions primary key (the id already exists). */
function isPrimaryKeyViolation(error: unknown): boolean {
  const { code, constraint } = (error ?? {}) as { code?: unknown; constraint?: unknown };
  return code === '23505' && constraint === 'sessions_pkey';
}
const MESSAGE_ROLES: ReadonlySet<string> = new Set(['system', 'user', 'assistant', 'tool']);

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
    return withPgErrors(() =>
      readTurnContext(this.#ctx, this.#history, this.#instance(), sessionId, options),
    );
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
    return withPgErrors(() => writeTurn(this.#ctx, this.#history, sessionId, commit));
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
