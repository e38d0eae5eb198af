import type { SessionInfo } from './wire';

// Helpers on the session tree of a space: `client.sessions.tree()` answers the nested tree,
// `client.sessions.list()` the flat list with parent and children ids.

/** A tree node and where it sits. */
export interface TreeVisit<TNode> {
  node: TNode;
  /** The parent; `null` for the root. */
  parent: TNode | null;
  /** 0 for the root. */
  depth: number;
}

/** A node of a tree built from the flat list: the session and its children in order. */
export type SessionInfoNode = SessionInfo & { childNodes: SessionInfoNode[] };

/**
 * Visits every node depth-first, parents before children, children in order. Iterative, so a deep
 * fork chain cannot overflow the stack.
 */
export function* walkTree<TNode extends { id: string }>(
  root: TNode,
  childrenOf: (node: TNode) => readonly TNode[] = defaultChildren,
): Generator<TreeVisit<TNode>> {
  const stack: TreeVisit<TNode>[] = [{ node: root, parent: null, depth: 0 }];
  for (let visit = stack.pop(); visit; visit = stack.pop()) {
    yield visit;
    const children = childrenOf(visit.node);
    for (let index = children.length - 1; index >= 0; index -= 1) {
      const child = children[index] as TNode;
      stack.push({ node: child, parent: visit.node, depth: visit.depth + 1 });
    }
  }
}

/** The first node (depth-first) that matches, with its parent and path; `null` when none does. */
export function findInTree<TNode extends { id: string }>(
  root: TNode,
  predicate: (node: TNode) => boolean,
  childrenOf: (node: TNode) => readonly TNode[] = defaultChildren,
): TreeVisit<TNode> | null {
  for (const visit of walkTree(root, childrenOf)) if (predicate(visit.node)) return visit;
  return null;
}

/** The node with this id, or `null`. */
export function findSession<TNode extends { id: string }>(
  root: TNode,
  sessionId: string,
  childrenOf: (node: TNode) => readonly TNode[] = defaultChildren,
): TNode | null {
  return findInTree(root, (node) => node.id === sessionId, childrenOf)?.node ?? null;
}

/** The nodes from the root down to the one with this id (both included); `null` when absent. */
export function pathTo<TNode extends { id: string }>(
  root: TNode,
  sessionId: string,
  childrenOf: (node: TNode) => readonly TNode[] = defaultChildren,
): TNode[] | null {
  const parents = new Map<TNode, TNode | null>();
  for (const visit of walkTree(root, childrenOf)) {
    parents.set(visit.node, visit.parent);
    if (visit.node.id !== sessionId) continue;
    const path: TNode[] = [];
    for (let current: TNode | null | undefined = visit.node; current; current = parents.get(current)) {
      path.push(current);
    }
    return path.reverse();
  }
  return null;
}

/**
 * Builds the nested tree from the flat list (`client.sessions.list()`): each session gets its
 * `childNodes` in `index` order. Returns the root (the session without a parent).
 *
 * @throws Error when the list has no root
 */
export function buildTree(sessions: readonly SessionInfo[]): SessionInfoNode {
  const nodes = new Map<string, SessionInfoNode>();
  for (const session of sessions) nodes.set(session.id, { ...session, childNodes: [] });
  let root: SessionInfoNode | null = null;
  for (const node of nodes.values()) {
    const parent = node.parentId === null ? undefined : nodes.get(node.parentId);
    if (parent) parent.childNodes.push(node);
    else if (node.parentId === null) root = node;
  }
  for (const node of nodes.values()) node.childNodes.sort((a, b) => a.index - b.index);
  if (!root) throw new Error('the session list has no root session');
  return root;
}

function defaultChildren<TNode>(node: TNode): readonly TNode[] {
  const record = node as { childNodes?: readonly TNode[]; children?: readonly unknown[] };
  if (record.childNodes) return record.childNodes;
  // The nested tree's `children` are nodes; a flat SessionInfo's are ids (no descent).
  return (record.children ?? []).filter(
    (child): child is TNode => typeof child === 'object' && child !== null,
  );
}
