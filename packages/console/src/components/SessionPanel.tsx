import type { SessionTreeNode, Space, StelloClient } from '@stello-ai/client';
import { useState } from 'preact/hooks';
import { describeError } from '../api/console-client';
import { turnsText } from '../state/turns-text';
import { ChatPanel } from './ChatPanel';
import { ForkForm } from './ForkForm';
import { MemoryPanel } from './MemoryPanel';
import { PromptsPanel } from './PromptsPanel';
import { SpacePromptsForm } from './SpacePromptsForm';

/** Properties of {@link SessionPanel}. */
export interface SessionPanelProps {
  client: StelloClient;
  space: Space;
  session: SessionTreeNode;
  isRoot: boolean;
  /** Bumped when the session changed elsewhere: the open tab reads it again. */
  revision: number;
  onTreeChanged: () => Promise<void>;
  onSelect: (sessionId: string) => void;
  /** The space changed here (its default prompts saved). */
  onSpaceChange: (space: Space) => void;
}

const TABS = [
  { id: 'chat', title: 'Chat' },
  { id: 'prompts', title: 'Prompts' },
  { id: 'memory', title: 'Memory' },
] as const;
type TabId = (typeof TABS)[number]['id'];

/** The selected session: its header (fork, archive), and the chat, prompts and memory tabs. */
export function SessionPanel(props: SessionPanelProps) {
  const { client, space, session, isRoot, revision, onTreeChanged, onSelect, onSpaceChange } = props;
  const [tab, setTab] = useState<TabId>('chat');
  const [forking, setForking] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const archived = session.status === 'archived';
  const ref = { spaceId: space.id, sessionId: session.id };

  const archive = async () => {
    if (!window.confirm(`Archive "${session.label}"? It will take no more turns or forks.`)) return;
    try {
      await client.sessions.archive(ref);
      setError(null);
      await onTreeChanged();
    } catch (failure) {
      setError(describeError(failure));
    }
  };

  const forked = async (childId: string) => {
    setForking(false);
    await onTreeChanged();
    onSelect(childId);
  };

  return (
    <section class="card session-pane" aria-labelledby="session-title">
      <div class="session-head">
        <div class="session-title-block">
          <h2 id="session-title">{session.label}</h2>
          <p class="meta">
            {isRoot ? 'root session' : `depth ${session.depth}`} · {turnsText(session.turnCount)}
            {archived && ' · archived'}
          </p>
        </div>
        <div class="actions">
          <button type="button" class="secondary" disabled={archived} onClick={() => setForking((on) => !on)}>
            Fork session
          </button>
          {!isRoot && (
            <button type="button" class="secondary" disabled={archived} onClick={archive}>
              Archive
            </button>
          )}
        </div>
      </div>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {forking && (
        <ForkForm
          client={client}
          spaceId={space.id}
          sessionId={session.id}
          onForked={forked}
          onCancel={() => setForking(false)}
        />
      )}
      <div class="tabs" role="tablist" aria-label="Session views">
        {TABS.map(({ id, title }) => (
          <button
            key={id}
            type="button"
            role="tab"
            id={`tab-${id}`}
            aria-selected={tab === id}
            aria-controls={`panel-${id}`}
            class={tab === id ? 'tab active' : 'tab'}
            onClick={() => setTab(id)}
          >
            {title}
          </button>
        ))}
      </div>
      <div role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`} class="tab-panel">
        {tab === 'chat' && (
          <ChatPanel
            client={client}
            spaceId={space.id}
            session={session}
            revision={revision}
            onForked={forked}
          />
        )}
        {tab === 'prompts' && (
          <div class="stack">
            <PromptsPanel
              client={client}
              spaceId={space.id}
              sessionId={session.id}
              archived={archived}
              revision={revision}
            />
            <SpacePromptsForm client={client} space={space} onSaved={onSpaceChange} />
          </div>
        )}
        {tab === 'memory' && (
          <MemoryPanel
            client={client}
            spaceId={space.id}
            sessionId={session.id}
            isRoot={isRoot}
            revision={revision}
          />
        )}
      </div>
    </section>
  );
}
