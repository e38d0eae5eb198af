import { describe, expect, it } from 'vitest';
import { type ContractFactory, expectCode } from './types';
import { useFixture } from './use-fixture';

/**
 * The `MainStorage` contract: integration inputs and commit, the session list, node moves and
 * removal, and space-wide globals. Run it against every backend.
 */
export function describeMainStorageContract(name: string, factory: ContractFactory): void {
  describe(`MainStorage contract: ${name}`, () => {
    const fx = useFixture(factory);

    it('lists the L2 of active standard sessions only, by depth then index', async () => {
      const { storage, rootId } = fx.current;
      const a = await storage.createChild(rootId, { label: 'A' });
      const b = await storage.createChild(rootId, { label: 'B' });
      const noL2 = await storage.createChild(rootId, { label: 'no L2' });
      const archived = await storage.createChild(rootId, { label: 'archived' });
      const a1 = await storage.createChild(a.id, { label: 'A1' });
      await storage.putMemory(rootId, 'synthesis, not an L2');
      await storage.putMemory(a1.id, 'L2 A1');
      await storage.putMemory(b.id, 'L2 B');
      await storage.putMemory(a.id, 'L2 A');
      await storage.putMemory(archived.id, 'L2 archived');
      const meta = (await storage.getSession(archived.id))!;
      await storage.putSession({ ...meta, status: 'archived' });
      expect(noL2.id).toBeDefined();
      expect(await storage.getAllSessionL2s()).toEqual([
        { sessionId: a.id, label: 'A', l2: 'L2 A' },
        { sessionId: b.id, label: 'B', l2: 'L2 B' },
        { sessionId: a1.id, label: 'A1', l2: 'L2 A1' },
      ]);
    });

    it('lists sessions filtered by status, role and tags', async () => {
      const { storage, rootId } = fx.current;
      const a = await storage.createChild(rootId, { label: 'A', tags: ['x', 'y'] });
      const b = await storage.createChild(rootId, { label: 'B', tags: ['x'] });
      const meta = (await storage.getSession(b.id))!;
      await storage.putSession({ ...meta, status: 'archived' });
      const ids = async (filter?: Parameters<typeof storage.listSessions>[0]) =>
        (await storage.listSessions(filter)).map((s) => s.id);
      expect(await ids()).toEqual([rootId, a.id, b.id]);
      expect(await ids({ role: 'main' })).toEqual([rootId]);
      expect(await ids({ status: 'archived' })).toEqual([b.id]);
      expect(await ids({ tags: ['x'] })).toEqual([a.id, b.id]);
      expect(await ids({ tags: ['x', 'y'] })).toEqual([a.id]);
      expect(await ids({ status: 'active', role: 'standard' })).toEqual([a.id]);
      expect((await storage.listSessions({ role: 'main' }))[0]).toMatchObject({ id: rootId, role: 'main' });
    });

    it('lists direct children in index order', async () => {
      const { storage, rootId } = fx.current;
      const a = await storage.createChild(rootId, { label: 'A' });
      const b = await storage.createChild(rootId, { label: 'B' });
      await storage.createChild(a.id, { label: 'A1' });
      expect(await storage.getChildren(rootId)).toEqual([
        { id: a.id, parentId: rootId, label: 'A' },
        { id: b.id, parentId: rootId, label: 'B' },
      ]);
      expect(await storage.getChildren(b.id)).toEqual([]);
    });

    it('renames with putNode and moves a subtree with recomputed depths', async () => {
      const { storage, rootId } = fx.current;
      const a = await storage.createChild(rootId, { label: 'A' });
      const b = await storage.createChild(rootId, { label: 'B' });
      const a1 = await storage.createChild(a.id, { label: 'A1' });
      await storage.putNode({ id: b.id, parentId: rootId, label: 'B renamed' });
      expect((await storage.getSession(b.id))!.label).toBe('B renamed');
      await storage.putNode({ id: a.id, parentId: b.id, label: 'A' });
      expect(await storage.getSessionRow(a.id)).toMatchObject({ parentId: b.id, depth: 2 });
      expect(await storage.getSessionRow(a1.id)).toMatchObject({ parentId: a.id, depth: 3 });
      expect((await storage.getChildren(b.id)).map((c) => c.id)).toEqual([a.id]);
    });

    it('deletes a node with its subtree (deleteSubtree)', async () => {
      const { storage, rootId } = fx.current;
      const a = await storage.createChild(rootId, { label: 'A' });
      const a1 = await storage.createChild(a.id, { label: 'A1' });
      const b = await storage.createChild(rootId, { label: 'B' });
      await storage.appendRecord(a1.id, { role: 'user', content: 'x' });
      await storage.deleteSubtree(a.id);
      expect(await storage.getSession(a.id)).toBeNull();
      expect(await storage.getSession(a1.id)).toBeNull();
      expect(await storage.listRecords(a1.id)).toEqual([]);
      expect((await storage.getChildren(rootId)).map((c) => c.id)).toEqual([b.id]);
      await storage.deleteSubtree('00000000-0000-4000-8000-000000000000');
    });

    it('refuses to delete the root', async () => {
      const { storage, rootId } = fx.current;
      await expectCode(storage.deleteSubtree(rootId), 'INVALID_ARGUMENT');
      expect(await storage.getSession(rootId)).not.toBeNull();
    });

    it('refuses removeNode, whose 0.2.x meaning (detach) would make a second root, and writes nothing', async () => {
      const { storage, rootId } = fx.current;
      const a = await storage.createChild(rootId, { label: 'A' });
      const a1 = await storage.createChild(a.id, { label: 'A1' });
      const error = await storage.removeNode(a.id).catch((caught: unknown) => caught);
      expect(error).toMatchObject({
        code: 'INVALID_OPERATION',
        details: { operation: 'removeNode', use: ['deleteSubtree', 'putNode'] },
      });
      expect((error as Error).message).toMatch(/deleteSubtree/);
      expect(await storage.getSessionRow(a.id)).toMatchObject({ parentId: rootId, depth: 1 });
      expect(await storage.getSessionRow(a1.id)).toMatchObject({ parentId: a.id });
      await expectCode(storage.removeNode(rootId), 'INVALID_OPERATION');
    });

    it('reads and writes space-wide globals', async () => {
      const { storage } = fx.current;
      expect(await storage.getGlobal('missing')).toBeNull();
      await storage.putGlobal('profile', { name: 'Ada', tags: ['a'], nested: { n: 1 } });
      await storage.putGlobal('count', 3);
      expect(await storage.getGlobal('profile')).toEqual({ name: 'Ada', tags: ['a'], nested: { n: 1 } });
      expect(await storage.getGlobal('count')).toBe(3);
      await storage.putGlobal('count', 4);
      expect(await storage.getGlobal('count')).toBe(4);
    });

    it('commits the synthesis and the insights together', async () => {
      const { storage, rootId } = fx.current;
      const a = await storage.createChild(rootId, { label: 'A' });
      const b = await storage.createChild(rootId, { label: 'B' });
      await storage.commitIntegration(rootId, 'synthesis', [
        { sessionId: a.id, content: 'for A' },
        { sessionId: b.id, content: 'for B' },
      ]);
      expect(await storage.getMemory(rootId)).toBe('synthesis');
      expect(await storage.getInsight(a.id)).toBe('for A');
      expect(await storage.getInsight(b.id)).toBe('for B');
      await storage.commitIntegration(rootId, 'synthesis 2', [{ sessionId: a.id, content: 'for A again' }]);
      expect(await storage.getInsight(a.id)).toBe('for A again');
      expect(await storage.getInsight(b.id)).toBe('for B');
    });

    it('skips insights for archived sessions and the root when integrating', async () => {
      const { storage, rootId } = fx.current;
      const live = await storage.createChild(rootId, { label: 'live' });
      const gone = await storage.createChild(rootId, { label: 'gone' });
      const meta = (await storage.getSession(gone.id))!;
      await storage.putSession({ ...meta, status: 'archived' });
      await storage.commitIntegration(rootId, 'synthesis', [
        { sessionId: live.id, content: 'for live' },
        { sessionId: gone.id, content: 'for gone' },
        { sessionId: rootId, content: 'for root' },
      ]);
      expect(await storage.getMemory(rootId)).toBe('synthesis');
      expect(await storage.getInsight(live.id)).toBe('for live');
      expect(await storage.getInsight(gone.id)).toBeNull();
      expect(await storage.getInsight(rootId)).toBeNull();
    });

    it('writes nothing of an integration that names an unknown session', async () => {
      const { storage, rootId } = fx.current;
      const a = await storage.createChild(rootId, { label: 'A' });
      await storage.putMemory(rootId, 'old');
      await expectCode(
        storage.commitIntegration(rootId, 'new', [
          { sessionId: a.id, content: 'for A' },
          { sessionId: '00000000-0000-4000-8000-000000000000', content: 'ghost' },
        ]),
        'SESSION_NOT_FOUND',
      );
      expect(await storage.getMemory(rootId)).toBe('old');
      expect(await storage.getInsight(a.id)).toBeNull();
    });

    it('keeps lists, integration and globals inside the space', async () => {
      const { storage, rootId, otherSpace } = fx.current;
      const foreign = await otherSpace.storage.createChild(otherSpace.rootId, { label: 'foreign' });
      await otherSpace.storage.putMemory(foreign.id, 'foreign L2');
      await otherSpace.storage.putGlobal('shared-key', 'foreign value');
      const mine = await storage.createChild(rootId, { label: 'mine' });
      await storage.putMemory(mine.id, 'my L2');
      expect((await storage.getAllSessionL2s()).map((s) => s.sessionId)).toEqual([mine.id]);
      expect((await storage.listSessions()).map((s) => s.id)).toEqual([rootId, mine.id]);
      expect(await storage.getChildren(otherSpace.rootId)).toEqual([]);
      expect(await storage.getGlobal('shared-key')).toBeNull();
      await expectCode(
        storage.commitIntegration(rootId, 's', [{ sessionId: foreign.id, content: 'leak' }]),
        'SESSION_NOT_FOUND',
      );
      expect(await otherSpace.storage.getInsight(foreign.id)).toBeNull();
      await storage.deleteSubtree(foreign.id);
      expect(await otherSpace.storage.getSession(foreign.id)).not.toBeNull();
    });
  });
}
