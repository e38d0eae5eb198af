import { createTestDatabase, type TestDatabase } from '@internal/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

describe('2026_12_04_0006_rate_limits', () => {
  let database: TestDatabase;
  let userId: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    const { rows } = await database.pool.query<{ id: string }>(
      "INSERT INTO users (name) VALUES ('limited') RETURNING id",
    );
    userId = rows[0]!.id;
  });
  afterAll(() => database?.drop());

  it('leaves a new user on the server defaults and refuses a negative limit', async () => {
    const { rows } = await database.pool.query(
      'SELECT turns_per_minute, concurrent_streams FROM users WHERE id = $1',
      [userId],
    );
    expect(rows).toEqual([{ turns_per_minute: null, concurrent_streams: null }]);
    const bad = await database.pool
      .query('UPDATE users SET turns_per_minute = -1 WHERE id = $1', [userId])
      .catch((caught: unknown) => caught);
    expect(bad).toMatchObject({ code: '23514' });
  });

  it("keeps one row per key, window and process, deleted with the key's user", async () => {
    const insert = () =>
      database.pool.query(
        `INSERT INTO rate_usage (key_id, window_start, process_id, turns) VALUES ($1, '2026-12-04T21:00:00Z', 'p1', 1)`,
        [userId],
      );
    await insert();
    expect(await insert().catch((caught: unknown) => caught)).toMatchObject({ code: '23505' });
    await database.pool.query('DELETE FROM users WHERE id = $1', [userId]);
    const { rows } = await database.pool.query('SELECT 1 FROM rate_usage WHERE key_id = $1', [userId]);
    expect(rows).toEqual([]);
  });
});
