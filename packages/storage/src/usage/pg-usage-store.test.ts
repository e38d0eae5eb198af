import { randomUUID } from 'node:crypto';
import { createTestDatabase, type TestDatabase } from '@internal/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgStores } from '../pg-stores';

let database: TestDatabase;
let stores: PgStores;

beforeAll(async () => {
  database = await createTestDatabase();
  stores = new PgStores(database.pool);
});
afterAll(() => database.drop());

async function newSpace(userId: string): Promise<string> {
  const space = await stores.spaces.create({
    userId,
    label: 'space',
    systemPrompt: null,
    consolidatePrompt: null,
    integratePrompt: null,
    config: {},
  });
  return space.id;
}

describe('PgUsageStore', () => {
  it('counts a user’s spaces, sessions and record bytes, and nobody else’s', async () => {
    const owner = await stores.users.createUser('owner', { hash: randomUUID(), prefix: 'p' });
    const other = await stores.users.createUser('other', { hash: randomUUID(), prefix: 'q' });
    expect(await stores.usage.usageOf(owner.id)).toEqual({ spaces: 0, sessions: 0, storedBytes: 0 });

    const [one, two] = [await newSpace(owner.id), await newSpace(owner.id)];
    await newSpace(other.id);
    const a = stores.forSpace(one);
    const root = await a.tree.getRoot();
    const child = await a.tree.createChild({ parentId: root.id, label: 'child' });
    await a.sessions.appendRecord(root.id, {
      role: 'user',
      content: '你好',
      timestamp: new Date().toISOString(),
    });
    await a.sessions.appendRecord(child.id, {
      role: 'user',
      content: 'abc',
      timestamp: new Date().toISOString(),
    });
    const rootOfTwo = await stores.forSpace(two).tree.getRoot();
    await stores.forSpace(two).sessions.appendRecord(rootOfTwo.id, {
      role: 'assistant',
      content: 'x',
      timestamp: new Date().toISOString(),
    });

    // Two roots and one child; 6 + 3 + 1 bytes.
    expect(await stores.usage.usageOf(owner.id)).toEqual({ spaces: 2, sessions: 3, storedBytes: 10 });
    expect(await stores.usage.usageOf(other.id)).toEqual({ spaces: 1, sessions: 1, storedBytes: 0 });
  });

  it('gives zeros for an unknown user', async () => {
    expect(await stores.usage.usageOf(randomUUID())).toEqual({ spaces: 0, sessions: 0, storedBytes: 0 });
  });
});
