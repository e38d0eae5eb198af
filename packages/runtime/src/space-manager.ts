import { createDb, type Database, isUuid, queryPrepared, type SpaceRow } from '@stello-ai/db';
import { type Kysely, sql } from 'kysely';
import type pg from 'pg';
import { assertNonBlank, assertNullableText, assertText, toJsonObjectText } from './_validate';
import { RuntimeError, spaceNotFound } from './errors';
import { type Logger, silentLogger } from './logger';

/** A space: one agent and one session tree, owned by a user. Timestamps are ISO-8601. */
export interface Space {
  id: string;
  userId: string;
  label: string;
  systemPrompt: string | null;
  consolidatePrompt: string | null;
  integratePrompt: string | null;
  config: Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
}

/** What `createSpace` takes. */
export interface SpaceConfig {
  /** Non-blank; also the root session's label. */
  label: string;
  /** Written to the root session's `system_prompt` slot as well. */
  systemPrompt?: string;
  /** The space's consolidation prompt (used when a session has no slot of its own). */
  consolidatePrompt?: string;
  /** The space's integration prompt (used when the root has no slot of its own). */
  integratePrompt?: string;
  /** Free-form JSON object (default `{}`). */
  config?: Record<string, unknown>;
}

/**
 * What `updateSpace` takes: only the fields present change. `null` clears a prompt; `config`
 * replaces the whole object.
 */
export type SpaceUpdate = Partial<Pick<SpaceConfig, 'label' | 'config'>> & {
  systemPrompt?: string | null;
  consolidatePrompt?: string | null;
  integratePrompt?: string | null;
};

/** Options of `SpaceManager.listSpaces`. */
export interface ListSpacesOptions {
  /** Page size, 1 to 1000 (default: every space). */
  limit?: number;
  /** Id of the last space of the previous page; the page starts after it. */
  after?: string;
}

/** Options of the `SpaceManager` constructor. */
export interface SpaceManagerOptions {
  /** Receives the errors thrown by change listeners (default: silent). */
  logger?: Logger;
  /**
   * Sends the lookup of a space by id as a named prepared statement (default true); turn it off
   * behind a pooler that cannot keep prepared statements, as for the storage.
   */
  preparedStatements?: boolean;
}

/** Called after a space is created or updated (`space` is its new state) or deleted (`space` is `null`). */
export type SpaceChangeListener = (spaceId: string, space: Space | null) => void;

const MAX_PAGE_SIZE = 1000;
// PostgreSQL SQLSTATE 23503 foreign_key_violation.
const FOREIGN_KEY_VIOLATION = '23503';

// Listeners are shared by every SpaceManager on the same pool: a change made through one
// manager (the REST app's) reaches an AgentPool that built its own.
const listenersByPool = new WeakMap<pg.Pool, Set<SpaceChangeListener>>();

function toIso(value: Date | string): string {
  return (value instanceof Date ? value : new Date(value)).toISOString();
}

function toSpace(row: SpaceRow): Space {
  return {
    id: row.id,
    userId: row.user_id,
    label: row.label,
    systemPrompt: row.system_prompt,
    consolidatePrompt: row.consolidate_prompt,
    integratePrompt: row.integrate_prompt,
    config: { ...row.config },
    createdAt: toIso(row.created_at),
    updatedAt: toIso(row.updated_at),
  };
}

function isForeignKeyViolation(error: unknown, constraint: string): boolean {
  const pgError = error as { code?: unknown; constraint?: unknown } | null;
  return pgError?.code === FOREIGN_KEY_VIOLATION && pgError.constraint === constraint;
}

/**
 * Creates, reads, updates, lists and deletes spaces in PostgreSQL. Every write is one SQL
 * statement, hence atomic: a space never exists without its root session, and an update never
 * leaves the space and its root out of step.
 *
 * Change listeners (`onChange`) are process-local: another server process sharing the database
 * does not notify them.
 *
 * @example
 * ```ts
 * const spaces = new SpaceManager(pool);
 * const space = await spaces.createSpace(userId, { label: 'Research', systemPrompt: 'Be concise.' });
 * ```
 */
export class SpaceManager {
  readonly #pool: pg.Pool;
  readonly #db: Kysely<Database>;
  readonly #logger: Logger;
  readonly #prepared: boolean;

  constructor(pool: pg.Pool, options: SpaceManagerOptions = {}) {
    if (options.preparedStatements !== undefined && typeof options.preparedStatements !== 'boolean') {
      throw new RuntimeError('INVALID_ARGUMENT', 'preparedStatements must be a boolean', {
        details: { field: 'preparedStatements' },
      });
    }
    this.#pool = pool;
    this.#db = createDb(pool);
    this.#logger = options.logger ?? silentLogger;
    this.#prepared = options.preparedStatements ?? true;
  }

  /**
   * Creates a space, its root session (role `main`, depth 0, index 0, labelled like the space)
   * and, when `systemPrompt` is given, the root's `system_prompt` slot, in one statement.
   * @throws RuntimeError `INVALID_ARGUMENT` (blank label, bad field) or `USER_NOT_FOUND`
   */
  async createSpace(userId: string, config: SpaceConfig): Promise<Space> {
    if (typeof config !== 'object' || config === null) {
      throw new RuntimeError('INVALID_ARGUMENT', 'space config must be an object');
    }
    assertNonBlank('label', config.label);
    const systemPrompt = optionalText('systemPrompt', config.systemPrompt);
    const consolidatePrompt = optionalText('consolidatePrompt', config.consolidatePrompt);
    const integratePrompt = optionalText('integratePrompt', config.integratePrompt);
    const configText = config.config === undefined ? '{}' : toJsonObjectText('config', config.config);
    if (!isUuid(userId)) throw userNotFound(userId);

    // Data-modifying CTEs: all three inserts commit or fail together, in one round trip.
    // Foreign keys are checked at the end of the statement, so the root may reference the new space.
    const withRoot = this.#db
      .with('space', (db) =>
        db
          .insertInto('spaces')
          .values({
            user_id: userId,
            label: config.label,
            system_prompt: systemPrompt,
            consolidate_prompt: consolidatePrompt,
            integrate_prompt: integratePrompt,
            config: configText,
          })
          .returningAll(),
      )
      .with('root', (db) =>
        db
          .insertInto('sessions')
          .columns(['space_id', 'label', 'role'])
          .expression((eb) =>
            eb.selectFrom('space').select(['space.id', 'space.label', sql.lit('main').as('role')]),
          )
          .returning(['sessions.id', 'sessions.space_id']),
      );
    const query =
      systemPrompt === null
        ? withRoot.selectFrom('space').selectAll()
        : withRoot
            .with('prompt', (db) =>
              db
                .insertInto('session_data')
                .columns(['space_id', 'session_id', 'key', 'content'])
                .expression((eb) =>
                  eb
                    .selectFrom('root')
                    .select([
                      'root.space_id',
                      'root.id',
                      sql.lit('system_prompt').as('key'),
                      sql<string>`${systemPrompt}::text`.as('content'),
                    ]),
                )
                .returning('session_data.session_id'),
            )
            .selectFrom('space')
            .selectAll();

    let row: SpaceRow;
    try {
      row = await query.executeTakeFirstOrThrow();
    } catch (error) {
      if (isForeignKeyViolation(error, 'spaces_user_id_fkey')) throw userNotFound(userId, error);
      throw error;
    }
    const space = toSpace(row);
    this.#emit(space.id, space);
    return space;
  }

  /** Returns the space, or `null` when it does not exist (a malformed id is `null`, with no query). */
  async getSpace(spaceId: string): Promise<Space | null> {
    if (!isUuid(spaceId)) return null;
    const query = this.#db.selectFrom('spaces').selectAll().where('id', '=', spaceId);
    // Prepared: every first touch of a cold space runs it, and each connection then plans it once.
    const row = this.#prepared
      ? (await queryPrepared(this.#pool, query.compile()))[0]
      : await query.executeTakeFirst();
    return row ? toSpace(row) : null;
  }

  /**
   * Updates the given fields in one statement. `systemPrompt` is mirrored to the root session's
   * `system_prompt` slot (upserted, or deleted on `null`) and `label` to the root's label, so the
   * space and its root never disagree. Validation happens before any write: invalid input
   * changes nothing. An update with no field returns the space unchanged.
   * @throws RuntimeError `SPACE_NOT_FOUND` or `INVALID_ARGUMENT`
   */
  async updateSpace(spaceId: string, updates: SpaceUpdate): Promise<Space> {
    if (typeof updates !== 'object' || updates === null) {
      throw new RuntimeError('INVALID_ARGUMENT', 'space update must be an object');
    }
    const set: {
      label?: string;
      system_prompt?: string | null;
      consolidate_prompt?: string | null;
      integrate_prompt?: string | null;
      config?: string;
    } = {};
    if (updates.label !== undefined) {
      assertNonBlank('label', updates.label);
      set.label = updates.label;
    }
    if (updates.systemPrompt !== undefined) {
      assertNullableText('systemPrompt', updates.systemPrompt);
      set.system_prompt = updates.systemPrompt;
    }
    if (updates.consolidatePrompt !== undefined) {
      assertNullableText('consolidatePrompt', updates.consolidatePrompt);
      set.consolidate_prompt = updates.consolidatePrompt;
    }
    if (updates.integratePrompt !== undefined) {
      assertNullableText('integratePrompt', updates.integratePrompt);
      set.integrate_prompt = updates.integratePrompt;
    }
    if (updates.config !== undefined) set.config = toJsonObjectText('config', updates.config);
    if (!isUuid(spaceId)) throw spaceNotFound(spaceId);

    if (Object.keys(set).length === 0) {
      const current = await this.getSpace(spaceId);
      if (!current) throw spaceNotFound(spaceId);
      return current;
    }

    const syncLabel = set.label !== undefined;
    const upsertPrompt = typeof set.system_prompt === 'string';
    const deletePrompt = set.system_prompt === null;

    // One statement, so it is atomic; the guards are literals, so each CTE is a no-op unless its
    // field is being changed. If the space does not exist, `space` is empty and nothing happens.
    const row = await this.#db
      .with('space', (db) =>
        db
          .updateTable('spaces')
          .set({ ...set, updated_at: sql<Date>`now()` })
          .where('id', '=', spaceId)
          .returningAll(),
      )
      .with('root_label', (db) =>
        db
          .updateTable('sessions')
          .from('space')
          .set((eb) => ({ label: eb.ref('space.label'), updated_at: sql<Date>`now()` }))
          .where(sql.lit(syncLabel))
          .whereRef('sessions.space_id', '=', 'space.id')
          .where('sessions.parent_id', 'is', null)
          .returning('sessions.id'),
      )
      .with('prompt_upsert', (db) =>
        db
          .insertInto('session_data')
          .columns(['space_id', 'session_id', 'key', 'content'])
          .expression((eb) =>
            eb
              .selectFrom('sessions as root')
              .innerJoin('space', 'space.id', 'root.space_id')
              .select([
                'root.space_id',
                'root.id',
                sql.lit('system_prompt').as('key'),
                sql<string>`${upsertPrompt ? set.system_prompt : null}::text`.as('content'),
              ])
              .where(sql.lit(upsertPrompt))
              .where('root.parent_id', 'is', null),
          )
          .onConflict((oc) =>
            oc.columns(['session_id', 'key']).doUpdateSet((eb) => ({
              content: eb.ref('excluded.content'),
              updated_at: sql<Date>`now()`,
            })),
          )
          .returning('session_data.session_id'),
      )
      .with('prompt_delete', (db) =>
        db
          .deleteFrom('session_data')
          .using(['space', 'sessions as root'])
          .where(sql.lit(deletePrompt))
          .whereRef('root.space_id', '=', 'space.id')
          .where('root.parent_id', 'is', null)
          .whereRef('session_data.session_id', '=', 'root.id')
          .where('session_data.key', '=', 'system_prompt')
          .returning('session_data.session_id'),
      )
      .selectFrom('space')
      .selectAll()
      .executeTakeFirst();

    if (!row) throw spaceNotFound(spaceId);
    const space = toSpace(row);
    this.#emit(space.id, space);
    return space;
  }

  /**
   * Lists a user's spaces, oldest first (ties broken by id). With `limit`, returns one page;
   * pass the last id of a page as `after` to get the next one. A malformed user id lists nothing.
   * @throws RuntimeError `INVALID_ARGUMENT` for a bad `limit` or a malformed `after`
   */
  async listSpaces(userId: string, options: ListSpacesOptions = {}): Promise<Space[]> {
    const { limit, after } = options;
    if (limit !== undefined && (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE)) {
      throw new RuntimeError('INVALID_ARGUMENT', `limit must be an integer from 1 to ${MAX_PAGE_SIZE}`, {
        details: { field: 'limit' },
      });
    }
    if (after !== undefined && !isUuid(after)) {
      throw new RuntimeError('INVALID_ARGUMENT', 'after must be a space id', { details: { field: 'after' } });
    }
    if (!isUuid(userId)) return [];

    let query = this.#db
      .selectFrom('spaces')
      .selectAll()
      .where('user_id', '=', userId)
      .orderBy('created_at')
      .orderBy('id');
    if (after !== undefined) {
      // Keyset paging: compared in SQL, so the microsecond timestamps are never rounded.
      query = query.where(
        sql<boolean>`(created_at, id) > (select c.created_at, c.id from spaces c where c.id = ${after} and c.user_id = ${userId})`,
      );
    }
    if (limit !== undefined) query = query.limit(limit);
    const rows = await query.execute();
    return rows.map(toSpace);
  }

  /**
   * Deletes the space; the database cascades to its sessions, records and slots.
   * @throws RuntimeError `SPACE_NOT_FOUND`
   */
  async deleteSpace(spaceId: string): Promise<void> {
    if (!isUuid(spaceId)) throw spaceNotFound(spaceId);
    const deleted = await this.#db
      .deleteFrom('spaces')
      .where('id', '=', spaceId)
      .returning('id')
      .executeTakeFirst();
    if (!deleted) throw spaceNotFound(spaceId);
    this.#emit(spaceId, null);
  }

  /**
   * Subscribes to changes of any space made through a `SpaceManager` on the same pool, in this
   * process. Returns the unsubscribe function. A listener that throws is logged and skipped.
   */
  onChange(listener: SpaceChangeListener): () => void {
    let listeners = listenersByPool.get(this.#pool);
    if (!listeners) {
      listeners = new Set();
      listenersByPool.set(this.#pool, listeners);
    }
    // Wrapped so that subscribing the same function twice gives two independent subscriptions.
    const entry: SpaceChangeListener = (spaceId, space) => listener(spaceId, space);
    listeners.add(entry);
    return () => {
      listeners.delete(entry);
    };
  }

  #emit(spaceId: string, space: Space | null): void {
    const listeners = listenersByPool.get(this.#pool);
    if (!listeners) return;
    for (const listener of [...listeners]) {
      try {
        listener(spaceId, space);
      } catch (error) {
        this.#logger.error('space.listener_failed', { spaceId, error });
      }
    }
  }
}

function optionalText(field: string, value: unknown): string | null {
  if (value === undefined || value === null) return null;
  assertText(field, value);
  return value;
}

function userNotFound(userId: string, cause?: unknown): RuntimeError {
  return new RuntimeError('USER_NOT_FOUND', `user "${userId}" not found`, { cause, details: { userId } });
}
