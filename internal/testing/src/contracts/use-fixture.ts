import { afterEach, beforeEach } from 'vitest';
import type { FixtureHandle } from './types';

/**
 * Creates a fresh fixture before each test of the enclosing `describe` and runs its `cleanup`
 * after; the space contracts and the account contracts both use it.
 */
export function useFixture<T extends { cleanup?: () => Promise<void> }>(
  factory: () => Promise<T>,
): FixtureHandle<T> {
  let fixture: T | null = null;
  beforeEach(async () => {
    fixture = await factory();
  });
  afterEach(async () => {
    const done = fixture;
    fixture = null;
    await done?.cleanup?.();
  });
  return {
    get current(): T {
      if (!fixture) throw new Error('contract fixture used outside a test');
      return fixture;
    },
  };
}
