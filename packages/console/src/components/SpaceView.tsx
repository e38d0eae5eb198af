import type { SessionTreeNode, Space, SpaceEvent, StelloClient } from '@stello-ai/client';
import { findSession } from '@stello-ai/client';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { describeError } from '../api/console-client';
import { describeEvent } from '../state/describe-event';
import { useSpaceEvents } from '../state/use-space-events';
import { SessionPanel } from './SessionPanel';
import { SessionTree } from './SessionTree';

// Several events in a burst (a turn's start and end, a fork) cost one re-read of the tree.
const TREE_REFRESH_DELAY_MS = 150;

/** Properties of {@link SpaceView}. */
export interface SpaceViewProps {
  client: StelloClient;
  apiKey: string;
  space: Space;
  onSpaceChange: (space: Space | null) => void;
}

/** One open space: its session tree beside the selected session, kept current by the space's events. */
export function SpaceView({ client, apiKey, space, onSpaceChange }: SpaceViewProps) {
  const [tree, setTree] = useState<SessionTreeNode | null>(null);
  const [selectedId, setSelectedId] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [announcement, setAnnouncement] = useState('');
  // Bumped when another client changed the selected session: its panels read it again.
  const [sessionRevision, setSessionRevision] = useState(0);
  const refreshTimer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);

  const loadTree = useCallback(async () => {
    try {
      const next = await client.sessions.tree({ spaceId: space.id });
      setTree(next);
      setSelectedId((current) => (current && findSession(next, current) ? current : next.id));
      setError(null);
    } catch (failure) {
      setError(describeError(failure));
    }
  }, [client, space.id]);

  useEffect(() => {
    void loadTree();
    return () => clearTimeout(refreshTimer.current);
  }, [loadTree]);

  const scheduleTreeRefresh = () => {
    clearTimeout(refreshTimer.current);
    refreshTimer.current = setTimeout(() => void loadTree(), TREE_REFRESH_DELAY_MS);
  };

  const onEvent = (event: SpaceEvent) => {
    if (event.kind === 'space.deleted') {
      onSpaceChange(null);
      return;
    }
    if (event.kind === 'space.updated') {
      void client.spaces.get({ spaceId: space.id }).then(onSpaceChange, () => {});
    }
    setAnnouncement(describeEvent(event, tree));
    scheduleTreeRefresh();
    if (event.sessionId !== undefined && event.sessionId === selectedId) setSessionRevision((n) => n + 1);
  };
  const onResync = () => {
    scheduleTreeRefresh();
    setSessionRevision((n) => n + 1);
  };
  const live = useSpaceEvents(apiKey, space.id, onEvent, onResync);

  const selected = tree && selectedId ? findSession(tree, selectedId) : null;

  return (
    <div class="space-layout">
      <nav class="tree-pane card" aria-label="Session tree">
        <div class="pane-head">
          <h2>Sessions</h2>
          <span class={`live live-${live}`} role="status" data-testid="live-status">
            {live === 'live' ? 'Live' : live === 'connecting' ? 'Connecting…' : 'Reconnecting…'}
          </span>
        </div>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        {tree ? (
          <SessionTree root={tree} selectedId={selectedId} onSelect={setSelectedId} />
        ) : (
          <p>Loading…</p>
        )}
        <p class="sr-only" aria-live="polite">
          {announcement}
        </p>
        {announcement && (
          <p class="meta last-event" aria-hidden="true">
            {announcement}
          </p>
        )}
      </nav>
      {selected && tree ? (
        <SessionPanel
          key={selected.id}
          client={client}
          space={space}
          session={selected}
          isRoot={selected.id === tree.id}
          revision={sessionRevision}
          onTreeChanged={loadTree}
          onSelect={setSelectedId}
          onSpaceChange={onSpaceChange}
        />
      ) : (
        <section class="card session-pane" aria-label="Session">
          <p>Select a session.</p>
        </section>
      )}
    </div>
  );
}
