import { randomUUID } from 'node:crypto';
import { createTestDatabase, type TestDatabase } from '@internal/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertRootSession } from '../__fixtures__/insert-root-session';

describe('2026_12_04_0004_turn_ledger', () => {
  let database: TestDatabase;
  let rootId: string;
  let spaceId: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    rootId = await insertRootSession(database.pool);
    const { rows } = await database.pool.query<{ space_id: string }>(
      'SELECT space_id FROM sessions WHERE id = $1',
      [rootId],
    );
    spaceId = rows[0]!.space_id;
  });
  afterAll(() => database?.drop());

  it('stores a turn of a session and deletes it with the session', async () => {
    const turnId = randomUUID();
    await database.pool.query(
      `INSERT INTO turns (space_id, turn_id, session_id, request_hash, status) VALUES ($1, $2, $3, 'h', 'running')`,
      [spaceId, turnId, rootId],
    );
    await database.pool.query('DELETE FROM sessions WHERE id = $1', [rootId]);
    const { rows } = await database.pool.query('SELECT 1 FROM turns WHERE turn_id = $1', [turnId]);
    expect(rows).toEqual([]);
  });

  it('refuses an unknown status and a session of another space', async () => {
    const sessionId = await insertRootSession(database.pool);
    const bad = await database.pool
      .query(
        `INSERT INTO turns (space_id, turn_id, session_id, request_hash, status)
         SELECT space_id, $2, id, 'h', 'paused' FROM sessions WHERE id = $1`,
        [sessionId, randomUUID()],
      )
      .catch((caught: unknown) => caught);
    expect(bad).toMatchObject({ code: '23514' });
    const foreign = await database.pool
      .query(
        `INSERT INTO turns (space_id, turn_id, session_id, request_hash, status) VALUES ($1, $2, $3, 'h', 'running')`,
        [spaceId, randomUUID(), sessionId],
      )
      .catch((caught: unknown) => caught);
    expect(foreign).toMatchObject({ code: '23503' });
  });
});
