import type { SessionTreeNode } from '@stello-ai/client';

/** A row of the drawn tree: a session, its depth, and whether it has children to fold. */
export interface TreeRow {
  node: SessionTreeNode;
  depth: number;
  hasChildren: boolean;
  expanded: boolean;
}

/**
 * The rows of the tree that show, depth-first, parents first: the children of a collapsed
 * session are left out. Iterative, so a long fork chain cannot overflow the stack.
 */
export function visibleRows(root: SessionTreeNode, collapsed: ReadonlySet<string>): TreeRow[] {
  const rows: TreeRow[] = [];
  const stack: Array<{ node: SessionTreeNode; depth: number }> = [{ node: root, depth: 0 }];
  while (stack.length > 0) {
    const { node, depth } = stack.pop()!;
    const hasChildren = node.children.length > 0;
    const expanded = hasChildren && !collapsed.has(node.id);
    rows.push({ node, depth, hasChildren, expanded });
    if (expanded) {
      for (let i = node.children.length - 1; i >= 0; i -= 1) {
        stack.push({ node: node.children[i]!, depth: depth + 1 });
      }
    }
  }
  return rows;
}

/** The set with `id` added when absent, removed when present. */
export function toggled(set: ReadonlySet<string>, id: string): Set<string> {
  const next = new Set(set);
  if (next.has(id)) next.delete(id);
  else next.add(id);
  return next;
}

/** What a key pressed on a row of the tree does: move the focus to a row, or fold a row. */
export type TreeKeyAction = { focus: string } | { toggle: string } | null;

/**
 * The tree-view keys of the WAI-ARIA pattern, on the row `currentId` of `rows`: ArrowDown and
 * ArrowUp move to the next and previous row, Home and End to the first and last; ArrowRight
 * expands a collapsed row or moves to its first child, ArrowLeft collapses an expanded row or
 * moves to its parent. `null` for any other key, or where the move has nowhere to go.
 */
export function treeKeyAction(rows: readonly TreeRow[], currentId: string, key: string): TreeKeyAction {
  const at = rows.findIndex((row) => row.node.id === currentId);
  if (at < 0) return null;
  const row = rows[at]!;
  const focusAt = (index: number): TreeKeyAction =>
    index >= 0 && index < rows.length && index !== at ? { focus: rows[index]!.node.id } : null;
  switch (key) {
    case 'ArrowDown':
      return focusAt(at + 1);
    case 'ArrowUp':
      return focusAt(at - 1);
    case 'Home':
      return focusAt(0);
    case 'End':
      return focusAt(rows.length - 1);
    case 'ArrowRight':
      if (!row.hasChildren) return null;
      return row.expanded ? focusAt(at + 1) : { toggle: row.node.id };
    case 'ArrowLeft': {
      if (row.expanded) return { toggle: row.node.id };
      // The parent is the nearest row above that is one level shallower.
      for (let index = at - 1; index >= 0; index -= 1) {
        if (rows[index]!.depth < row.depth) return focusAt(index);
      }
      return null;
    }
    default:
      return null;
  }
}
