import { isCodedError } from '@stello-ai/session';
import { describe, expect, it } from 'vitest';
import { CoreError } from '../errors';
import { createInMemoryStores } from './index';
import { InMemorySessionTree } from './session-tree';

async function codeOf(promise: Promise<unknown>): Promise<string | null> {
  return promise.then(
    () => null,
    (error: unknown) => (isCodedError(error) ? error.code : String(error)),
  );
}

describe('InMemorySessionTree', () => {
  it('throws SESSION_NOT_FOUND for the root and the tree of a space without a root', async () => {
    const { sessions } = createInMemoryStores();
    expect(await codeOf(sessions.getRoot())).toBe('SESSION_NOT_FOUND');
    expect(await codeOf(sessions.getTree())).toBe('SESSION_NOT_FOUND');
    expect(await sessions.listAll()).toEqual([]);
  });

  it('creates the root once with the given label and role main', async () => {
    const { sessions, storage } = createInMemoryStores();
    const root = await sessions.createRoot('My space');
    const again = await sessions.createRoot('Other label');
    expect(again.id).toBe(root.id);
    expect(await storage.getSession(root.id)).toMatchObject({ label: 'My space', role: 'main' });
  });

  it('rejects invalid refs with a CoreError coded INVALID_REF', async () => {
    const { sessions } = createInMemoryStores();
    const root = await sessions.createRoot();
    const error = await sessions.addRef(root.id, root.id).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CoreError);
    expect(isCodedError(error, 'INVALID_REF')).toBe(true);
  });

  it('shares its data with the storage and memory engine of the same store', async () => {
    const { store, storage, sessions, memory } = createInMemoryStores();
    const root = await sessions.createRoot();
    const child = await storage.createChild(root.id, {
      label: 'via storage',
      records: [{ role: 'user', content: 'hi' }],
    });
    expect((await sessions.getNode(root.id))!.children).toEqual([child.id]);
    await memory.writeMemory(child.id, 'L2');
    expect(await storage.getMemory(child.id)).toBe('L2');
    const other = new InMemorySessionTree(store);
    expect((await other.get(child.id))!.label).toBe('via storage');
    expect((await memory.readRecords(child.id)).map((r) => r.content)).toEqual(['hi']);
  });

  it('counts turns committed through the storage in its metas', async () => {
    const { storage, sessions } = createInMemoryStores();
    const root = await sessions.createRoot();
    await storage.commitTurn(root.id, { records: [{ role: 'user', content: 'q' }], countTurn: true });
    expect((await sessions.get(root.id))!.turnCount).toBe(1);
    expect((await sessions.getTree()).turnCount).toBe(1);
  });
});
