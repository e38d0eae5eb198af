import type { StelloClient } from '@stello-ai/client';
import { useEffect, useState } from 'preact/hooks';
import { describeError } from '../api/console-client';

/** Properties of {@link MemoryPanel}. */
export interface MemoryPanelProps {
  client: StelloClient;
  spaceId: string;
  sessionId: string;
  isRoot: boolean;
  revision: number;
}

interface MemoryView {
  memory: string | null;
  insight: string | null;
}

/**
 * What the memory work wrote for the session: a child's memory (its distilled history) and the
 * insight the root sent it; the root's synthesis of all its children. Consolidation and
 * integration can be run now.
 */
export function MemoryPanel({ client, spaceId, sessionId, isRoot, revision }: MemoryPanelProps) {
  const [view, setView] = useState<MemoryView | null>(null);
  const [status, setStatus] = useState('');
  const ref = { spaceId, sessionId };

  useEffect(() => {
    const abort = new AbortController();
    const read = (slot: 'memory' | 'insight') =>
      client.sessions.getSlot({ ...ref, slot, signal: abort.signal });
    Promise.all([read('memory'), isRoot ? Promise.resolve(null) : read('insight')]).then(
      ([memory, insight]) => setView({ memory, insight }),
      (failure) => !abort.signal.aborted && setStatus(describeError(failure)),
    );
    return () => abort.abort();
  }, [client, spaceId, sessionId, isRoot, revision]);

  // What a run answers is shown as it is: a read right after could still see the old text.
  const run = async (what: 'consolidate' | 'integrate') => {
    setStatus(what === 'consolidate' ? 'Consolidating…' : 'Integrating…');
    try {
      if (what === 'consolidate') {
        const { memory } = await client.sessions.consolidate(ref);
        setView((current) => ({ insight: current?.insight ?? null, memory }));
      } else {
        const { synthesis, insights } = await client.spaces.integrate({ spaceId });
        const insight = insights.find((sent) => sent.sessionId === sessionId)?.content;
        setView((current) =>
          isRoot
            ? { memory: synthesis, insight: null }
            : { memory: current?.memory ?? null, insight: insight ?? current?.insight ?? null },
        );
      }
      setStatus('Done.');
    } catch (failure) {
      setStatus(describeError(failure));
    }
  };

  return (
    <div class="stack">
      <section class="slot" aria-labelledby="memory-title">
        <h3 id="memory-title">{isRoot ? 'Synthesis' : 'Memory'}</h3>
        <p class="hint">
          {isRoot
            ? "The root's view of all its children, written by integration."
            : "This session's history, distilled by consolidation."}
        </p>
        <pre class="slot-text" data-testid={isRoot ? 'synthesis' : 'memory'}>
          {view === null ? 'Loading…' : (view.memory ?? 'Nothing yet.')}
        </pre>
      </section>
      {!isRoot && (
        <section class="slot" aria-labelledby="insight-title">
          <h3 id="insight-title">Insight</h3>
          <p class="hint">What the root's integration sent this session, read once by its next turn.</p>
          <pre class="slot-text" data-testid="insight">
            {view === null ? 'Loading…' : (view.insight ?? 'None pending.')}
          </pre>
        </section>
      )}
      <div class="actions">
        {!isRoot && (
          <button type="button" class="secondary" onClick={() => void run('consolidate')}>
            Consolidate now
          </button>
        )}
        <button type="button" class="secondary" onClick={() => void run('integrate')}>
          Integrate the space now
        </button>
        <span class="meta" role="status">
          {status}
        </span>
      </div>
    </div>
  );
}
