/**
 * @module @internal/testing/contracts
 * Storage contract suites: one vitest suite per interface, parameterised by a factory that
 * returns a fresh space of the backend under test.
 */

import type { AccountStoresFactory } from './account-types';
import { describeMainStorageContract } from './main-storage';
import { describeMemoryEngineContract } from './memory-engine';
import { describePagingContract } from './paging';
import { describeSessionStorageContract } from './session-storage';
import { describeSessionTreeContract } from './session-tree';
import { describeSpaceStoreContract } from './space-store';
import type { ContractFactory } from './types';
import { describeUserKeyStoreContract } from './user-key-store';

export type {
  AccountStoresFactory,
  AccountStoresFixture,
  ContractSpaceStore,
  ContractUserKeyStore,
} from './account-types';
export { describeMainStorageContract } from './main-storage';
export { describeMemoryEngineContract } from './memory-engine';
export { describePagingContract } from './paging';
export {
  type ContractRateLimitStore,
  describeRateLimitStoreContract,
  type RateLimitStoresFixture,
} from './rate-limit-store';
export { describeSessionStorageContract } from './session-storage';
export { describeSessionTreeContract } from './session-tree';
export { describeSpaceStoreContract } from './space-store';
export type { ContractFactory, ContractFixture, ContractSpace } from './types';
export { expectCode } from './types';
export { describeUserKeyStoreContract } from './user-key-store';

/** Runs the four storage contract suites, and the paging one, against one backend. */
export function describeStorageContracts(name: string, factory: ContractFactory): void {
  describeSessionStorageContract(name, factory);
  describeMainStorageContract(name, factory);
  describeSessionTreeContract(name, factory);
  describeMemoryEngineContract(name, factory);
  describePagingContract(name, factory);
}

/** Runs the space and user/key store contract suites against one backend. */
export function describeAccountStoreContracts(name: string, factory: AccountStoresFactory): void {
  describeSpaceStoreContract(name, factory);
  describeUserKeyStoreContract(name, factory);
}
