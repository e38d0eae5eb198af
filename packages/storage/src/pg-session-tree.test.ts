import { createTestDatabase, expectCode, type TestDatabase } from '@internal/testing';
import type { SessionTreeNode, TopologyNode } from '@stello-ai/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countStatements } from './__fixtures__/count-statements';
import { createSpaceFixture, type SpaceFixture } from './__fixtures__/space-fixture';
import { PgSessionTree } from './pg-session-tree';

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
});

afterAll(async () => {
  await database.drop();
});

async function insertSpace(): Promise<string> {
  const { rows } = await database.pool.query<{ id: string }>(
    `WITH u AS (INSERT INTO users (name) VALUES ('tree owner') RETURNING id)
     INSERT INTO spaces (user_id, label) SELECT id, 'tree space' FROM u RETURNING id`,
  );
  return rows[0]!.id;
}

function countNodes(node: SessionTreeNode): number {
  return 1 + node.children.reduce((sum, child) => sum + countNodes(child), 0);
}

describe('PgSessionTree', () => {
  describe('createRoot', () => {
    it('creates the root of a new space in one statement and returns it again afterwards', async () => {
      const spaceId = await insertSpace();
      const tree = new PgSessionTree(database.pool, spaceId);
      const counter = countStatements(database.pool);
      try {
        const root = await tree.createRoot('Space label');
        expect(counter.count).toBe(1);
        expect(root).toMatchObject({
          parentId: null,
          depth: 0,
          index: 0,
          label: 'Space label',
          children: [],
        });
        counter.reset();
        expect(await tree.createRoot('other')).toEqual(root);
        expect(counter.count).toBe(1);
      } finally {
        counter.stop();
      }
    });

    it('creates one root under concurrent calls', async () => {
      const spaceId = await insertSpace();
      const tree = new PgSessionTree(database.pool, spaceId);
      const roots = await Promise.all(Array.from({ length: 10 }, () => tree.createRoot()));
      expect(new Set(roots.map((root) => root.id)).size).toBe(1);
      const { rows } = await database.pool.query('SELECT id FROM sessions WHERE space_id = $1', [spaceId]);
      expect(rows).toHaveLength(1);
    });

    it('fails with INVALID_REFERENCE for a space that does not exist', async () => {
      const tree = new PgSessionTree(database.pool, '00000000-0000-4000-8000-00000000dead');
      await expectCode(tree.createRoot(), 'INVALID_REFERENCE');
    });
  });

  describe('reads of a 200-node tree', () => {
    let space: SpaceFixture;
    let nodes: TopologyNode[];
    let deepest: TopologyNode;

    beforeAll(async () => {
      space = await createSpaceFixture(database.pool, 'big tree');
      const tree = space.sessions;
      nodes = [];
      // 9 levels deep along one chain, and wide elsewhere: 199 children + the root.
      let parentId = space.rootId;
      for (let depth = 1; depth <= 9; depth += 1) {
        const node = await tree.createChild({ parentId, label: `chain ${depth}` });
        nodes.push(node);
        parentId = node.id;
      }
      deepest = nodes.at(-1)!;
      const firstLevel = nodes[0]!;
      const wide = await Promise.all(
        Array.from({ length: 190 }, (_, i) =>
          tree.createChild({ parentId: i % 2 === 0 ? space.rootId : firstLevel.id, label: `wide ${i}` }),
        ),
      );
      nodes.push(...wide);
      await tree.addRef(wide[0]!.id, wide[1]!.id);
    });

    it('reads the whole tree, the list and one node in one statement each', async () => {
      const tree = new PgSessionTree(database.pool, space.spaceId);
      const counter = countStatements(database.pool);
      try {
        const nested = await tree.getTree();
        expect(counter.count).toBe(1);
        expect(countNodes(nested)).toBe(200);
        counter.reset();
        const infos = await tree.listInfo();
        expect(counter.count).toBe(1);
        expect(infos).toHaveLength(200);
        counter.reset();
        const metas = await tree.listAll();
        expect(counter.count).toBe(1);
        expect(metas).toHaveLength(200);
        counter.reset();
        const root = await tree.getNode(space.rootId);
        expect(counter.count).toBe(1);
        expect(root!.children).toHaveLength(96);
        counter.reset();
        expect((await tree.getInfo(nodes[0]!.id))!.children).toHaveLength(96);
        expect(counter.count).toBe(1);
      } finally {
        counter.stop();
      }
    });

    it('reads ancestors and siblings in one statement each', async () => {
      const tree = new PgSessionTree(database.pool, space.spaceId);
      const counter = countStatements(database.pool);
      try {
        const ancestors = await tree.getAncestors(deepest.id);
        expect(counter.count).toBe(1);
        expect(ancestors.map((a) => a.id)).toEqual([
          ...nodes
            .slice(0, 8)
            .reverse()
            .map((n) => n.id),
          space.rootId,
        ]);
        counter.reset();
        const siblings = await tree.getSiblings(nodes[0]!.id);
        expect(counter.count).toBe(1);
        expect(siblings).toHaveLength(95);
        expect(siblings.map((s) => s.index)).toEqual([...siblings.map((s) => s.index)].sort((a, b) => a - b));
      } finally {
        counter.stop();
      }
    });

    it('forks in one statement', async () => {
      const tree = new PgSessionTree(database.pool, space.spaceId);
      const counter = countStatements(database.pool);
      try {
        const child = await tree.createChild({ parentId: deepest.id, label: 'leaf' });
        expect(counter.count).toBe(1);
        expect(child).toMatchObject({ depth: 10, index: 0, parentId: deepest.id });
      } finally {
        counter.stop();
      }
    });

    it('keeps the nested tree consistent with listInfo', async () => {
      const tree = new PgSessionTree(database.pool, space.spaceId);
      const [nested, infos] = await Promise.all([tree.getTree(), tree.listInfo()]);
      const byId = new Map(infos.map((info) => [info.id, info]));
      const walk = (node: SessionTreeNode): void => {
        expect(node.children.map((c) => c.id)).toEqual(byId.get(node.id)!.children);
        for (const child of node.children) {
          expect(child.depth).toBe(node.depth + 1);
          walk(child);
        }
      };
      walk(nested);
      expect(infos.find((info) => info.refs.length > 0)!.refs).toHaveLength(1);
    });
  });

  describe('concurrent forks', () => {
    it('gives 100 concurrent children distinct indexes 0..99, all listed', async () => {
      const space = await createSpaceFixture(database.pool, 'fork storm');
      const tree = space.sessions;
      const children = await Promise.all(
        Array.from({ length: 100 }, (_, i) => tree.createChild({ parentId: space.rootId, label: `c${i}` })),
      );
      expect(children.map((c) => c.index).sort((a, b) => a - b)).toEqual(
        Array.from({ length: 100 }, (_, i) => i),
      );
      const root = await tree.getNode(space.rootId);
      expect(new Set(root!.children)).toEqual(new Set(children.map((c) => c.id)));
      const nested = await tree.getTree();
      expect(nested.children.map((c) => c.index)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    });
  });
});
