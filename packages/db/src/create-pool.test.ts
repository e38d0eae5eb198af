import { createTestDatabase, type TestDatabase } from '@internal/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool, DEFAULT_IDLE_TIMEOUT_MS, DEFAULT_POOL_MAX } from './create-pool';
import { isDbError } from './errors';

describe('createPool', () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(() => database?.drop());

  it('applies the documented defaults when only connectionString is given', async () => {
    const pool = createPool({ connectionString: database.url });
    try {
      expect(pool.options.max).toBe(DEFAULT_POOL_MAX);
      expect(pool.options.idleTimeoutMillis).toBe(DEFAULT_IDLE_TIMEOUT_MS);
      expect(DEFAULT_POOL_MAX).toBe(20);
      expect(DEFAULT_IDLE_TIMEOUT_MS).toBe(30_000);
    } finally {
      await pool.end();
    }
  });

  it('applies max and idleTimeoutMillis when given', async () => {
    const pool = createPool({ connectionString: database.url, max: 3, idleTimeoutMillis: 1_000 });
    try {
      expect(pool.options).toMatchObject({ max: 3, idleTimeoutMillis: 1_000 });
    } finally {
      await pool.end();
    }
  });

  it('connects, names the application and reads int8 as a number', async () => {
    const pool = createPool({ connectionString: database.url, max: 1 });
    try {
      const { rows } = await pool.query<{ app: string; n: unknown }>(
        "SELECT current_setting('application_name') AS app, count(*) AS n FROM users",
      );
      expect(rows[0]).toEqual({ app: 'stello', n: 0 });
    } finally {
      await pool.end();
    }
  });

  it('keeps the application name of the connection string when it has one', async () => {
    const url = new URL(database.url);
    url.searchParams.set('application_name', 'my-app');
    const pool = createPool({ connectionString: url.toString(), max: 1 });
    try {
      const { rows } = await pool.query<{ app: string }>("SELECT current_setting('application_name') AS app");
      expect(rows[0]?.app).toBe('my-app');
    } finally {
      await pool.end();
    }
  });

  it('throws INVALID_OPTIONS when an option is out of range', () => {
    for (const options of [
      { connectionString: '' },
      { connectionString: '  ' },
      { connectionString: database.url, max: 0 },
      { connectionString: database.url, max: 1.5 },
      { connectionString: database.url, idleTimeoutMillis: -1 },
    ]) {
      let caught: unknown;
      try {
        createPool(options);
      } catch (error) {
        caught = error;
      }
      expect(isDbError(caught, 'INVALID_OPTIONS')).toBe(true);
    }
  });
});
