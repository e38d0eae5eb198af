import { describe, expect, it } from 'vitest';
import type { AccountStoresFactory } from './account-types';
import { randomStoredKey } from './random-stored-key';
import { expectCode } from './types';
import { useFixture } from './use-fixture';

const GHOST_ID = '00000000-0000-4000-8000-000000000000';

/**
 * The `UserKeyStore` contract: users with at most one active key, found by the key's hash or
 * display prefix, keys replaced and revoked. Run it against every backend.
 */
export function describeUserKeyStoreContract(name: string, factory: AccountStoresFactory): void {
  describe(`UserKeyStore contract: ${name}`, () => {
    const fx = useFixture(factory);

    it('creates a user with an active key and finds it by the hash', async () => {
      const key = randomStoredKey();
      const user = await fx.current.users.createUser('alice', key);
      expect(user).toMatchObject({ name: 'alice', keyPrefix: key.prefix, keyRevokedAt: null });
      expect(Number.isNaN(Date.parse(user.createdAt))).toBe(false);
      expect(await fx.current.users.findByKeyHash(key.hash)).toEqual({ userId: user.id, keyHash: key.hash });
      expect(await fx.current.users.findByKeyHash(randomStoredKey().hash)).toBeNull();
    });

    it('refuses a key hash another user has with CONFLICT', async () => {
      const key = randomStoredKey();
      await fx.current.users.createUser('first', key);
      await expectCode(fx.current.users.createUser('second', key), 'CONFLICT');
    });

    it('finds active keys by display prefix, at most `limit`', async () => {
      const key = randomStoredKey();
      const one = await fx.current.users.createUser('one', key);
      const two = await fx.current.users.createUser('two', {
        hash: randomStoredKey().hash,
        prefix: key.prefix,
      });
      expect((await fx.current.users.findByKeyPrefix(key.prefix, 5)).sort()).toEqual([one.id, two.id].sort());
      expect(await fx.current.users.findByKeyPrefix(key.prefix, 1)).toHaveLength(1);
      await fx.current.users.revokeKey(two.id);
      expect(await fx.current.users.findByKeyPrefix(key.prefix, 5)).toEqual([one.id]);
    });

    it('replaces a key: the old hash is gone, the new one found, a revocation cleared', async () => {
      const old = randomStoredKey();
      const user = await fx.current.users.createUser('alice', old);
      await fx.current.users.revokeKey(user.id);
      const next = randomStoredKey();
      expect(await fx.current.users.replaceKey(user.id, next)).toBe(true);
      expect(await fx.current.users.findByKeyHash(old.hash)).toBeNull();
      expect(await fx.current.users.findByKeyHash(next.hash)).toEqual({
        userId: user.id,
        keyHash: next.hash,
      });
      const listed = (await fx.current.users.listUsers()).find((entry) => entry.id === user.id);
      expect(listed).toMatchObject({ keyPrefix: next.prefix, keyRevokedAt: null });
      expect(await fx.current.users.replaceKey(GHOST_ID, randomStoredKey())).toBe(false);
    });

    it('revokes the active key once and records when', async () => {
      const key = randomStoredKey();
      const user = await fx.current.users.createUser('alice', key);
      expect(await fx.current.users.revokeKey(user.id)).toBe(true);
      expect(await fx.current.users.findByKeyHash(key.hash)).toBeNull();
      expect(await fx.current.users.revokeKey(user.id)).toBe(false);
      expect(await fx.current.users.revokeKey(GHOST_ID)).toBe(false);
      const listed = (await fx.current.users.listUsers()).find((entry) => entry.id === user.id);
      expect(Number.isNaN(Date.parse(listed?.keyRevokedAt ?? ''))).toBe(false);
    });

    it('lists users oldest first, without any key material', async () => {
      const a = await fx.current.users.createUser('a', randomStoredKey());
      const b = await fx.current.users.createUser('b', randomStoredKey());
      const listed = await fx.current.users.listUsers();
      const ids = listed.map((user) => user.id);
      expect(ids.indexOf(a.id)).toBeGreaterThanOrEqual(0);
      expect(ids.indexOf(b.id)).toBeGreaterThan(ids.indexOf(a.id));
      for (const user of listed)
        expect(Object.keys(user).sort()).toEqual(['createdAt', 'id', 'keyPrefix', 'keyRevokedAt', 'name']);
    });
  });
}
