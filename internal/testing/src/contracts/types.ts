import type { MemoryEngine, SessionTree } from '@stello-ai/core';
import { isCodedError, type MainStorage } from '@stello-ai/session';
import { expect } from 'vitest';

/** The views of one space a backend provides; `rootId` is the space's root session. */
export interface ContractSpace {
  storage: MainStorage;
  sessions: SessionTree;
  memory: MemoryEngine;
  rootId: string;
}

/**
 * What a contract factory returns: a fresh space with a root (and, when the backend can host
 * several, a second space to check isolation), plus an optional cleanup run after the test.
 */
export interface ContractFixture extends ContractSpace {
  /** A second, independent space of the same backend, for the isolation tests. */
  otherSpace: ContractSpace;
  cleanup?: () => Promise<void>;
}

/**
 * Builds a fresh fixture; called once per test. The in-memory backend creates a new store, the
 * PostgreSQL backend a new space (and root) in its test database.
 */
export type ContractFactory = () => Promise<ContractFixture>;

/** Asserts that `promise` rejects with an error carrying `code`. */
export async function expectCode(promise: Promise<unknown>, code: string): Promise<void> {
  const error = await promise.then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(error, `expected a rejection with code ${code}`).not.toBeNull();
  expect(isCodedError(error, code), `expected code ${code}, got ${String(error)}`).toBe(true);
}

/** Lets a test use the fixture of the current test and releases it afterwards. */
export interface FixtureHandle<T = ContractFixture> {
  readonly current: T;
}
