import { describeAccountStoreContracts } from '@internal/testing';
import { InMemorySpaceStore } from './spaces/in-memory-space-store';
import { InMemoryUserStore } from './users/in-memory-user-store';

// The account stores in memory pass the same suites as PostgreSQL (pg-contracts.test.ts).
describeAccountStoreContracts('in memory', async () => {
  const users = new InMemoryUserStore();
  const spaces = new InMemorySpaceStore({ userExists: (userId) => users.has(userId) });
  return { spaces, users };
});
