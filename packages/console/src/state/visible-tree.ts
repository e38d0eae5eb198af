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
