import {
  type ContractFixture,
  createTestDatabase,
  describeAccountStoreContracts,
  describeRateLimitStoreContract,
  describeStorageContracts,
  type TestDatabase,
} from '@internal/testing';
import { afterAll, beforeAll } from 'vitest';
import { createSpaceFixture } from './__fixtures__/space-fixture';
import { PgStores } from './pg-stores';

// The same contract suites the in-memory backends pass, against PostgreSQL: each test gets two
// fresh spaces (with roots) in this file's database, and the account stores of its pool.
let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
});

afterAll(async () => {
  await database.drop();
});

async function pgFixture(): Promise<ContractFixture> {
  const [space, other] = await Promise.all([
    createSpaceFixture(database.pool, 'contract space'),
    createSpaceFixture(database.pool, 'other space'),
  ]);
  return {
    storage: space.storage,
    sessions: space.sessions,
    memory: space.memory,
    rootId: space.rootId,
    otherSpace: {
      storage: other.storage,
      sessions: other.sessions,
      memory: other.memory,
      rootId: other.rootId,
    },
  };
}

describeStorageContracts('PostgreSQL', pgFixture);

describeAccountStoreContracts('PostgreSQL', async () => {
  const stores = new PgStores(database.pool);
  return { spaces: stores.spaces, users: stores.users };
});

describeRateLimitStoreContract('PostgreSQL', async () => {
  const stores = new PgStores(database.pool);
  return { users: stores.users, rateLimits: stores.rateLimits };
});
