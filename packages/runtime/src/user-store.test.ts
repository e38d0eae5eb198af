import { createHash, randomUUID } from 'node:crypto';
import { createTestDatabase, type TestDatabase } from '@internal/testing';
import { isCodedError } from '@stello-ai/session';
import { PgStores } from '@stello-ai/storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rejection, watchQueries } from './__fixtures__/pool-probes';
import { API_KEY_PREFIX, UserStore } from './user-store';

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db.drop());

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

describe('UserStore', () => {
  describe('createUser', () => {
    it('creates a user with a generated key that authenticates', async () => {
      const users = new UserStore(new PgStores(db.pool).users);
      const { user, apiKey } = await users.createUser('alice');
      expect(apiKey).toMatch(/^stello_[A-Za-z0-9_-]{43}$/);
      expect(apiKey.startsWith(API_KEY_PREFIX)).toBe(true);
      expect(user).toMatchObject({ name: 'alice', keyPrefix: apiKey.slice(0, 11), keyRevokedAt: null });
      expect(new Date(user.createdAt).toISOString()).toBe(user.createdAt);
      expect(await users.authenticate(apiKey)).toEqual({ userId: user.id });
    });

    it('generates a different key for every user', async () => {
      const users = new UserStore(new PgStores(db.pool).users);
      const keys = new Set<string>();
      for (let i = 0; i < 5; i++) keys.add((await users.createUser(`u${i}`)).apiKey);
      expect(keys.size).toBe(5);
    });

    it('stores only the SHA-256 hash and a short prefix, never the key', async () => {
      const users = new UserStore(new PgStores(db.pool).users);
      const { user, apiKey } = await users.createUser('hashed');
      const { rows } = await db.pool.query('select * from users where id = $1', [user.id]);
      const row = rows[0] as Record<string, unknown>;
      expect(row.api_key_hash).toBe(sha256(apiKey));
      expect(row.api_key_prefix).toBe(apiKey.slice(0, 11));
      expect(row.key_created_at).toBeInstanceOf(Date);
      const dump = JSON.stringify(rows);
      expect(dump).not.toContain(apiKey);
      expect(dump).not.toContain(apiKey.slice(12));
    });

    it('uses a seeded key and keeps only 4 of its characters as the prefix', async () => {
      const users = new UserStore(new PgStores(db.pool).users);
      const seeded = 'my-api-key-0123456789abcdefghijkl';
      const { user, apiKey } = await users.createUser('seeded', { apiKey: seeded });
      expect(apiKey).toBe(seeded);
      expect(user.keyPrefix).toBe('my-a');
      expect(await users.authenticate(seeded)).toEqual({ userId: user.id });
      const { rows } = await db.pool.query<{ dump: string }>(
        'select row_to_json(u)::text as dump from users u',
      );
      expect(rows.map((r) => r.dump).join()).not.toContain('my-api-key');
    });

    it('refuses a seeded key weaker than 128 bits, saying how to make one', async () => {
      const users = new UserStore(new PgStores(db.pool).users);
      for (const weak of ['short-key', 'a'.repeat(40), 'abababababababababababababababab']) {
        const error = await rejection(users.createUser('weak', { apiKey: weak }));
        expect(isCodedError(error, 'INVALID_ARGUMENT')).toBe(true);
        expect((error as Error).message).toContain('128 bits');
      }
    });

    it('answers a flood of unknown keys with one query per key while the negative cache holds', async () => {
      let lookups = 0;
      const store = new PgStores(db.pool).users;
      const counting: typeof store = Object.create(store);
      for (const method of [
        'createUser',
        'findByKeyPrefix',
        'replaceKey',
        'revokeKey',
        'listUsers',
      ] as const) {
        Object.defineProperty(counting, method, { value: store[method].bind(store) });
      }
      Object.defineProperty(counting, 'findByKeyHash', {
        value: (hash: string) => {
          lookups += 1;
          return store.findByKeyHash(hash);
        },
      });
      const users = new UserStore(counting, { negativeCacheTtlMs: 60_000 });
      for (let i = 0; i < 50; i++)
        expect(await users.authenticate('stello_not-a-real-key-000000000000')).toBeNull();
      expect(lookups).toBe(1);
      // A key created here is usable at once, even after failed attempts with it.
      const fresh = 'fresh-key-0123456789abcdefghijklmnop';
      expect(await users.authenticate(fresh)).toBeNull();
      const { user } = await users.createUser('fresh', { apiKey: fresh });
      expect(await users.authenticate(fresh)).toEqual({ userId: user.id });
    });

    it('throws INVALID_ARGUMENT when the seeded key is already assigned', async () => {
      const users = new UserStore(new PgStores(db.pool).users);
      await users.createUser('first', { apiKey: 'shared-key-0123456789abcdefghijklm' });
      expect(
        isCodedError(
          await rejection(users.createUser('second', { apiKey: 'shared-key-0123456789abcdefghijklm' })),
          'INVALID_ARGUMENT',
        ),
      ).toBe(true);
    });

    it('throws INVALID_ARGUMENT when the name is blank or the seeded key is malformed', async () => {
      const users = new UserStore(new PgStores(db.pool).users);
      const before = (await users.listUsers()).length;
      for (const [name, apiKey] of [
        ['', undefined],
        ['  ', undefined],
        ['ok', 'short'],
        ['ok', 'has space inside'],
        ['ok', 'x'.repeat(513)],
      ] as const) {
        const error = await rejection(users.createUser(name, apiKey === undefined ? {} : { apiKey }));
        expect(isCodedError(error, 'INVALID_ARGUMENT'), `${name}/${apiKey}`).toBe(true);
      }
      expect((await users.listUsers()).length).toBe(before);
    });
  });

  describe('authenticate', () => {
    it('returns null when the key is unknown or malformed', async () => {
      const users = new UserStore(new PgStores(db.pool).users);
      expect(await users.authenticate(`stello_${'x'.repeat(43)}`)).toBeNull();
      expect(await users.authenticate('')).toBeNull();
      expect(await users.authenticate('short')).toBeNull();
      expect(await users.authenticate(42 as unknown as string)).toBeNull();
    });

    it('answers from the cache without a query when the key was seen recently', async () => {
      const users = new UserStore(new PgStores(db.pool).users);
      const { user, apiKey } = await users.createUser('cached');
      expect(await users.authenticate(apiKey)).toEqual({ userId: user.id });
      const queries = watchQueries(db.pool);
      try {
        for (let i = 0; i < 5; i++) expect(await users.authenticate(apiKey)).toEqual({ userId: user.id });
        expect(queries.count).toBe(0);
      } finally {
        queries.stop();
      }
    });

    it('shares one query when the same key arrives many times at once', async () => {
      const users = new UserStore(new PgStores(db.pool).users);
      const { user, apiKey } = await users.createUser('burst');
      const queries = watchQueries(db.pool);
      try {
        const results = await Promise.all(Array.from({ length: 10 }, () => users.authenticate(apiKey)));
        expect(results).toEqual(Array.from({ length: 10 }, () => ({ userId: user.id })));
        expect(queries.count).toBe(1);
      } finally {
        queries.stop();
      }
    });

    it('queries every time when the cache is disabled', async () => {
      const users = new UserStore(new PgStores(db.pool).users, { cacheTtlMs: 0 });
      const { apiKey } = await users.createUser('uncached');
      await users.authenticate(apiKey);
      const queries = watchQueries(db.pool);
      try {
        await users.authenticate(apiKey);
        await users.authenticate(apiKey);
        expect(queries.count).toBe(2);
      } finally {
        queries.stop();
      }
    });

    it('queries again when the cache entry expired', async () => {
      const users = new UserStore(new PgStores(db.pool).users, { cacheTtlMs: 1 });
      const { user, apiKey } = await users.createUser('expiring');
      await users.authenticate(apiKey);
      await new Promise((resolve) => setTimeout(resolve, 5));
      const queries = watchQueries(db.pool);
      try {
        expect(await users.authenticate(apiKey)).toEqual({ userId: user.id });
        expect(queries.count).toBe(1);
      } finally {
        queries.stop();
      }
    });

    it('keeps at most cacheMaxEntries keys, dropping the oldest', async () => {
      const users = new UserStore(new PgStores(db.pool).users, { cacheMaxEntries: 2 });
      const a = await users.createUser('a');
      const b = await users.createUser('b');
      const c = await users.createUser('c');
      for (const { apiKey } of [a, b, c]) await users.authenticate(apiKey);
      const queries = watchQueries(db.pool);
      try {
        await users.authenticate(c.apiKey);
        await users.authenticate(b.apiKey);
        expect(queries.count).toBe(0);
        await users.authenticate(a.apiKey);
        expect(queries.count).toBe(1);
      } finally {
        queries.stop();
      }
    });

    it('rejects invalid cache options', () => {
      expect(() => new UserStore(new PgStores(db.pool).users, { cacheTtlMs: -1 })).toThrow(/cacheTtlMs/);
      expect(() => new UserStore(new PgStores(db.pool).users, { cacheMaxEntries: 0 })).toThrow(
        /cacheMaxEntries/,
      );
    });
  });

  describe('revokeKey', () => {
    it('revokes by user id and forgets the cached key at once', async () => {
      const users = new UserStore(new PgStores(db.pool).users);
      const { user, apiKey } = await users.createUser('revoked');
      expect(await users.authenticate(apiKey)).not.toBeNull();
      expect(await users.revokeKey(user.id)).toBe(true);
      expect(await users.authenticate(apiKey)).toBeNull();
      const listed = (await users.listUsers()).find((u) => u.id === user.id);
      expect(listed?.keyRevokedAt).not.toBeNull();
      const { rows } = await db.pool.query('select api_key_hash from users where id = $1', [user.id]);
      expect(rows[0]?.api_key_hash).toBeNull();
    });

    it('revokes by display prefix', async () => {
      const users = new UserStore(new PgStores(db.pool).users);
      const { user, apiKey } = await users.createUser('by-prefix');
      expect(await users.revokeKey(user.keyPrefix!)).toBe(true);
      expect(await users.authenticate(apiKey)).toBeNull();
    });

    it('returns false when the user is unknown or has no active key', async () => {
      const users = new UserStore(new PgStores(db.pool).users);
      const { user } = await users.createUser('twice');
      expect(await users.revokeKey(user.id)).toBe(true);
      expect(await users.revokeKey(user.id)).toBe(false);
      expect(await users.revokeKey(randomUUID())).toBe(false);
      expect(await users.revokeKey('stello_nope')).toBe(false);
      expect(await users.revokeKey('')).toBe(false);
    });

    it('throws INVALID_ARGUMENT when a prefix matches several users', async () => {
      const users = new UserStore(new PgStores(db.pool).users);
      await users.createUser('twin1', { apiKey: 'twin-key-one-0123456789abcdefghijk' });
      await users.createUser('twin2', { apiKey: 'twin-key-two-0123456789abcdefghijk' });
      expect(isCodedError(await rejection(users.revokeKey('twin')), 'INVALID_ARGUMENT')).toBe(true);
      expect(await users.authenticate('twin-key-one-0123456789abcdefghijk')).not.toBeNull();
    });
  });

  describe('issueKey', () => {
    it('rotates the key: the new one authenticates and the old one stops at once', async () => {
      const users = new UserStore(new PgStores(db.pool).users);
      const { user, apiKey: oldKey } = await users.createUser('rotating');
      expect(await users.authenticate(oldKey)).not.toBeNull();
      const newKey = await users.issueKey(user.id);
      expect(newKey).not.toBe(oldKey);
      expect(await users.authenticate(oldKey)).toBeNull();
      expect(await users.authenticate(newKey)).toEqual({ userId: user.id });
      const listed = (await users.listUsers()).find((u) => u.id === user.id);
      expect(listed?.keyPrefix).toBe(newKey.slice(0, 11));
    });

    it('gives a revoked user a working key again', async () => {
      const users = new UserStore(new PgStores(db.pool).users);
      const { user } = await users.createUser('revived');
      await users.revokeKey(user.id);
      const key = await users.issueKey(user.id);
      expect(await users.authenticate(key)).toEqual({ userId: user.id });
      expect((await users.listUsers()).find((u) => u.id === user.id)?.keyRevokedAt).toBeNull();
    });

    it('throws USER_NOT_FOUND when the user does not exist', async () => {
      const users = new UserStore(new PgStores(db.pool).users);
      expect(isCodedError(await rejection(users.issueKey(randomUUID())), 'USER_NOT_FOUND')).toBe(true);
      expect(isCodedError(await rejection(users.issueKey('nope')), 'USER_NOT_FOUND')).toBe(true);
    });
  });

  describe('listUsers', () => {
    it('lists users oldest first without keys or hashes', async () => {
      const users = new UserStore(new PgStores(db.pool).users);
      const first = await users.createUser('list-1');
      const second = await users.createUser('list-2');
      const listed = await users.listUsers();
      const ids = listed.map((u) => u.id);
      expect(ids.indexOf(first.user.id)).toBeLessThan(ids.indexOf(second.user.id));
      const entry = listed.find((u) => u.id === first.user.id)!;
      expect(Object.keys(entry).sort()).toEqual(['createdAt', 'id', 'keyPrefix', 'keyRevokedAt', 'name']);
      expect(JSON.stringify(listed)).not.toContain(first.apiKey);
    });
  });
});
