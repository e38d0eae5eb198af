import { describe, expect, it } from 'vitest';
import type { AccountStoresFactory, AccountStoresFixture } from './account-types';
import { randomStoredKey } from './random-stored-key';
import { expectCode } from './types';
import { useFixture } from './use-fixture';

const GHOST_ID = '00000000-0000-4000-8000-000000000000';

function newSpace(userId: string, label: string) {
  return {
    userId,
    label,
    systemPrompt: null,
    consolidatePrompt: null,
    integratePrompt: null,
    config: {},
  };
}

async function newUser(fx: AccountStoresFixture, name = 'owner'): Promise<string> {
  return (await fx.users.createUser(name, randomStoredKey())).id;
}

/**
 * The `SpaceStore` contract: create, read, update, list (keyset pages) and delete spaces, each
 * owned by an existing user. Run it against every backend.
 */
export function describeSpaceStoreContract(name: string, factory: AccountStoresFactory): void {
  describe(`SpaceStore contract: ${name}`, () => {
    const fx = useFixture(factory);

    it('creates a space with every field and reads it back', async () => {
      const userId = await newUser(fx.current);
      const created = await fx.current.spaces.create({
        userId,
        label: 'Research',
        systemPrompt: 'Be brief.',
        consolidatePrompt: 'c',
        integratePrompt: null,
        config: { consolidateEveryNTurns: 3, nested: { a: [1, 'b'] } },
      });
      expect(created).toMatchObject({
        userId,
        label: 'Research',
        systemPrompt: 'Be brief.',
        consolidatePrompt: 'c',
        integratePrompt: null,
        config: { consolidateEveryNTurns: 3, nested: { a: [1, 'b'] } },
      });
      expect(created.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(Number.isNaN(Date.parse(created.createdAt))).toBe(false);
      expect(await fx.current.spaces.get(created.id)).toEqual(created);
    });

    it('returns null for a space that does not exist', async () => {
      expect(await fx.current.spaces.get(GHOST_ID)).toBeNull();
    });

    it('refuses an owner that does not exist with INVALID_REFERENCE', async () => {
      await expectCode(fx.current.spaces.create(newSpace(GHOST_ID, 'orphan')), 'INVALID_REFERENCE');
      expect(await fx.current.spaces.list(GHOST_ID)).toEqual([]);
    });

    it('updates only the fields given, replaces config and moves updatedAt', async () => {
      const userId = await newUser(fx.current);
      const space = await fx.current.spaces.create({
        ...newSpace(userId, 'old'),
        systemPrompt: 'p',
        config: { a: 1 },
      });
      const updated = await fx.current.spaces.update(space.id, {
        label: 'new',
        systemPrompt: null,
        config: { b: 2 },
      });
      expect(updated).toEqual({
        ...space,
        label: 'new',
        systemPrompt: null,
        config: { b: 2 },
        updatedAt: updated?.updatedAt,
      });
      expect(Date.parse(updated?.updatedAt ?? '')).toBeGreaterThanOrEqual(Date.parse(space.updatedAt));
      expect(await fx.current.spaces.get(space.id)).toEqual(updated);
      expect(await fx.current.spaces.update(space.id, {})).toEqual(updated);
    });

    it('returns null when updating a space that does not exist', async () => {
      expect(await fx.current.spaces.update(GHOST_ID, { label: 'x' })).toBeNull();
    });

    it("lists a user's spaces oldest first, in pages, and no one else's", async () => {
      const alice = await newUser(fx.current, 'alice');
      const bob = await newUser(fx.current, 'bob');
      const created = [];
      for (const label of ['one', 'two', 'three']) {
        created.push(await fx.current.spaces.create(newSpace(alice, label)));
      }
      await fx.current.spaces.create(newSpace(bob, 'bob'));
      const ids = created.map((space) => space.id);
      expect((await fx.current.spaces.list(alice)).map((space) => space.id)).toEqual(ids);
      const first = await fx.current.spaces.list(alice, { limit: 2 });
      expect(first.map((space) => space.id)).toEqual(ids.slice(0, 2));
      const second = await fx.current.spaces.list(alice, { limit: 2, after: first[1]?.id });
      expect(second.map((space) => space.id)).toEqual(ids.slice(2));
      // A cursor that is not one of the user's spaces starts no page.
      expect(await fx.current.spaces.list(alice, { after: GHOST_ID })).toEqual([]);
    });

    it('deletes a space once', async () => {
      const space = await fx.current.spaces.create(newSpace(await newUser(fx.current), 'gone'));
      expect(await fx.current.spaces.delete(space.id)).toBe(true);
      expect(await fx.current.spaces.get(space.id)).toBeNull();
      expect(await fx.current.spaces.delete(space.id)).toBe(false);
    });

    it('hands out copies: changing a returned space changes nothing stored', async () => {
      const space = await fx.current.spaces.create({
        ...newSpace(await newUser(fx.current), 'x'),
        config: { a: 1 },
      });
      space.config.a = 2;
      space.label = 'changed';
      expect(await fx.current.spaces.get(space.id)).toMatchObject({ label: 'x', config: { a: 1 } });
    });
  });
}
