import type { SessionTreeNode } from '@stello-ai/client';
import { useState } from 'preact/hooks';
import { turnsText } from '../state/turns-text';
import { toggled, visibleRows } from '../state/visible-tree';

/** Properties of {@link SessionTree}. */
export interface SessionTreeProps {
  root: SessionTreeNode;
  selectedId: string | null;
  onSelect: (sessionId: string) => void;
}

/**
 * The session tree, drawn with indentation and guide lines. Each row is a button (Tab and Enter
 * reach every session); a session with children has a fold button before it. Archived sessions
 * are greyed and say so to screen readers.
 */
export function SessionTree({ root, selectedId, onSelect }: SessionTreeProps) {
  const [collapsed, setCollapsed] = useState<ReadonlySet<string>>(new Set());
  const rows = visibleRows(root, collapsed);
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
              aria-current={selected ? 'true' : undefined}
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
