import { createTestDatabase, type TestDatabase } from '@internal/testing';
import { createPool } from '@stello-ai/db';
import { SessionError } from '@stello-ai/session';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isStorageError, StorageError } from './errors';
import { translatePgError } from './pg-errors';
import { PgSessionStorage } from './pg-session-storage';

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
});

afterAll(async () => {
  await database.drop();
});

/** A real PostgreSQL error carrying `sqlstate`, raised by the server itself. */
async function raise(sqlstate: string): Promise<unknown> {
  try {
    await database.pool.query(`DO $$ BEGIN RAISE EXCEPTION 'raised' USING ERRCODE = '${sqlstate}'; END $$`);
  } catch (error) {
    return error;
  }
  throw new Error(`expected ${sqlstate} to be raised`);
}

describe('translatePgError', () => {
  it.each([
    ['23505', 'CONFLICT', false],
    ['23503', 'INVALID_REFERENCE', false],
    ['40001', 'TRANSACTION_CONFLICT', true],
    ['40P01', 'TRANSACTION_CONFLICT', true],
    ['57014', 'TIMEOUT', false],
    ['08006', 'UNAVAILABLE', true],
    ['08001', 'UNAVAILABLE', true],
    ['57P01', 'UNAVAILABLE', true],
    ['22P02', 'INVALID_ARGUMENT', false],
    ['22008', 'INVALID_ARGUMENT', false],
    ['23514', 'INVALID_ARGUMENT', false],
  ])('maps SQLSTATE %s to %s', async (sqlstate, code, retryable) => {
    const cause = await raise(sqlstate);
    const translated = translatePgError(cause);
    expect(translated).toBeInstanceOf(StorageError);
    expect(translated).toMatchObject({ name: 'StorageError', code, retryable, cause, details: { sqlstate } });
    expect(isStorageError(translated, code as StorageError['code'])).toBe(true);
  });

  it('passes unlisted SQLSTATEs and non-database errors through untouched', async () => {
    const undefinedTable = await raise('42P01');
    expect(translatePgError(undefinedTable)).toBe(undefinedTable);
    const domain = new SessionError('SESSION_NOT_FOUND', 'gone');
    expect(translatePgError(domain)).toBe(domain);
    expect(translatePgError('text')).toBe('text');
  });

  it('names the violated constraint of a real unique violation', async () => {
    const { rows } = await database.pool.query<{ id: string }>(
      `WITH u AS (INSERT INTO users (name) VALUES ('e') RETURNING id)
       INSERT INTO spaces (user_id, label) SELECT id, 'e' FROM u RETURNING id`,
    );
    const spaceId = rows[0]!.id;
    const insertRoot = `INSERT INTO sessions (space_id, label, role) VALUES ($1, 'root', 'main')`;
    await database.pool.query(insertRoot, [spaceId]);
    const error = await database.pool.query(insertRoot, [spaceId]).catch((caught: unknown) => caught);
    expect(translatePgError(error)).toMatchObject({
      code: 'CONFLICT',
      details: { sqlstate: '23505', constraint: 'sessions_one_root_per_space_idx' },
    });
  });

  it('reports a statement timeout as TIMEOUT', async () => {
    const client = await database.pool.connect();
    try {
      await client.query('SET statement_timeout = 20');
      const error = await client.query('SELECT pg_sleep(2)').catch((caught: unknown) => caught);
      expect(translatePgError(error)).toMatchObject({ code: 'TIMEOUT' });
    } finally {
      client.release(true);
    }
  });

  it('reports an unreachable server as a retryable UNAVAILABLE from the adapters', async () => {
    // Port 1 on the loopback refuses connections at once.
    const pool = createPool({ connectionString: 'postgresql://postgres@127.0.0.1:1/none' });
    try {
      const storage = new PgSessionStorage(pool, '00000000-0000-4000-8000-000000000001');
      const error = await storage
        .getSession('00000000-0000-4000-8000-000000000002')
        .catch((caught: unknown) => caught);
      expect(error).toMatchObject({ name: 'StorageError', code: 'UNAVAILABLE', retryable: true });
      const txError = await storage.transaction(async () => 1).catch((caught: unknown) => caught);
      expect(txError).toMatchObject({ code: 'UNAVAILABLE' });
    } finally {
      await pool.end();
    }
  });
});
