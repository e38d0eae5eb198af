import type { SessionTreeNode } from '@stello-ai/client';
import { describe, expect, it } from 'vitest';
import { toggled, treeKeyAction, visibleRows } from './visible-tree';

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

describe('treeKeyAction', () => {
  const tree = node('root', [node('a', [node('a1'), node('a2')]), node('b')]);
  const rows = visibleRows(tree, new Set());

  it('moves down, up, to the first and to the last row, and stops at the ends', () => {
    expect(treeKeyAction(rows, 'a', 'ArrowDown')).toEqual({ focus: 'a1' });
    expect(treeKeyAction(rows, 'a1', 'ArrowUp')).toEqual({ focus: 'a' });
    expect(treeKeyAction(rows, 'a2', 'Home')).toEqual({ focus: 'root' });
    expect(treeKeyAction(rows, 'a', 'End')).toEqual({ focus: 'b' });
    expect(treeKeyAction(rows, 'b', 'ArrowDown')).toBeNull();
    expect(treeKeyAction(rows, 'root', 'ArrowUp')).toBeNull();
  });

  it('expands a collapsed row, or enters an expanded one, with ArrowRight', () => {
    expect(treeKeyAction(rows, 'a', 'ArrowRight')).toEqual({ focus: 'a1' });
    const folded = visibleRows(tree, new Set(['a']));
    expect(treeKeyAction(folded, 'a', 'ArrowRight')).toEqual({ toggle: 'a' });
    expect(treeKeyAction(rows, 'a1', 'ArrowRight')).toBeNull();
  });

  it('collapses an expanded row, or goes to the parent, with ArrowLeft', () => {
    expect(treeKeyAction(rows, 'a', 'ArrowLeft')).toEqual({ toggle: 'a' });
    expect(treeKeyAction(rows, 'a2', 'ArrowLeft')).toEqual({ focus: 'a' });
    expect(treeKeyAction(rows, 'b', 'ArrowLeft')).toEqual({ focus: 'root' });
    expect(treeKeyAction(visibleRows(tree, new Set(['root'])), 'root', 'ArrowLeft')).toBeNull();
  });

  it('ignores other keys and rows that are not shown', () => {
    expect(treeKeyAction(rows, 'a', 'Enter')).toBeNull();
    expect(treeKeyAction(visibleRows(tree, new Set(['a'])), 'a1', 'ArrowDown')).toBeNull();
  });
});
