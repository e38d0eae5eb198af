import type { SessionTreeNode } from '@stello-ai/client';
import { describe, expect, it } from 'vitest';
import { toggled, visibleRows } from './visible-tree';

function node(id: string, children: SessionTreeNode[] = [], status: 'active' | 'archived' = 'active') {
  return { id, label: id, status, turnCount: 0, depth: 0, index: 0, scope: null, children };
}

describe('visibleRows', () => {
  const tree = node('root', [node('a', [node('a1'), node('a2')]), node('b', [], 'archived')]);

  it('lists every session depth-first, parents first, with depths', () => {
    expect(visibleRows(tree, new Set()).map((row) => [row.node.id, row.depth, row.expanded])).toEqual([
      ['root', 0, true],
      ['a', 1, true],
      ['a1', 2, false],
      ['a2', 2, false],
      ['b', 1, false],
    ]);
  });

  it('leaves out the children of a collapsed session, which stays foldable', () => {
    const rows = visibleRows(tree, new Set(['a']));
    expect(rows.map((row) => row.node.id)).toEqual(['root', 'a', 'b']);
    expect(rows[1]).toMatchObject({ hasChildren: true, expanded: false });
    expect(visibleRows(tree, new Set(['root'])).map((row) => row.node.id)).toEqual(['root']);
  });

  it('walks a fork chain deeper than the call stack allows', () => {
    let chain = node('leaf');
    for (let i = 0; i < 20_000; i += 1) chain = node(`n${i}`, [chain]);
    const rows = visibleRows(chain, new Set());
    expect(rows).toHaveLength(20_001);
    expect(rows.at(-1)).toMatchObject({ depth: 20_000, hasChildren: false });
  });
});

describe('toggled', () => {
  it('adds an absent id and removes a present one, leaving the input as it was', () => {
    const start = new Set(['a']);
    expect([...toggled(start, 'b')]).toEqual(['a', 'b']);
    expect([...toggled(start, 'a')]).toEqual([]);
    expect([...start]).toEqual(['a']);
  });
});
