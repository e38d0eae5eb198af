import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach } from 'vitest';
import type { AccountStoresFactory, AccountStoresFixture } from './account-types';

/** Creates fresh account stores before each test of the enclosing `describe`, cleans up after. */
export function useAccountFixture(factory: AccountStoresFactory): { readonly current: AccountStoresFixture } {
  let fixture: AccountStoresFixture | null = null;
  beforeEach(async () => {
    fixture = await factory();
  });
  afterEach(async () => {
    const done = fixture;
    fixture = null;
    await done?.cleanup?.();
  });
  return {
    get current(): AccountStoresFixture {
      if (!fixture) throw new Error('contract fixture used outside a test');
      return fixture;
    },
  };
}

/** A key as a store keeps it: a random SHA-256-sized hex hash and a unique display prefix. */
export function randomStoredKey(): { hash: string; prefix: string } {
  const hash = randomBytes(32).toString('hex');
  return { hash, prefix: `stello_${hash.slice(0, 5)}` };
}
