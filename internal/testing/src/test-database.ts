import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { createPool } from '@stello-ai/db';
import type pg from 'pg';
import { inject } from 'vitest';
import {
  databaseUrl,
  dropDatabase,
  hasSqlState,
  OBJECT_IN_USE,
  quoteIdent,
  withAdminClient,
} from './admin-client';
import { testDatabasePrefix } from './database-names';
import { TEST_POSTGRES_KEY } from './provided-context';

/** How long `createTestDatabase` keeps retrying while the template is busy. */
const TEMPLATE_BUSY_RETRY_MS = 10_000;

/** Pause between two attempts to clone a busy template. */
const TEMPLATE_BUSY_PAUSE_MS = 100;

/** Connections of a test database's pool. */
const TEST_POOL_MAX = 10;

/** A database of its own for one test file (or one test). */
export interface TestDatabase {
  /** Connection URL of the database. */
  url: string;
  /** A pool on the database, made by `createPool` (int8 read as numbers). */
  pool: pg.Pool;
  /** The database name. */
  name: string;
  /** Ends the pool and drops the database, disconnecting any other session. Safe to call twice. */
  drop(): Promise<void>;
  /** Same as `drop`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** Options of `createTestDatabase`. */
export interface CreateTestDatabaseOptions {
  /**
   * `true` (default): a clone of the migrated template. `false`: an empty database (from
   * `template0`), for tests of the migrations themselves.
   */
  migrated?: boolean;
}

/**
 * Creates a fresh, uniquely named database for a test file, by default already migrated.
 *
 * It clones the template prepared by the global setup (`CREATE DATABASE ... TEMPLATE`), which is
 * much faster than migrating, retrying briefly while the template is busy. Call `drop()` in
 * `afterAll` (or use `await using`); the global teardown drops anything left over.
 *
 * @example
 * ```ts
 * let db: TestDatabase;
 * beforeAll(async () => { db = await createTestDatabase(); });
 * afterAll(() => db.drop());
 * ```
 */
export async function createTestDatabase(options: CreateTestDatabaseOptions = {}): Promise<TestDatabase> {
  const { adminUrl, templateDb, runId } = inject(TEST_POSTGRES_KEY);
  const name = `${testDatabasePrefix(runId)}${randomBytes(6).toString('hex')}`;
  const template = options.migrated === false ? 'template0' : templateDb;
  await withAdminClient(adminUrl, (client) => createFromTemplate(client, name, template));
  const url = databaseUrl(adminUrl, name);
  const pool = createPool({ connectionString: url, max: TEST_POOL_MAX });
  let dropping: Promise<void> | undefined;
  const drop = () => {
    dropping ??= (async () => {
      if (!pool.ended) await pool.end();
      await withAdminClient(adminUrl, (client) => dropDatabase(client, name));
    })();
    return dropping;
  };
  return { url, pool, name, drop, [Symbol.asyncDispose]: drop };
}

async function createFromTemplate(client: pg.Client, name: string, template: string): Promise<void> {
  const deadline = Date.now() + TEMPLATE_BUSY_RETRY_MS;
  for (;;) {
    try {
      await client.query(`CREATE DATABASE ${quoteIdent(name)} TEMPLATE ${quoteIdent(template)}`);
      return;
    } catch (error) {
      // "source database is being accessed by other users": someone else is cloning or connected.
      if (!hasSqlState(error, OBJECT_IN_USE) || Date.now() > deadline) throw error;
      await sleep(TEMPLATE_BUSY_PAUSE_MS);
    }
  }
}
