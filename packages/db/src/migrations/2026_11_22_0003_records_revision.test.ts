import { createTestDatabase, type TestDatabase } from '@internal/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertRootSession } from '../__fixtures__/insert-root-session';
import { createDb } from '../create-db';

describe('2026_11_22_0003_records_revision', () => {
  let database: TestDatabase;
  let rootId: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    rootId = await insertRootSession(database.pool);
  });
  afterAll(() => database?.drop());

  it('starts a new session at revision 0, read as a number', async () => {
    const row = await createDb(database.pool)
      .selectFrom('sessions')
      .select('records_rev')
      .where('id', '=', rootId)
      .executeTakeFirstOrThrow();
    expect(row.records_rev).toBe(0);
  });

  it('refuses a missing revision', async () => {
    const error = await database.pool
      .query('UPDATE sessions SET records_rev = NULL WHERE id = $1', [rootId])
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: '23502', column: 'records_rev' });
  });
});
