import { describeAccountStoreContracts, describeRateLimitStoreContract } from '@internal/testing';
import { InMemorySpaceStore } from './spaces/in-memory-space-store';
import { InMemoryRateLimitStore } from './users/in-memory-rate-limit-store';
import { InMemoryUserStore } from './users/in-memory-user-store';

// The account stores in memory pass the same suites as PostgreSQL (pg-contracts.test.ts).
describeAccountStoreContracts('in memory', async () => {
  const users = new InMemoryUserStore();
  const spaces = new InMemorySpaceStore({ userExists: (userId) => users.has(userId) });
  return { spaces, users };
});

describeRateLimitStoreContract('in memory', async () => {
  const users = new InMemoryUserStore();
  return { users, rateLimits: new InMemoryRateLimitStore({ keyExists: (keyId) => users.has(keyId) }) };
});
