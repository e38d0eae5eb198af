import type { SessionTreeNode } from '@stello-ai/client';
import { useRef, useState } from 'preact/hooks';
import { turnsText } from '../state/turns-text';
import { toggled, treeKeyAction, visibleRows } from '../state/visible-tree';

/** Properties of {@link SessionTree}. */
export interface SessionTreeProps {
  root: SessionTreeNode;
  selectedId: string | null;
  onSelect: (sessionId: string) => void;
}

/**
 * The session tree, drawn with indentation and guide lines. Each row is a button (Enter selects
 * it); a session with children has a fold button before it. Archived sessions are greyed and say
 * so to screen readers. Tab enters the tree at one row (the selected one) and leaves it in one
 * step; there the arrow keys, Home and End move and fold as in the WAI-ARIA tree view.
 */
export function SessionTree({ root, selectedId, onSelect }: SessionTreeProps) {
  const [collapsed, setCollapsed] = useState<ReadonlySet<string>>(new Set());
  const [focusId, setFocusId] = useState<string | null>(null);
  const labels = useRef(new Map<string, HTMLButtonElement>());
  const rows = visibleRows(root, collapsed);
  // The one row Tab reaches: the last one focused while it shows, else the selected one, else the root.
  const shown = (id: string | null) => id !== null && rows.some((row) => row.node.id === id);
  const tabStop = shown(focusId) ? focusId : shown(selectedId) ? selectedId : root.id;

  const onKeyDown = (event: KeyboardEvent, id: string) => {
    const action = treeKeyAction(rows, id, event.key);
    if (!action) return;
    event.preventDefault();
    if ('toggle' in action) {
      setCollapsed((set) => toggled(set, action.toggle));
      return;
    }
    setFocusId(action.focus);
    labels.current.get(action.focus)?.focus();
  };

  return (
    <ul class="tree" data-testid="session-tree">
      {rows.map(({ node, depth, hasChildren, expanded }) => {
        const archived = node.status === 'archived';
        const selected = node.id === selectedId;
        return (
          <li
            key={node.id}
            class={`tree-row${archived ? ' archived' : ''}${selected ? ' selected' : ''}`}
            style={`--depth: ${depth}`}
            data-session-id={node.id}
          >
            {hasChildren ? (
              <button
                type="button"
                class="fold"
                tabIndex={-1}
                aria-expanded={expanded}
                aria-label={`${expanded ? 'Collapse' : 'Expand'} ${node.label}`}
                onClick={() => setCollapsed((set) => toggled(set, node.id))}
              >
                <span aria-hidden="true">{expanded ? '▾' : '▸'}</span>
              </button>
            ) : (
              <span class="fold-spacer" aria-hidden="true" />
            )}
            <button
              type="button"
              class="tree-label"
              tabIndex={node.id === tabStop ? 0 : -1}
              aria-current={selected ? 'true' : undefined}
              aria-expanded={hasChildren ? expanded : undefined}
              ref={(element) => {
                if (element) labels.current.set(node.id, element);
                else labels.current.delete(node.id);
              }}
              onFocus={() => setFocusId(node.id)}
              onKeyDown={(event) => onKeyDown(event, node.id)}
              onClick={() => onSelect(node.id)}
            >
              <span class="tree-name">{node.label}</span>
              <span class="badge" title="Completed turns">
                {turnsText(node.turnCount)}
              </span>
              {archived && <span class="badge muted">archived</span>}
            </button>
          </li>
        );
      })}
    </ul>
  );
}
