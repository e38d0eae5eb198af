import { createTestDatabase, type TestDatabase } from '@internal/testing';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb } from './create-db';
import { createPool } from './create-pool';
import { queryPrepared } from './query-prepared';

describe('queryPrepared', () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase({ migrated: false });
  });
  afterAll(() => database?.drop());

  it('prepares a text once per connection under one name and reads int8 as a number', async () => {
    // One connection, so the statements prepared on it are the ones these calls left there.
    const pool = createPool({ connectionString: database.url, max: 1 });
    try {
      const db = createDb(pool);
      const query = (n: number) => sql<{ n: number }>`select ${n}::int8 as n`.compile(db);

      const first = await queryPrepared(pool, query(1));
      const second = await queryPrepared(pool, query(2));
      const other = await queryPrepared(pool, sql<{ t: string }>`select 'x'::text as t`.compile(db));

      expect([first, second, other]).toEqual([[{ n: 1 }], [{ n: 2 }], [{ t: 'x' }]]);
      const { rows } = await pool.query<{ name: string; statement: string }>(
        'select name, statement from pg_prepared_statements order by statement collate "C"',
      );
      expect(rows).toEqual([
        { name: expect.stringMatching(/^stello_[0-9a-f]{20}$/), statement: 'select $1::int8 as n' },
        { name: expect.stringMatching(/^stello_[0-9a-f]{20}$/), statement: "select 'x'::text as t" },
      ]);
      expect(rows[0]!.name).not.toBe(rows[1]!.name);
    } finally {
      await pool.end();
    }
  });
});
