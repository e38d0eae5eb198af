import { randomUUID } from 'node:crypto';
import { createTestDatabase, createUnreachablePool, expectCode, type TestDatabase } from '@internal/testing';
import { isCodedError } from '@stello-ai/session';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isStorageError } from './errors';
import { PgStores } from './pg-stores';

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(() => database.drop());

async function newSpaceId(stores: PgStores): Promise<string> {
  const user = await stores.users.createUser('owner', { hash: randomUUID(), prefix: 'p' });
  const space = await stores.spaces.create({
    userId: user.id,
    label: 'space',
    systemPrompt: null,
    consolidatePrompt: null,
    integratePrompt: null,
    config: {},
  });
  return space.id;
}

describe('PgStores', () => {
  it('binds the four adapters of a space, which see only that space', async () => {
    const stores = new PgStores(database.pool);
    const [one, two] = [await newSpaceId(stores), await newSpaceId(stores)];
    const a = stores.forSpace(one);
    const b = stores.forSpace(two);
    // The space store wrote the root in the space's own statement.
    const root = await a.tree.getRoot();
    expect(a.sessions.spaceId).toBe(one);
    expect((await a.sessions.getSession(root.id))?.label).toBe('space');
    expect(await b.sessions.getSession(root.id)).toBeNull();
    await a.memory.writeCore('k', 1);
    expect(await a.main.getGlobal('k')).toBe(1);
    expect(await b.main.getGlobal('k')).toBeNull();
  });

  it('checks its options once, at construction', () => {
    for (const options of [{ historyCacheSessions: -1 }, { preparedStatements: 'yes' as never }]) {
      let caught: unknown;
      try {
        new PgStores(database.pool, options);
      } catch (error) {
        caught = error;
      }
      expect(isCodedError(caught, 'INVALID_ARGUMENT')).toBe(true);
    }
    expect(() => new PgStores({} as never)).toThrow(/pg.Pool/);
    expect(() => new PgStores(database.pool).forSpace('not-a-uuid')).toThrow(/uuid/);
  });

  it('answers a database outage with UNAVAILABLE from every store, like the turn path', async () => {
    const down = createUnreachablePool();
    try {
      const stores = new PgStores(down);
      const spaceId = randomUUID();
      const attempts: Promise<unknown>[] = [
        stores.spaces.get(spaceId),
        stores.spaces.list(spaceId),
        stores.users.findByKeyHash('ab'),
        stores.users.createUser('x', { hash: 'ab', prefix: 'a' }),
        stores.forSpace(spaceId).sessions.getSession(randomUUID()),
      ];
      for (const attempt of attempts) await expectCode(attempt, 'UNAVAILABLE');
      const error = await stores.spaces.get(spaceId).catch((caught: unknown) => caught);
      expect(isStorageError(error, 'UNAVAILABLE') && error.retryable).toBe(true);
    } finally {
      await down.end();
    }
  });
});
