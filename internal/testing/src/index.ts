/**
 * @module @internal/testing
 * Test helpers shared by the workspace's packages (private, consumed from source).
 */

export type {
  AccountStoresFactory,
  AccountStoresFixture,
  ContractFactory,
  ContractFixture,
  ContractSpace,
} from './contracts';
// Storage contract suites (also importable alone from `@internal/testing/contracts`).
export {
  describeAccountStoreContracts,
  describeMainStorageContract,
  describeMemoryEngineContract,
  describePagingContract,
  describeRateLimitStoreContract,
  describeSessionStorageContract,
  describeSessionTreeContract,
  describeSpaceStoreContract,
  describeStorageContracts,
  describeUserKeyStoreContract,
  expectCode,
  type RateLimitStoresFixture,
} from './contracts';

// Fake LLM servers speaking the OpenAI and Anthropic wire formats on 127.0.0.1.
export * from './fake-llm';
export type { TestPostgres, TestPostgresSource } from './provided-context';
// The scripted chat model every package's tests use (also `@internal/testing/scripted-llm`).
export * from './scripted-llm';
// An embedded PostgreSQL of its own (the benchmark's, with durability on).
export {
  type EmbeddedPostgresOptions,
  type EmbeddedPostgresServer,
  startEmbeddedPostgres,
} from './start-postgres';
// PostgreSQL: one database per test file, cloned from the template of the global setup.
export { type CreateTestDatabaseOptions, createTestDatabase, type TestDatabase } from './test-database';
// A pool on a database that is down, for outage tests.
export { createUnreachablePool } from './unreachable-pool';
