import { randomUUID } from 'node:crypto';
import { createTestDatabase, expectCode, type TestDatabase } from '@internal/testing';
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import { createSpaceFixture, type SpaceFixture } from '../__fixtures__/space-fixture';
import { PgMainStorage } from '../pg-main-storage';
import { PgMemoryEngine } from '../pg-memory-engine';
import { PgSessionStorage } from '../pg-session-storage';
import { PgSessionTree } from '../pg-session-tree';
import type {
  V02MainStorage,
  V02MemoryEngine,
  V02SessionMeta,
  V02SessionStorage,
  V02SessionTree,
  V02TopologyNode,
} from './v0.2-interfaces';

// Every adapter below is used through the ORIGINAL 0.2.x interface it is assigned to, so this
// file both type-checks our four classes against them (tsc) and runs the original call patterns.

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
});

afterAll(async () => {
  await database.drop();
});

interface V02Space {
  fixture: SpaceFixture;
  storage: V02SessionStorage;
  main: V02MainStorage;
  tree: V02SessionTree;
  memory: V02MemoryEngine;
}

async function originalSpace(label: string): Promise<V02Space> {
  const fixture = await createSpaceFixture(database.pool, label);
  const storage: V02SessionStorage = new PgSessionStorage(database.pool, fixture.spaceId);
  const main: V02MainStorage = new PgMainStorage(database.pool, fixture.spaceId);
  const tree: V02SessionTree = new PgSessionTree(database.pool, fixture.spaceId);
  const memory: V02MemoryEngine = new PgMemoryEngine(database.pool, fixture.spaceId);
  return { fixture, storage, main, tree, memory };
}

/** What the original `createSession()` / `fork()` build before their `putSession`. */
function freshMeta(label: string, extra: Partial<V02SessionMeta> = {}): V02SessionMeta {
  const now = new Date().toISOString();
  return {
    id: randomUUID(),
    label,
    role: 'standard',
    status: 'active',
    tags: [],
    metadata: {},
    createdAt: now,
    updatedAt: now,
    ...extra,
  };
}

describe('the four Pg classes against the original 0.2.x interfaces', () => {
  it('are assignable to them (checked by tsc over this file)', () => {
    expectTypeOf<PgSessionStorage>().toMatchTypeOf<V02SessionStorage>();
    expectTypeOf<PgMainStorage>().toMatchTypeOf<V02MainStorage>();
    expectTypeOf<PgSessionTree>().toMatchTypeOf<V02SessionTree>();
    expectTypeOf<PgMemoryEngine>().toMatchTypeOf<V02MemoryEngine>();
    expectTypeOf<ReturnType<PgSessionTree['getAncestors']>>().resolves.items.toMatchTypeOf<V02TopologyNode>();
  });
});

describe('original call patterns', () => {
  let space: V02Space;

  beforeAll(async () => {
    space = await originalSpace('original patterns');
  });

  it("createSession(): putSession of a fresh id, then its system prompt, then a turn's records", async () => {
    const { storage, fixture } = space;
    const meta = freshMeta('New Session', { tags: ['a'], metadata: { n: 1 } });
    await storage.putSession(meta);
    await storage.putSystemPrompt(meta.id, 'You are helpful.');
    await storage.appendRecord(meta.id, { role: 'user', content: 'hi', timestamp: new Date().toISOString() });
    await storage.appendRecord(meta.id, { role: 'assistant', content: 'hello' });
    expect(await storage.getSession(meta.id)).toMatchObject({
      id: meta.id,
      label: 'New Session',
      role: 'standard',
      status: 'active',
      tags: ['a'],
      metadata: { n: 1 },
    });
    expect(await storage.getSystemPrompt(meta.id)).toBe('You are helpful.');
    expect((await storage.listRecords(meta.id)).map((r) => r.content)).toEqual(['hi', 'hello']);
    // It sits in the tree: under the root, never a second root.
    const node = await fixture.sessions.getNode(meta.id);
    expect(node).toMatchObject({ parentId: fixture.rootId, depth: 1 });
    const { rows } = await database.pool.query(
      'SELECT count(*)::int AS roots FROM sessions WHERE space_id = $1 AND parent_id IS NULL',
      [fixture.spaceId],
    );
    expect(rows[0].roots).toBe(1);
  });

  it('fork(): putSession of the child, its prompt, the inherited records and the opening message', async () => {
    const { storage, main } = space;
    const parent = freshMeta('parent');
    await storage.putSession(parent);
    await storage.appendRecord(parent.id, { role: 'user', content: 'p1' });
    const child = freshMeta('child', { tags: ['fork'] });
    await storage.transaction(async (tx) => {
      await tx.putSession(child);
      await tx.putSystemPrompt(child.id, 'child prompt');
      for (const record of await tx.listRecords(parent.id)) await tx.appendRecord(child.id, record);
      await tx.appendRecord(child.id, { role: 'assistant', content: 'opening' });
    });
    expect((await storage.listRecords(child.id)).map((r) => r.content)).toEqual(['p1', 'opening']);
    // The host then places it where its strategy wants (the flat strategy: under main).
    await main.putNode({ id: child.id, parentId: parent.id, label: 'child' });
    expect(await main.getChildren(parent.id)).toEqual([
      { id: child.id, parentId: parent.id, label: 'child' },
    ]);
  });

  it('rolls a fresh putSession back with its transaction', async () => {
    const { storage } = space;
    const meta = freshMeta('lost');
    await expect(
      storage.transaction(async (tx) => {
        await tx.putSession(meta);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await storage.getSession(meta.id)).toBeNull();
  });

  it('creates one session when the same fresh id is put concurrently', async () => {
    const { storage } = space;
    const meta = freshMeta('racing');
    await Promise.all([
      storage.putSession(meta),
      storage.putSession({ ...meta, label: 'racing 2' }),
      storage.putSession({ ...meta, label: 'racing 3' }),
    ]);
    const { rows } = await database.pool.query('SELECT count(*)::int AS n FROM sessions WHERE id = $1', [
      meta.id,
    ]);
    expect(rows[0].n).toBe(1);
  });

  it('refuses a fresh id that is not a uuid, and a second main session', async () => {
    const { storage } = space;
    await expectCode(storage.putSession({ ...freshMeta('x'), id: 'not-a-uuid' }), 'INVALID_ARGUMENT');
    await expectCode(storage.putSession(freshMeta('second main', { role: 'main' })), 'SESSION_NOT_FOUND');
  });

  it('keeps the turn counts the original scheduler writes with updateMeta', async () => {
    const { tree, fixture } = space;
    const node = await tree.createChild({ parentId: fixture.rootId, label: 'counted' });
    for (const turnCount of [1, 2, 3]) {
      expect(await tree.updateMeta(node.id, { turnCount })).toMatchObject({ turnCount });
    }
    expect((await tree.get(node.id))!.turnCount).toBe(3);
    // A turn run by our core counts on from the value set.
    await fixture.storage.commitTurn(node.id, { records: [{ role: 'user', content: 'x' }], countTurn: true });
    expect((await tree.get(node.id))!.turnCount).toBe(4);
  });

  it('answers getAncestors with topology nodes, parent first, and getTree without null sourceSessionId', async () => {
    const { tree, fixture } = space;
    const a = await tree.createChild({ parentId: fixture.rootId, label: 'A' });
    const a1 = await tree.createChild({
      parentId: a.id,
      label: 'A1',
      metadata: { sourceSessionId: fixture.rootId },
    });
    const ancestors = await tree.getAncestors(a1.id);
    expect(ancestors.map((n) => [n.id, n.parentId, n.depth])).toEqual([
      [a.id, fixture.rootId, 1],
      [fixture.rootId, null, 0],
    ]);
    expect(ancestors[0]!.children).toEqual([a1.id]);
    const root = await tree.getTree();
    expect(root).not.toHaveProperty('sourceSessionId');
    const nodeA = root.children.find((n) => n.id === a.id)!;
    expect(nodeA).not.toHaveProperty('sourceSessionId');
    expect(nodeA.children[0]).toMatchObject({ id: a1.id, sourceSessionId: fixture.rootId });
  });

  it('refuses removeNode (it detached the node in 0.2.x) and changes nothing', async () => {
    const { main, tree, fixture } = space;
    const doomed = await tree.createChild({ parentId: fixture.rootId, label: 'kept' });
    await expectCode(main.removeNode(doomed.id), 'INVALID_OPERATION');
    expect(await tree.getNode(doomed.id)).toMatchObject({ parentId: fixture.rootId });
    await fixture.storage.deleteSubtree(doomed.id);
    expect(await tree.getNode(doomed.id)).toBeNull();
  });

  it('reads records and context through the original MemoryEngine shapes', async () => {
    const { memory, tree, fixture } = space;
    const node = await tree.createChild({ parentId: fixture.rootId, label: 'memory' });
    await memory.appendRecord(node.id, { role: 'user', content: 'q', timestamp: new Date().toISOString() });
    await memory.writeMemory(fixture.rootId, 'root L2');
    await memory.writeScope(node.id, 'scope.md');
    expect((await memory.readRecords(node.id)).map((r) => r.content)).toEqual(['q']);
    expect(await memory.assembleContext(node.id)).toMatchObject({
      memories: ['root L2'],
      currentMemory: null,
      scope: 'scope.md',
    });
  });
});
