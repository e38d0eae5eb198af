import { createTestDatabase, type TestDatabase } from '@internal/testing';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb } from './create-db';
import { isDbError } from './errors';

describe('createDb', () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(() => database?.drop());

  it('reads and writes typed rows when given a pool', async () => {
    const db = createDb(database.pool);
    const user = await db
      .insertInto('users')
      .values({ name: 'ada' })
      .returning(['id', 'name'])
      .executeTakeFirstOrThrow();
    const found = await db
      .selectFrom('users')
      .selectAll()
      .where('id', '=', user.id)
      .executeTakeFirstOrThrow();
    expect(found).toMatchObject({ id: user.id, name: 'ada', api_key_hash: null });
    expect(found.created_at).toBeInstanceOf(Date);
  });

  it('commits and rolls back its own transactions when given a pool', async () => {
    const db = createDb(database.pool);
    await db.transaction().execute((trx) => trx.insertInto('users').values({ name: 'committed' }).execute());
    await expect(
      db.transaction().execute(async (trx) => {
        await trx.insertInto('users').values({ name: 'rolled back' }).execute();
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    const names = await db
      .selectFrom('users')
      .select('name')
      .where('name', 'in', ['committed', 'rolled back'])
      .execute();
    expect(names).toEqual([{ name: 'committed' }]);
  });

  it('runs inside the caller transaction when given a checked-out client', async () => {
    const client = await database.pool.connect();
    try {
      await client.query('BEGIN');
      const db = createDb(client);
      await db.insertInto('users').values({ name: 'in-transaction' }).execute();
      const seenByClient = await db
        .selectFrom('users')
        .select('name')
        .where('name', '=', 'in-transaction')
        .execute();
      const seenByOthers = await database.pool.query("SELECT 1 FROM users WHERE name = 'in-transaction'");
      expect(seenByClient).toHaveLength(1);
      expect(seenByOthers.rowCount).toBe(0);
      await client.query('ROLLBACK');
      expect(
        await db.selectFrom('users').select('name').where('name', '=', 'in-transaction').execute(),
      ).toEqual([]);
    } finally {
      client.release();
    }
  });

  it('leaves the pool and the client usable when destroyed', async () => {
    await createDb(database.pool).destroy();
    expect(database.pool.ended).toBe(false);
    await expect(database.pool.query('SELECT 1 AS one')).resolves.toMatchObject({ rows: [{ one: 1 }] });
    const client = await database.pool.connect();
    try {
      await createDb(client).destroy();
      await expect(client.query('SELECT 1 AS one')).resolves.toMatchObject({ rows: [{ one: 1 }] });
    } finally {
      client.release();
    }
  });

  it('reads int8 as a number when the pool was not made by createPool', async () => {
    const plain = new pg.Pool({ connectionString: database.url, max: 1 });
    try {
      const db = createDb(plain);
      const { rows } = await sql<{ n: unknown; big: unknown; at: unknown }>`
        SELECT count(*) AS n, 9007199254740991::int8 AS big, now() AS at`.execute(db);
      expect(rows[0]).toMatchObject({ n: expect.any(Number), big: Number.MAX_SAFE_INTEGER });
      expect(rows[0]?.at).toBeInstanceOf(Date);
      // The pool's own queries keep pg's default: createDb changes nothing globally.
      const raw = await plain.query<{ n: unknown }>('SELECT 1::int8 AS n');
      expect(raw.rows[0]?.n).toBe('1');
    } finally {
      await plain.end();
    }
  });

  it('fails the query when an int8 does not fit in a safe integer', async () => {
    const db = createDb(database.pool);
    const error = await sql`SELECT 9007199254740993::int8 AS n`
      .execute(db)
      .catch((caught: unknown) => caught);
    expect(isDbError(error, 'INT8_OUT_OF_RANGE')).toBe(true);
    // The connection went back to the pool in a usable state.
    await expect(sql`SELECT 1 AS one`.execute(db)).resolves.toMatchObject({ rows: [{ one: 1 }] });
  });
});
