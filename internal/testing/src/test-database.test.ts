import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './index';

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

async function tableNames(db: TestDatabase): Promise<string[]> {
  const { rows } = await db.pool.query<{ table_name: string }>(
    `SELECT table_name FROM information_schema.tables
     WHERE table_schema = 'public' AND table_name NOT LIKE 'stello_migration%' ORDER BY table_name`,
  );
  return rows.map((row) => row.table_name);
}

async function databaseExists(name: string): Promise<boolean> {
  // The admin URL is provided by the global setup; reach it through a throwaway test database.
  const probe = await createTestDatabase({ migrated: false });
  try {
    const { rowCount } = await probe.pool.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    return rowCount === 1;
  } finally {
    await probe.drop();
  }
}

describe('createTestDatabase', () => {
  let first: TestDatabase;
  let second: TestDatabase;

  beforeAll(async () => {
    [first, second] = await Promise.all([createTestDatabase(), createTestDatabase()]);
  });
  afterAll(async () => {
    await Promise.all([first?.drop(), second?.drop()]);
  });

  it('returns a migrated database when called without options', async () => {
    expect(await tableNames(first)).toEqual(TABLES);
    const { rows } = await first.pool.query<{ name: string }>(
      'SELECT name FROM stello_migration ORDER BY name',
    );
    expect(rows.map((row) => row.name)).toEqual([
      '2026_11_22_0001_initial_schema',
      '2026_11_22_0002_turn_lease',
      '2026_11_22_0003_records_revision',
      '2026_12_04_0004_turn_ledger',
      '2026_12_04_0005_session_usage',
      '2026_12_04_0006_rate_limits',
    ]);
  });

  it('gives each call its own database when called twice', async () => {
    expect(first.name).not.toBe(second.name);
    expect(first.name.startsWith(`stello_test_${inject('stelloTestPostgres').runId}_`)).toBe(true);
    await first.pool.query("INSERT INTO users (name) VALUES ('only-in-first')");
    const inFirst = await first.pool.query('SELECT name FROM users');
    const inSecond = await second.pool.query('SELECT name FROM users');
    expect(inFirst.rows).toEqual([{ name: 'only-in-first' }]);
    expect(inSecond.rows).toEqual([]);
  });

  it('returns an empty database when migrated is false', async () => {
    const empty = await createTestDatabase({ migrated: false });
    try {
      expect(await tableNames(empty)).toEqual([]);
    } finally {
      await empty.drop();
    }
  });

  it('drops the database and ends the pool when drop is called, twice without error', async () => {
    const doomed = await createTestDatabase();
    await doomed.drop();
    await doomed.drop();
    expect(doomed.pool.ended).toBe(true);
    expect(await databaseExists(doomed.name)).toBe(false);
  });

  it('drops the database when disposed with await using', async () => {
    let name = '';
    {
      await using scoped = await createTestDatabase();
      name = scoped.name;
      expect(await databaseExists(name)).toBe(true);
    }
    expect(await databaseExists(name)).toBe(false);
  });

  it('reads int8 as a number through its pool', async () => {
    const { rows } = await first.pool.query<{ n: unknown }>('SELECT count(*) AS n FROM users');
    expect(typeof rows[0]?.n).toBe('number');
  });
});
