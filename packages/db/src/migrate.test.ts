import { createTestDatabase, type TestDatabase } from '@internal/testing';
import { type Kysely, sql } from 'kysely';
import { type Migration, Migrator, NO_MIGRATIONS } from 'kysely/migration';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createDb } from './create-db';
import { createPool } from './create-pool';
import { isDbError, MigrationError } from './errors';
import { MIGRATION_LOCK_TABLE, MIGRATION_TABLE, migrate, runMigrations } from './migrate';
import { MIGRATIONS } from './migrations';
import type { Database } from './schema';

const TABLES = [
  'core_data',
  'rate_usage',
  'records',
  'session_data',
  'session_refs',
  'sessions',
  'spaces',
  'turns',
  'users',
];

/** Empty databases (no template), so every test exercises the migrations themselves. */
const opened: TestDatabase[] = [];
async function emptyDatabase(): Promise<TestDatabase> {
  const database = await createTestDatabase({ migrated: false });
  opened.push(database);
  return database;
}
afterAll(async () => {
  await Promise.all(opened.map((database) => database.drop()));
});

async function appTables(database: TestDatabase): Promise<string[]> {
  const { rows } = await database.pool.query<{ table_name: string }>(
    `SELECT table_name FROM information_schema.tables
     WHERE table_schema = 'public' AND NOT starts_with(table_name, 'stello_migration') ORDER BY table_name`,
  );
  return rows.map((row) => row.table_name);
}

async function ledger(database: TestDatabase): Promise<{ name: string; timestamp: string }[]> {
  const { rows } = await database.pool.query<{ name: string; timestamp: string }>(
    `SELECT name, timestamp FROM ${MIGRATION_TABLE} ORDER BY name`,
  );
  return rows;
}

describe('migrate', () => {
  it('creates every table and records each migration when the database is empty', async () => {
    const database = await emptyDatabase();
    await migrate(database.pool);
    expect(await appTables(database)).toEqual(TABLES);
    expect((await ledger(database)).map((row) => row.name)).toEqual(Object.keys(MIGRATIONS));
  });

  it('changes nothing when run a second time', async () => {
    const database = await emptyDatabase();
    await migrate(database.pool);
    const before = await ledger(database);
    const results = await runMigrations(database.pool, MIGRATIONS);
    expect(results).toEqual([]);
    await migrate(database.pool);
    expect(await ledger(database)).toEqual(before);
    expect(await appTables(database)).toEqual(TABLES);
  });

  it('succeeds in both processes when two migrate at the same time', async () => {
    const database = await emptyDatabase();
    // A second pool is a second server session, as a second replica would have.
    const other = createPool({ connectionString: database.url, max: 2 });
    try {
      const applied = await Promise.all([migrate(database.pool), migrate(other)]);
      // One of them applied everything, the other found nothing left to do.
      expect(applied.map((names) => names.length).sort()).toEqual([0, Object.keys(MIGRATIONS).length]);
      expect(applied.flat()).toEqual(Object.keys(MIGRATIONS));
    } finally {
      await other.end();
    }
    expect((await ledger(database)).map((row) => row.name)).toEqual(Object.keys(MIGRATIONS));
    expect(await appTables(database)).toEqual(TABLES);
  });

  it('throws MigrationError and applies nothing when a migration fails', async () => {
    const database = await emptyDatabase();
    const broken: Record<string, Migration> = {
      ...MIGRATIONS,
      '2999_01_01_0001_broken': {
        async up(db) {
          await sql`ALTER TABLE no_such_table ADD COLUMN x int`.execute(db);
        },
      },
    };
    const error = await runMigrations(database.pool, broken).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(MigrationError);
    expect(isDbError(error, 'MIGRATION_FAILED')).toBe(true);
    const { details, message, cause } = error as MigrationError;
    expect(message).toMatch(/^migration "2999_01_01_0001_broken" failed: /);
    expect(cause).toMatchObject({ code: '42P01' });
    expect(details.failedMigration).toBe('2999_01_01_0001_broken');
    expect(details.results.map((result) => [result.migrationName, result.status])).toEqual([
      ...Object.keys(MIGRATIONS).map((name) => [name, 'Success']),
      ['2999_01_01_0001_broken', 'Error'],
    ]);
    // One transaction for the whole batch: the successful migration was rolled back too.
    expect(await appTables(database)).toEqual([]);
    expect(await ledger(database)).toEqual([]);
  });

  it('drops every table when the migrations are reverted with down', async () => {
    const database = await emptyDatabase();
    await migrate(database.pool);
    const db = createDb(database.pool);
    const migrator = new Migrator({
      db,
      provider: { getMigrations: async () => ({ ...MIGRATIONS }) },
      migrationTableName: MIGRATION_TABLE,
      migrationLockTableName: MIGRATION_LOCK_TABLE,
    });
    const { error } = await migrator.migrateTo(NO_MIGRATIONS);
    expect(error).toBeUndefined();
    expect(await appTables(database)).toEqual([]);
    await migrate(database.pool);
    expect(await appTables(database)).toEqual(TABLES);
  });
});

describe('migrate: constraints of the initial schema', () => {
  let database: TestDatabase;
  let db: Kysely<Database>;

  beforeAll(async () => {
    database = await emptyDatabase();
    await migrate(database.pool);
    db = createDb(database.pool);
  });

  afterEach(async () => {
    await db.deleteFrom('users').execute();
  });

  async function newUser(apiKeyHash: string | null = null): Promise<string> {
    const row = await db
      .insertInto('users')
      .values({ name: 'owner', api_key_hash: apiKeyHash })
      .returning('id')
      .executeTakeFirstOrThrow();
    return row.id;
  }

  /** A space with its root session, as SpaceManager creates them. */
  async function newSpace(userId?: string): Promise<{ spaceId: string; rootId: string }> {
    const owner = userId ?? (await newUser());
    const space = await db
      .insertInto('spaces')
      .values({ user_id: owner, label: 'space' })
      .returning('id')
      .executeTakeFirstOrThrow();
    const root = await db
      .insertInto('sessions')
      .values({ space_id: space.id, label: 'root', role: 'main' })
      .returning('id')
      .executeTakeFirstOrThrow();
    return { spaceId: space.id, rootId: root.id };
  }

  async function newChild(spaceId: string, parentId: string, index: number, depth = 1): Promise<string> {
    const row = await db
      .insertInto('sessions')
      .values({ space_id: spaceId, parent_id: parentId, label: `child ${index}`, index, depth })
      .returning('id')
      .executeTakeFirstOrThrow();
    return row.id;
  }

  async function countRows(
    table: Exclude<keyof Database, 'users' | 'spaces'>,
    spaceId: string,
  ): Promise<number> {
    const { rows } = await sql<{ n: number }>`
      SELECT count(*) AS n FROM ${sql.table(table)} WHERE space_id = ${spaceId}`.execute(db);
    return rows[0]!.n;
  }

  it('fills the documented defaults when optional columns are omitted', async () => {
    const { spaceId, rootId } = await newSpace();
    const space = await db
      .selectFrom('spaces')
      .selectAll()
      .where('id', '=', spaceId)
      .executeTakeFirstOrThrow();
    const root = await db
      .selectFrom('sessions')
      .selectAll()
      .where('id', '=', rootId)
      .executeTakeFirstOrThrow();
    expect(space.config).toEqual({});
    expect(space.created_at).toBeInstanceOf(Date);
    expect(root).toMatchObject({
      parent_id: null,
      status: 'active',
      depth: 0,
      index: 0,
      next_child_index: 0,
      turn_count: 0,
      tags: [],
      metadata: {},
      source_session_id: null,
    });
    const child = await db
      .insertInto('sessions')
      .values({ space_id: spaceId, parent_id: rootId, label: 'child', depth: 1 })
      .returning(['role'])
      .executeTakeFirstOrThrow();
    expect(child.role).toBe('standard');
  });

  it('rejects a second root when the space already has one', async () => {
    const { spaceId } = await newSpace();
    await expect(
      db.insertInto('sessions').values({ space_id: spaceId, label: 'another root', role: 'main' }).execute(),
    ).rejects.toMatchObject({ code: '23505', constraint: 'sessions_one_root_per_space_idx' });
  });

  it('rejects a sibling index when another child of the parent has it', async () => {
    const { spaceId, rootId } = await newSpace();
    await newChild(spaceId, rootId, 0);
    await newChild(spaceId, rootId, 1);
    await expect(newChild(spaceId, rootId, 1)).rejects.toMatchObject({
      code: '23505',
      constraint: 'sessions_parent_id_index_key',
    });
  });

  it('rejects a main session with a parent and a standard session without one', async () => {
    const { spaceId, rootId } = await newSpace();
    await expect(
      db
        .insertInto('sessions')
        .values({ space_id: spaceId, parent_id: rootId, label: 'bad', role: 'main', depth: 1 })
        .execute(),
    ).rejects.toMatchObject({ code: '23514', constraint: 'sessions_role_parent_check' });
    const other = await newSpace();
    await db.deleteFrom('sessions').where('id', '=', other.rootId).execute();
    await expect(
      db.insertInto('sessions').values({ space_id: other.spaceId, label: 'bad', role: 'standard' }).execute(),
    ).rejects.toMatchObject({ code: '23514', constraint: 'sessions_role_parent_check' });
  });

  it('rejects a child whose depth is 0 and a root whose depth is not', async () => {
    const { spaceId, rootId } = await newSpace();
    await expect(newChild(spaceId, rootId, 0, 0)).rejects.toMatchObject({
      code: '23514',
      constraint: 'sessions_root_depth_check',
    });
  });

  it('rejects unknown role and status values', async () => {
    const { spaceId, rootId } = await newSpace();
    await expect(
      sql`UPDATE sessions SET status = 'deleted' WHERE id = ${rootId}`.execute(db),
    ).rejects.toMatchObject({ code: '23514', constraint: 'sessions_status_check' });
    await expect(
      sql`INSERT INTO sessions (space_id, parent_id, label, role, depth) VALUES (${spaceId}, ${rootId}, 'x', 'admin', 1)`.execute(
        db,
      ),
    ).rejects.toMatchObject({ code: '23514', constraint: 'sessions_role_check' });
  });

  it('rejects a parent when it belongs to another space', async () => {
    const first = await newSpace();
    const second = await newSpace();
    await expect(newChild(second.spaceId, first.rootId, 0)).rejects.toMatchObject({
      code: '23503',
      constraint: 'sessions_parent_fkey',
    });
  });

  it('rejects a record, slot or ref when its session is in another space', async () => {
    const first = await newSpace();
    const second = await newSpace();
    const secondChild = await newChild(second.spaceId, second.rootId, 0);
    await expect(
      db
        .insertInto('records')
        .values({ space_id: second.spaceId, session_id: first.rootId, role: 'user' })
        .execute(),
    ).rejects.toMatchObject({ code: '23503', constraint: 'records_session_fkey' });
    await expect(
      db
        .insertInto('session_data')
        .values({ space_id: second.spaceId, session_id: first.rootId, key: 'memory', content: 'm' })
        .execute(),
    ).rejects.toMatchObject({ code: '23503', constraint: 'session_data_session_fkey' });
    await expect(
      db
        .insertInto('session_refs')
        .values({ space_id: second.spaceId, from_id: secondChild, to_id: first.rootId })
        .execute(),
    ).rejects.toMatchObject({ code: '23503', constraint: 'session_refs_to_fkey' });
  });

  it('rejects a session_data key when it is not one of the slots', async () => {
    const { spaceId, rootId } = await newSpace();
    await expect(
      sql`INSERT INTO session_data (space_id, session_id, key, content) VALUES (${spaceId}, ${rootId}, 'notes', '')`.execute(
        db,
      ),
    ).rejects.toMatchObject({ code: '23514', constraint: 'session_data_key_check' });
  });

  it('rejects a ref from a session to itself', async () => {
    const { spaceId, rootId } = await newSpace();
    await expect(
      db.insertInto('session_refs').values({ space_id: spaceId, from_id: rootId, to_id: rootId }).execute(),
    ).rejects.toMatchObject({ code: '23514', constraint: 'session_refs_not_self_check' });
  });

  it('rejects an empty space label, non-object config and non-array tool_calls', async () => {
    const userId = await newUser();
    await expect(
      db.insertInto('spaces').values({ user_id: userId, label: '' }).execute(),
    ).rejects.toMatchObject({
      code: '23514',
      constraint: 'spaces_label_check',
    });
    await expect(
      db.insertInto('spaces').values({ user_id: userId, label: 'x', config: '[]' }).execute(),
    ).rejects.toMatchObject({ code: '23514', constraint: 'spaces_config_check' });
    const { spaceId, rootId } = await newSpace(userId);
    await expect(
      db
        .insertInto('records')
        .values({ space_id: spaceId, session_id: rootId, role: 'assistant', tool_calls: '{}' })
        .execute(),
    ).rejects.toMatchObject({ code: '23514', constraint: 'records_tool_calls_check' });
  });

  it('rejects a duplicate api_key_hash but allows many users without a key', async () => {
    await newUser('a'.repeat(64));
    await newUser(null);
    await newUser(null);
    await expect(newUser('a'.repeat(64))).rejects.toMatchObject({
      code: '23505',
      constraint: 'users_api_key_hash_key',
    });
  });

  it('deletes the subtree with its records, slots and refs when a session is deleted', async () => {
    const { spaceId, rootId } = await newSpace();
    const child = await newChild(spaceId, rootId, 0);
    const grandchild = await newChild(spaceId, child, 0, 2);
    const sibling = await newChild(spaceId, rootId, 1);
    await db
      .insertInto('records')
      .values([
        { space_id: spaceId, session_id: child, role: 'user', content: 'hi' },
        { space_id: spaceId, session_id: grandchild, role: 'user', content: 'hi' },
        { space_id: spaceId, session_id: sibling, role: 'user', content: 'kept' },
      ])
      .execute();
    await db
      .insertInto('session_data')
      .values([
        { space_id: spaceId, session_id: grandchild, key: 'memory', content: 'm' },
        { space_id: spaceId, session_id: sibling, key: 'memory', content: 'kept' },
      ])
      .execute();
    await db
      .insertInto('session_refs')
      .values([
        { space_id: spaceId, from_id: sibling, to_id: grandchild },
        { space_id: spaceId, from_id: grandchild, to_id: sibling },
      ])
      .execute();
    const fork = await db
      .insertInto('sessions')
      .values({
        space_id: spaceId,
        parent_id: rootId,
        label: 'fork',
        index: 2,
        depth: 1,
        source_session_id: child,
      })
      .returning('id')
      .executeTakeFirstOrThrow();

    await db.deleteFrom('sessions').where('id', '=', child).execute();

    const remaining = await db.selectFrom('sessions').select('id').where('space_id', '=', spaceId).execute();
    expect(remaining.map((row) => row.id).sort()).toEqual([rootId, sibling, fork.id].sort());
    expect(
      await db.selectFrom('records').select('content').where('space_id', '=', spaceId).execute(),
    ).toEqual([{ content: 'kept' }]);
    expect(
      await db.selectFrom('session_data').select('content').where('space_id', '=', spaceId).execute(),
    ).toEqual([{ content: 'kept' }]);
    expect(await countRows('session_refs', spaceId)).toBe(0);
    const forked = await db
      .selectFrom('sessions')
      .select('source_session_id')
      .where('id', '=', fork.id)
      .executeTakeFirstOrThrow();
    expect(forked.source_session_id).toBeNull();
  });

  it('deletes everything of a space when the space is deleted, and spaces when their user is', async () => {
    const userId = await newUser();
    const { spaceId, rootId } = await newSpace(userId);
    const child = await newChild(spaceId, rootId, 0);
    await db.insertInto('records').values({ space_id: spaceId, session_id: child, role: 'user' }).execute();
    await db
      .insertInto('session_data')
      .values({ space_id: spaceId, session_id: rootId, key: 'insight', content: 'i' })
      .execute();
    await db
      .insertInto('session_refs')
      .values({ space_id: spaceId, from_id: child, to_id: rootId })
      .execute();
    await db
      .insertInto('core_data')
      .values({ space_id: spaceId, path: 'profile.name', value: '"Ada"' })
      .execute();
    const survivor = await newSpace();

    await db.deleteFrom('spaces').where('id', '=', spaceId).execute();
    for (const table of ['sessions', 'records', 'session_data', 'session_refs', 'core_data'] as const) {
      expect(await countRows(table, spaceId)).toBe(0);
    }
    expect(await countRows('sessions', survivor.spaceId)).toBe(1);

    const { spaceId: secondSpace } = await newSpace(userId);
    await db.deleteFrom('users').where('id', '=', userId).execute();
    expect(await db.selectFrom('spaces').select('id').where('id', '=', secondSpace).execute()).toEqual([]);
    expect(await countRows('sessions', secondSpace)).toBe(0);
  });

  it('orders records by an increasing numeric id when they are appended', async () => {
    const { spaceId, rootId } = await newSpace();
    const inserted = await db
      .insertInto('records')
      .values(
        ['a', 'b', 'c'].map((content) => ({
          space_id: spaceId,
          session_id: rootId,
          role: 'user' as const,
          content,
        })),
      )
      .returning(['id', 'content'])
      .execute();
    expect(inserted.every((row) => typeof row.id === 'number')).toBe(true);
    const newest = await db
      .selectFrom('records')
      .select('content')
      .where('session_id', '=', rootId)
      .orderBy('id', 'desc')
      .limit(2)
      .execute();
    expect(newest.map((row) => row.content)).toEqual(['c', 'b']);
    const after = await db
      .selectFrom('records')
      .select('content')
      .where('session_id', '=', rootId)
      .where('id', '>', inserted[0]!.id)
      .orderBy('id')
      .execute();
    expect(after.map((row) => row.content)).toEqual(['b', 'c']);
  });

  it('round-trips jsonb and text[] values when written as documented', async () => {
    const { spaceId, rootId } = await newSpace();
    const toolCalls = [{ id: 'call_1', name: 'lookup', input: { q: 'x' } }];
    await db
      .insertInto('records')
      .values({
        space_id: spaceId,
        session_id: rootId,
        role: 'assistant',
        tool_calls: JSON.stringify(toolCalls),
        metadata: JSON.stringify({ model: 'm' }),
      })
      .execute();
    await db
      .updateTable('sessions')
      .set({ tags: ['a', 'b,c', '{d}'], metadata: JSON.stringify({ nested: { n: 1 } }) })
      .where('id', '=', rootId)
      .execute();
    const record = await db
      .selectFrom('records')
      .select(['tool_calls', 'metadata'])
      .where('session_id', '=', rootId)
      .executeTakeFirstOrThrow();
    expect(record).toEqual({ tool_calls: toolCalls, metadata: { model: 'm' } });
    const session = await db
      .selectFrom('sessions')
      .select(['tags', 'metadata'])
      .where('id', '=', rootId)
      .executeTakeFirstOrThrow();
    expect(session).toEqual({ tags: ['a', 'b,c', '{d}'], metadata: { nested: { n: 1 } } });
  });
});
