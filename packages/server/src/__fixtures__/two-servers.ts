import { createTestDatabase, type FakeLLMServerOptions, type TestDatabase } from '@internal/testing';
import { createPool } from '@stello-ai/db';
import { UserStore } from '@stello-ai/runtime';
import { PgStores } from '@stello-ai/storage';
import type pg from 'pg';
import type { StelloServerOptions } from '../create-stello-server';
import { type E2EHarness, startHarness } from './e2e-harness';

// Test-only: two server "processes" on one fresh database, each with its own pool (so its own
// connections, caches and control channel), as the cross-process suites need them.

/** What each of the two servers gets. */
export interface TwoServerOptions {
  fake?: FakeLLMServerOptions;
  server?: Partial<StelloServerOptions>;
  /**
   * The production users store (30 s key cache, kept coherent by the control channel) instead of
   * the harness's uncached one: what cross-process revocation is about.
   */
  cachedUserStore?: boolean;
}

/** Two servers on one test database; `close()` ends both, their pools and the database. */
export interface TwoServers {
  db: TestDatabase;
  poolA: pg.Pool;
  poolB: pg.Pool;
  a: E2EHarness;
  b: E2EHarness;
  close(): Promise<void>;
}

/** Starts `a` (which migrates) and then `b` (which does not) on a new test database. */
export async function startTwoServers(
  options: { a?: TwoServerOptions; b?: TwoServerOptions } = {},
): Promise<TwoServers> {
  const db = await createTestDatabase();
  const poolA = createPool({ connectionString: db.url });
  const poolB = createPool({ connectionString: db.url });
  const start = (pool: pg.Pool, own: TwoServerOptions = {}, extra: Partial<StelloServerOptions> = {}) =>
    startHarness(pool, {
      ...(own.fake && { fake: own.fake }),
      server: {
        ...(own.cachedUserStore && { userStore: new UserStore(new PgStores(pool).users) }),
        ...own.server,
        ...extra,
      },
    });
  const a = await start(poolA, options.a);
  const b = await start(poolB, options.b, { skipMigrate: true });
  return {
    db,
    poolA,
    poolB,
    a,
    b,
    async close() {
      await a.close();
      await b.close();
      await poolA.end();
      await poolB.end();
      await db.drop();
    },
  };
}
