import { type Database, queryPrepared, type SpaceRow } from '@stello-ai/db';
import { type Kysely, sql } from 'kysely';
import type pg from 'pg';
import { withPgErrors } from '../pg-errors';
import type { NewSpace, Space, SpacePage, SpacePatch, SpaceStore } from './space-store';

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

/**
 * The spaces in PostgreSQL. Every write is one statement (data-modifying CTEs), hence atomic.
 * Built by `PgStores`, which shares its Kysely instance; errors go through `translatePgError`.
 */
export class PgSpaceStore implements SpaceStore {
  readonly #pool: pg.Pool;
  readonly #db: Kysely<Database>;
  readonly #prepared: boolean;

  /** @internal use `PgStores.spaces` */
  constructor(pool: pg.Pool, db: Kysely<Database>, preparedStatements: boolean) {
    this.#pool = pool;
    this.#db = db;
    this.#prepared = preparedStatements;
  }

  async create(space: NewSpace): Promise<Space> {
    // Foreign keys are checked at the end of the statement, so the root may reference the new space.
    const withRoot = this.#db
      .with('space', (db) =>
        db
          .insertInto('spaces')
          .values({
            user_id: space.userId,
            label: space.label,
            system_prompt: space.systemPrompt,
            consolidate_prompt: space.consolidatePrompt,
            integrate_prompt: space.integratePrompt,
            config: JSON.stringify(space.config),
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
      space.systemPrompt === null
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
                      sql<string>`${space.systemPrompt}::text`.as('content'),
                    ]),
                )
                .returning('session_data.session_id'),
            )
            .selectFrom('space')
            .selectAll();
    // Only the owner can be missing (INVALID_REFERENCE): the root and its slot reference rows of this statement.
    return withPgErrors(async () => toSpace(await query.executeTakeFirstOrThrow()));
  }

  get(spaceId: string): Promise<Space | null> {
    return withPgErrors(async () => {
      const query = this.#db.selectFrom('spaces').selectAll().where('id', '=', spaceId);
      // Prepared: every first touch of a cold space runs it, and each connection then plans it once.
      const row = this.#prepared
        ? (await queryPrepared(this.#pool, query.compile()))[0]
        : await query.executeTakeFirst();
      return row ? toSpace(row) : null;
    });
  }

  update(spaceId: string, patch: SpacePatch): Promise<Space | null> {
    const set: {
      label?: string;
      system_prompt?: string | null;
      consolidate_prompt?: string | null;
      integrate_prompt?: string | null;
      config?: string;
    } = {};
    if (patch.label !== undefined) set.label = patch.label;
    if (patch.systemPrompt !== undefined) set.system_prompt = patch.systemPrompt;
    if (patch.consolidatePrompt !== undefined) set.consolidate_prompt = patch.consolidatePrompt;
    if (patch.integratePrompt !== undefined) set.integrate_prompt = patch.integratePrompt;
    if (patch.config !== undefined) set.config = JSON.stringify(patch.config);
    if (Object.keys(set).length === 0) return this.get(spaceId);

    const syncLabel = set.label !== undefined;
    const upsertPrompt = typeof set.system_prompt === 'string';
    const deletePrompt = set.system_prompt === null;

    // One statement, so it is atomic; the guards are literals, so each CTE is a no-op unless its
    // field is being changed. If the space does not exist, `space` is empty and nothing happens.
    return withPgErrors(async () => {
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
      return row ? toSpace(row) : null;
    });
  }

  list(userId: string, page: SpacePage = {}): Promise<Space[]> {
    return withPgErrors(async () => {
      let query = this.#db
        .selectFrom('spaces')
        .selectAll()
        .where('user_id', '=', userId)
        .orderBy('created_at')
        .orderBy('id');
      if (page.after !== undefined) {
        // Keyset paging: compared in SQL, so the microsecond timestamps are never rounded.
        query = query.where(
          sql<boolean>`(created_at, id) > (select c.created_at, c.id from spaces c where c.id = ${page.after} and c.user_id = ${userId})`,
        );
      }
      if (page.limit !== undefined) query = query.limit(page.limit);
      return (await query.execute()).map(toSpace);
    });
  }

  delete(spaceId: string): Promise<boolean> {
    return withPgErrors(async () => {
      const deleted = await this.#db
        .deleteFrom('spaces')
        .where('id', '=', spaceId)
        .returning('id')
        .executeTakeFirst();
      return deleted !== undefined;
    });
  }
}
