import { afterEach, beforeEach } from 'vitest';
import type { ContractFactory, ContractFixture, FixtureHandle } from './types';

/** Creates a fresh fixture before each test of the enclosing `describe` and cleans it up after. */
export function useFixture(factory: ContractFactory): FixtureHandle {
  let fixture: ContractFixture | null = null;
  beforeEach(async () => {
    fixture = await factory();
  });
  afterEach(async () => {
    const done = fixture;
    fixture = null;
    await done?.cleanup?.();
  });
  return {
    get current(): ContractFixture {
      if (!fixture) throw new Error('contract fixture used outside a test');
      return fixture;
    },
  };
}
