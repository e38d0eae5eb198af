import { createTestDatabase, type TestDatabase } from '@internal/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertRootSession } from '../__fixtures__/insert-root-session';
import { createDb } from '../create-db';

describe('2026_11_22_0002_turn_lease', () => {
  let database: TestDatabase;
  let rootId: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    rootId = await insertRootSession(database.pool);
  });
  afterAll(() => database?.drop());

  it('leaves a new session without a lease', async () => {
    const row = await createDb(database.pool)
      .selectFrom('sessions')
      .select(['turn_lease_owner', 'turn_lease_expires_at'])
      .where('id', '=', rootId)
      .executeTakeFirstOrThrow();
    expect(row).toEqual({ turn_lease_owner: null, turn_lease_expires_at: null });
  });

  it('stores an owner with its expiry as a Date', async () => {
    const db = createDb(database.pool);
    await db
      .updateTable('sessions')
      .set({ turn_lease_owner: 'instance:1', turn_lease_expires_at: new Date('2030-01-01T00:00:00Z') })
      .where('id', '=', rootId)
      .execute();
    const row = await db
      .selectFrom('sessions')
      .select(['turn_lease_owner', 'turn_lease_expires_at'])
      .where('id', '=', rootId)
      .executeTakeFirstOrThrow();
    expect(row.turn_lease_owner).toBe('instance:1');
    expect(row.turn_lease_expires_at?.toISOString()).toBe('2030-01-01T00:00:00.000Z');
  });

  it('rejects an owner without an expiry and an expiry without an owner', async () => {
    for (const set of [
      "turn_lease_owner = 'x', turn_lease_expires_at = NULL",
      'turn_lease_owner = NULL, turn_lease_expires_at = now()',
    ]) {
      const error = await database.pool
        .query(`UPDATE sessions SET ${set} WHERE id = $1`, [rootId])
        .catch((caught: unknown) => caught);
      expect(error).toMatchObject({ code: '23514', constraint: 'sessions_turn_lease_check' });
    }
  });
});
