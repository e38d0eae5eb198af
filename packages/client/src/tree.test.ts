import { describe, expect, it } from 'vitest';
import {
  buildTree,
  findInTree,
  findSession,
  pathTo,
  type SessionInfo,
  type SessionTreeNode,
  walkTree,
} from './index';

function info(id: string, parentId: string | null, index: number, children: string[] = []): SessionInfo {
  const now = '2026-01-01T00:00:00.000Z';
  return {
    id,
    parentId,
    children,
    refs: [],
    depth: 0,
    index,
    label: id,
    scope: null,
    status: 'active',
    turnCount: 0,
    metadata: {},
    tags: [],
    sourceSessionId: parentId,
    createdAt: now,
    updatedAt: now,
    lastActiveAt: now,
  };
}

function node(id: string, children: SessionTreeNode[] = []): SessionTreeNode {
  return {
    id,
    label: id,
    sourceSessionId: null,
    status: 'active',
    turnCount: 0,
    depth: 0,
    index: 0,
    scope: null,
    children,
  };
}

describe('tree helpers', () => {
  const tree = node('root', [node('a', [node('a1'), node('a2')]), node('b')]);

  it('walks the nested tree depth-first, parents first, with parents and paths', () => {
    const visits = [...walkTree(tree)];
    expect(visits.map((visit) => visit.node.id)).toEqual(['root', 'a', 'a1', 'a2', 'b']);
    expect(visits[2]).toMatchObject({ parent: { id: 'a' }, depth: 2 });
    expect(visits[0]?.parent).toBeNull();
  });

  it('finds a node by id or by predicate, and null when none matches', () => {
    expect(findSession(tree, 'a2')?.label).toBe('a2');
    expect(findSession(tree, 'zzz')).toBeNull();
    expect(findInTree(tree, (candidate) => candidate.children.length === 0)?.node.id).toBe('a1');
    expect(pathTo(tree, 'a2')?.map((step) => step.id)).toEqual(['root', 'a', 'a2']);
    expect(pathTo(tree, 'zzz')).toBeNull();
  });

  it('builds the tree from the flat list, children in index order', () => {
    const root = buildTree([
      info('b', 'root', 1),
      info('a1', 'a', 0),
      info('root', null, 0, ['a', 'b']),
      info('a', 'root', 0, ['a1']),
    ]);
    expect([...walkTree(root)].map((visit) => visit.node.id)).toEqual(['root', 'a', 'a1', 'b']);
    expect(findSession(root, 'a1')?.parentId).toBe('a');
    expect(() => buildTree([info('a', 'root', 0)])).toThrow(/no root/);
  });

  it('walks a deep chain without overflowing the stack', () => {
    let deep = node('leaf');
    for (let depth = 0; depth < 20_000; depth += 1) deep = node(`n${depth}`, [deep]);
    expect(findSession(deep, 'leaf')?.id).toBe('leaf');
    expect(pathTo(deep, 'leaf')).toHaveLength(20_001);
  });
});
