import { createTestDatabase, expectCode, type TestDatabase } from '@internal/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countStatements } from './__fixtures__/count-statements';
import { createSpaceFixture, type SpaceFixture } from './__fixtures__/space-fixture';
import { PgMainStorage } from './pg-main-storage';

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
});

afterAll(async () => {
  await database.drop();
});

describe('PgMainStorage', () => {
  let space: SpaceFixture;

  beforeAll(async () => {
    space = await createSpaceFixture(database.pool, 'main storage');
  });

  describe('putNode', () => {
    it('moves a deep subtree and recomputes every depth', async () => {
      const { storage, rootId } = space;
      const target = await storage.createChild(rootId, { label: 'target' });
      const moving = await storage.createChild(rootId, { label: 'moving' });
      const chain = [moving];
      for (let i = 0; i < 5; i += 1)
        chain.push(await storage.createChild(chain.at(-1)!.id, { label: `deep ${i}` }));
      const side = await storage.createChild(chain[2]!.id, { label: 'side' });
      await storage.createChild(target.id, { label: 'existing child' });

      await storage.putNode({ id: moving.id, parentId: target.id, label: 'moved' });

      const moved = (await storage.getSessionRow(moving.id))!;
      expect(moved).toMatchObject({ parentId: target.id, depth: 2, index: 1, label: 'moved' });
      for (const [i, node] of chain.entries()) {
        expect((await storage.getSessionRow(node.id))!.depth).toBe(2 + i);
      }
      expect((await storage.getSessionRow(side.id))!.depth).toBe(5);
      expect(
        (await space.sessions.getTree()).children.find((c) => c.id === target.id)!.children,
      ).toHaveLength(2);
    });

    it('refuses to move a node under itself or its descendants', async () => {
      const { storage, rootId } = space;
      const a = await storage.createChild(rootId, { label: 'a' });
      const a1 = await storage.createChild(a.id, { label: 'a1' });
      const a11 = await storage.createChild(a1.id, { label: 'a11' });
      await expectCode(storage.putNode({ id: a.id, parentId: a.id, label: 'a' }), 'INVALID_ARGUMENT');
      await expectCode(storage.putNode({ id: a.id, parentId: a11.id, label: 'a' }), 'INVALID_ARGUMENT');
      await expectCode(storage.putNode({ id: a.id, parentId: null, label: 'a' }), 'INVALID_ARGUMENT');
      await expectCode(storage.putNode({ id: rootId, parentId: a.id, label: 'root' }), 'INVALID_ARGUMENT');
      await expectCode(
        storage.putNode({ id: a.id, parentId: '00000000-0000-4000-8000-000000000000', label: 'a' }),
        'SESSION_NOT_FOUND',
      );
      expect((await storage.getSessionRow(a.id))!).toMatchObject({ parentId: rootId, depth: 1, label: 'a' });
      expect((await storage.getSessionRow(a11.id))!.depth).toBe(3);
    });

    it('renames the root without moving it', async () => {
      const { storage, rootId } = space;
      await storage.putNode({ id: rootId, parentId: null, label: 'renamed root' });
      expect((await storage.getSessionRow(rootId))!).toMatchObject({
        label: 'renamed root',
        parentId: null,
        depth: 0,
      });
    });

    it('never builds a cycle from two opposite concurrent moves', async () => {
      const { storage, rootId } = space;
      for (let round = 0; round < 5; round += 1) {
        const x = await storage.createChild(rootId, { label: `x${round}` });
        const y = await storage.createChild(rootId, { label: `y${round}` });
        const results = await Promise.allSettled([
          storage.putNode({ id: x.id, parentId: y.id, label: 'x' }),
          storage.putNode({ id: y.id, parentId: x.id, label: 'y' }),
        ]);
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        const [rx, ry] = [(await storage.getSessionRow(x.id))!, (await storage.getSessionRow(y.id))!];
        expect(rx.parentId === y.id && ry.parentId === x.id).toBe(false);
        expect([rx.depth, ry.depth].sort()).toEqual([1, 2]);
      }
    });
  });

  describe('commitIntegration', () => {
    it('writes the synthesis and active insights in one statement, skipping archived sessions', async () => {
      const { storage, rootId } = space;
      const active = await storage.createChild(rootId, { label: 'active' });
      const archived = await storage.createChild(rootId, { label: 'archived' });
      await space.sessions.archive(archived.id);
      const counter = countStatements(database.pool);
      try {
        await storage.commitIntegration(rootId, 'synthesis', [
          { sessionId: active.id, content: 'first' },
          { sessionId: archived.id, content: 'ignored' },
          { sessionId: active.id, content: 'last wins' },
        ]);
        expect(counter.count).toBe(1);
      } finally {
        counter.stop();
      }
      expect(await storage.getMemory(rootId)).toBe('synthesis');
      expect(await storage.getInsight(active.id)).toBe('last wins');
      expect(await storage.getInsight(archived.id)).toBeNull();
    });

    it('refuses a main id that is a standard session', async () => {
      const { storage, rootId } = space;
      const child = await storage.createChild(rootId, { label: 'not main' });
      await expectCode(storage.commitIntegration(child.id, 'x', []), 'NOT_MAIN_SESSION');
      expect(await storage.getMemory(child.id)).toBeNull();
    });
  });

  describe('deleteSubtree', () => {
    it('deletes the subtree with its records, slots and the refs pointing at it', async () => {
      const { storage, rootId } = space;
      const doomed = await storage.createChild(rootId, { label: 'doomed' });
      const inner = await storage.createChild(doomed.id, { label: 'inner' });
      const keeper = await storage.createChild(rootId, { label: 'keeper' });
      await storage.commitTurn(inner.id, { records: [{ role: 'user', content: 'x' }], countTurn: true });
      await storage.putMemory(inner.id, 'm');
      await space.sessions.addRef(keeper.id, inner.id);
      await storage.deleteSubtree(doomed.id);
      const { rows } = await database.pool.query(
        `SELECT (SELECT count(*) FROM sessions WHERE id IN ($1, $2))::int AS sessions,
                (SELECT count(*) FROM records WHERE session_id = $2)::int AS records,
                (SELECT count(*) FROM session_data WHERE session_id = $2)::int AS slots,
                (SELECT count(*) FROM session_refs WHERE to_id = $2)::int AS refs`,
        [doomed.id, inner.id],
      );
      expect(rows[0]).toEqual({ sessions: 0, records: 0, slots: 0, refs: 0 });
      expect((await space.sessions.getNode(keeper.id))!.refs).toEqual([]);
    });
  });

  describe('transaction', () => {
    it('hands the function a PgMainStorage bound to the transaction', async () => {
      const { storage, rootId } = space;
      const ids = await storage.transaction(async (tx) => {
        expect(tx).toBeInstanceOf(PgMainStorage);
        const child = await tx.createChild(rootId, { label: 'in tx' });
        await tx.putGlobal('tx-key', { ok: true });
        return (await tx.getChildren(rootId)).map((c) => c.id).filter((id) => id === child.id);
      });
      expect(ids).toHaveLength(1);
      expect(await storage.getGlobal('tx-key')).toEqual({ ok: true });
    });
  });
});
