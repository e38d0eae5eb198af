import { describe, expect, it } from 'vitest';
import { type ContractFactory, expectCode } from './types';
import { useFixture } from './use-fixture';

const GHOST_ID = '00000000-0000-4000-8000-000000000000';

/**
 * The `SessionTree` contract: root, children, metas, topology, refs, the nested tree, ancestors
 * and siblings, scoped to one space. Run it against every backend.
 */
export function describeSessionTreeContract(name: string, factory: ContractFactory): void {
  describe(`SessionTree contract: ${name}`, () => {
    const fx = useFixture(factory);

    /** Builds root → A (→ A1, A2), B. */
    async function buildTree() {
      const { sessions, rootId } = fx.current;
      const a = await sessions.createChild({ parentId: rootId, label: 'A' });
      const b = await sessions.createChild({ parentId: rootId, label: 'B', sourceSessionId: rootId });
      const a1 = await sessions.createChild({ parentId: a.id, label: 'A1', sourceSessionId: b.id });
      const a2 = await sessions.createChild({ parentId: a.id, label: 'A2' });
      return { rootId, a, b, a1, a2 };
    }

    it('returns the existing root from createRoot', async () => {
      const { sessions, rootId } = fx.current;
      const root = await sessions.createRoot('ignored label');
      expect(root).toMatchObject({ id: rootId, parentId: null, depth: 0 });
      expect((await sessions.createRoot()).id).toBe(rootId);
      expect((await sessions.getRoot()).id).toBe(rootId);
      expect((await sessions.listAll()).filter((s) => s.id === rootId)).toHaveLength(1);
    });

    it('creates children with depth, increasing index, scope and provenance', async () => {
      const { sessions, rootId } = fx.current;
      const a = await sessions.createChild({
        parentId: rootId,
        label: 'A',
        scope: 'coding',
        tags: ['t'],
        metadata: { k: 1 },
        sourceSessionId: rootId,
      });
      const b = await sessions.createChild({ parentId: rootId, label: 'B' });
      const a1 = await sessions.createChild({ parentId: a.id, label: 'A1' });
      expect(a).toEqual({
        id: a.id,
        parentId: rootId,
        children: [],
        refs: [],
        depth: 1,
        index: 0,
        label: 'A',
        sourceSessionId: rootId,
      });
      expect(b).toMatchObject({ depth: 1, index: 1, sourceSessionId: null });
      expect(a1).toMatchObject({ parentId: a.id, depth: 2, index: 0 });
      expect(await sessions.get(a.id)).toMatchObject({
        id: a.id,
        label: 'A',
        scope: 'coding',
        status: 'active',
        turnCount: 0,
        tags: ['t'],
        metadata: { k: 1 },
      });
    });

    it('refuses a missing or archived parent', async () => {
      const { sessions, rootId } = fx.current;
      await expectCode(sessions.createChild({ parentId: GHOST_ID, label: 'x' }), 'SESSION_NOT_FOUND');
      const parent = await sessions.createChild({ parentId: rootId, label: 'p' });
      await sessions.archive(parent.id);
      await expectCode(sessions.createChild({ parentId: parent.id, label: 'x' }), 'SESSION_ARCHIVED');
    });

    it('hands out distinct indexes to concurrent children', async () => {
      const { sessions, rootId } = fx.current;
      const nodes = await Promise.all(
        Array.from({ length: 8 }, (_, i) => sessions.createChild({ parentId: rootId, label: `c${i}` })),
      );
      expect(nodes.map((n) => n.index).sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
      expect((await sessions.getNode(rootId))!.children).toHaveLength(8);
    });

    it('returns metas without tree fields and null for unknown ids', async () => {
      const { sessions } = fx.current;
      const { a } = await buildTree();
      const meta = await sessions.get(a.id);
      expect(Object.keys(meta!).sort()).toEqual(
        [
          'createdAt',
          'id',
          'label',
          'lastActiveAt',
          'metadata',
          'scope',
          'status',
          'tags',
          'turnCount',
          'updatedAt',
        ].sort(),
      );
      expect(await sessions.get(GHOST_ID)).toBeNull();
      expect(await sessions.getNode(GHOST_ID)).toBeNull();
      expect(await sessions.getInfo(GHOST_ID)).toBeNull();
    });

    it('lists metas and infos by depth then index', async () => {
      const { sessions } = fx.current;
      const { rootId, a, b, a1, a2 } = await buildTree();
      const order = [rootId, a.id, b.id, a1.id, a2.id];
      expect((await sessions.listAll()).map((s) => s.id)).toEqual(order);
      const infos = await sessions.listInfo();
      expect(infos.map((s) => s.id)).toEqual(order);
      expect(infos[1]).toMatchObject({
        id: a.id,
        parentId: rootId,
        children: [a1.id, a2.id],
        depth: 1,
        index: 0,
        label: 'A',
        status: 'active',
        turnCount: 0,
        sourceSessionId: null,
      });
      expect(await sessions.getInfo(a1.id)).toEqual(infos[3]);
    });

    it('archives one session and leaves its children alone', async () => {
      const { sessions } = fx.current;
      const { a, a1 } = await buildTree();
      await sessions.archive(a.id);
      await sessions.archive(a.id);
      expect((await sessions.get(a.id))!.status).toBe('archived');
      expect((await sessions.get(a1.id))!.status).toBe('active');
      await expectCode(sessions.archive(GHOST_ID), 'SESSION_NOT_FOUND');
    });

    it('adds refs idempotently and refuses self, ancestors and descendants', async () => {
      const { sessions } = fx.current;
      const { rootId, a, b, a1 } = await buildTree();
      await sessions.addRef(a1.id, b.id);
      await sessions.addRef(a1.id, b.id);
      expect((await sessions.getNode(a1.id))!.refs).toEqual([b.id]);
      await expectCode(sessions.addRef(a1.id, a1.id), 'INVALID_REF');
      await expectCode(sessions.addRef(a1.id, a.id), 'INVALID_REF');
      await expectCode(sessions.addRef(a1.id, rootId), 'INVALID_REF');
      await expectCode(sessions.addRef(rootId, a1.id), 'INVALID_REF');
      await expectCode(sessions.addRef(a.id, a1.id), 'INVALID_REF');
      await expectCode(sessions.addRef(a.id, GHOST_ID), 'SESSION_NOT_FOUND');
      expect((await sessions.getNode(a.id))!.refs).toEqual([]);
    });

    it('updates only the given meta fields', async () => {
      const { sessions } = fx.current;
      const { a } = await buildTree();
      const before = (await sessions.get(a.id))!;
      const updated = await sessions.updateMeta(a.id, { label: 'A!', scope: 'docs' });
      expect(updated).toMatchObject({
        id: a.id,
        label: 'A!',
        scope: 'docs',
        tags: before.tags,
        metadata: before.metadata,
      });
      const again = await sessions.updateMeta(a.id, { tags: ['x'], metadata: { m: true } });
      expect(again).toMatchObject({ label: 'A!', scope: 'docs', tags: ['x'], metadata: { m: true } });
      expect(await sessions.get(a.id)).toEqual(again);
      expect((await sessions.getNode(a.id))!.label).toBe('A!');
      await expectCode(sessions.updateMeta(GHOST_ID, { label: 'x' }), 'SESSION_NOT_FOUND');
    });

    it('returns the nested tree from the root', async () => {
      const { sessions } = fx.current;
      const { rootId, a, b, a1, a2 } = await buildTree();
      await sessions.archive(a2.id);
      const tree = await sessions.getTree();
      expect(tree).toMatchObject({ id: rootId, depth: 0, index: 0 });
      // As in the original 0.2.x: absent when there is none, never null.
      expect(tree).not.toHaveProperty('sourceSessionId');
      expect(tree.children.map((c) => c.id)).toEqual([a.id, b.id]);
      expect(tree.children[1]).toMatchObject({ id: b.id, sourceSessionId: rootId, children: [] });
      expect(tree.children[0]!.children).toEqual([
        {
          id: a1.id,
          label: 'A1',
          sourceSessionId: b.id,
          status: 'active',
          turnCount: 0,
          depth: 2,
          index: 0,
          scope: null,
          children: [],
        },
        expect.objectContaining({ id: a2.id, status: 'archived', index: 1 }),
      ]);
    });

    it('sets the turn count with updateMeta, as the original scheduler did', async () => {
      const { sessions } = fx.current;
      const { a } = await buildTree();
      expect(await sessions.updateMeta(a.id, { turnCount: 3 })).toMatchObject({ id: a.id, turnCount: 3 });
      expect((await sessions.get(a.id))!.turnCount).toBe(3);
      expect(await sessions.updateMeta(a.id, { label: 'A2' })).toMatchObject({ label: 'A2', turnCount: 3 });
      for (const bad of [-1, 1.5, Number.NaN, '4' as unknown as number]) {
        await expectCode(sessions.updateMeta(a.id, { label: 'never', turnCount: bad }), 'INVALID_ARGUMENT');
      }
      expect(await sessions.get(a.id)).toMatchObject({ label: 'A2', turnCount: 3 });
    });

    it('takes the provenance the original orchestrator passed in metadata.sourceSessionId', async () => {
      const { sessions } = fx.current;
      const { rootId, b } = await buildTree();
      const legacy = await sessions.createChild({
        parentId: rootId,
        label: 'legacy fork',
        metadata: { sourceSessionId: b.id },
      });
      expect(legacy.sourceSessionId).toBe(b.id);
      expect((await sessions.get(legacy.id))!.metadata).toEqual({ sourceSessionId: b.id });
      const tree = await sessions.getTree();
      expect(tree.children.find((c) => c.id === legacy.id)).toMatchObject({ sourceSessionId: b.id });
      // An explicit field wins, null included.
      const explicit = await sessions.createChild({
        parentId: rootId,
        label: 'explicit',
        sourceSessionId: null,
        metadata: { sourceSessionId: b.id },
      });
      expect(explicit.sourceSessionId).toBeNull();
    });

    it('returns ancestors parent first and siblings by index', async () => {
      const { sessions } = fx.current;
      const { rootId, a, b, a1, a2 } = await buildTree();
      expect((await sessions.getAncestors(a1.id)).map((s) => s.id)).toEqual([a.id, rootId]);
      // Each ancestor is meta and topology together: the original interface's TopologyNode.
      expect((await sessions.getAncestors(a1.id))[0]).toMatchObject({
        id: a.id,
        parentId: rootId,
        children: [a1.id, a2.id],
        refs: [],
        depth: 1,
        index: 0,
        label: 'A',
        status: 'active',
        turnCount: 0,
      });
      expect(await sessions.getAncestors(rootId)).toEqual([]);
      expect(await sessions.getAncestors(GHOST_ID)).toEqual([]);
      expect((await sessions.getSiblings(a1.id)).map((n) => n.id)).toEqual([a2.id]);
      expect((await sessions.getSiblings(b.id)).map((n) => n.id)).toEqual([a.id]);
      expect((await sessions.getSiblings(a.id))[0]).toMatchObject({ id: b.id, depth: 1, index: 1 });
      expect(await sessions.getSiblings(rootId)).toEqual([]);
    });

    it('keeps every read and write inside the space', async () => {
      const { sessions, rootId, otherSpace } = fx.current;
      const foreign = await otherSpace.sessions.createChild({
        parentId: otherSpace.rootId,
        label: 'foreign',
      });
      const mine = await sessions.createChild({ parentId: rootId, label: 'mine' });
      expect(await sessions.get(foreign.id)).toBeNull();
      expect(await sessions.getNode(foreign.id)).toBeNull();
      expect((await sessions.listAll()).map((s) => s.id)).toEqual([rootId, mine.id]);
      expect((await sessions.listInfo()).map((s) => s.id)).toEqual([rootId, mine.id]);
      expect((await sessions.getRoot()).id).toBe(rootId);
      expect((await sessions.getTree()).children.map((c) => c.id)).toEqual([mine.id]);
      await expectCode(sessions.createChild({ parentId: foreign.id, label: 'x' }), 'SESSION_NOT_FOUND');
      await expectCode(sessions.archive(foreign.id), 'SESSION_NOT_FOUND');
      await expectCode(sessions.updateMeta(foreign.id, { label: 'hijack' }), 'SESSION_NOT_FOUND');
      await expectCode(sessions.addRef(mine.id, foreign.id), 'SESSION_NOT_FOUND');
      expect(await otherSpace.sessions.get(foreign.id)).toMatchObject({ label: 'foreign', status: 'active' });
    });
  });
}
