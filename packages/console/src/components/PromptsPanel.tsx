import type { StelloClient, WritableSessionSlot } from '@stello-ai/client';
import { useEffect, useState } from 'preact/hooks';
import { describeError } from '../api/console-client';

const PROMPTS: ReadonlyArray<{ slot: WritableSessionSlot; title: string; hint: string }> = [
  { slot: 'system-prompt', title: 'System prompt', hint: 'What the model is told before every turn.' },
  {
    slot: 'consolidate-prompt',
    title: 'Consolidate prompt',
    hint: "How this session's history is distilled into its memory.",
  },
  {
    slot: 'integrate-prompt',
    title: 'Integrate prompt',
    hint: "How the root reads its children's memories into a synthesis and insights.",
  },
];

/** Properties of {@link PromptsPanel}. */
export interface PromptsPanelProps {
  client: StelloClient;
  spaceId: string;
  sessionId: string;
  archived: boolean;
  revision: number;
}

/** The session's three prompts, each edited and saved on its own. */
export function PromptsPanel({ client, spaceId, sessionId, archived, revision }: PromptsPanelProps) {
  return (
    <div class="stack">
      {PROMPTS.map((prompt) => (
        <PromptEditor
          key={prompt.slot}
          {...prompt}
          revision={revision}
          client={client}
          spaceId={spaceId}
          sessionId={sessionId}
          archived={archived}
        />
      ))}
    </div>
  );
}

interface PromptEditorProps {
  client: StelloClient;
  spaceId: string;
  sessionId: string;
  archived: boolean;
  revision: number;
  slot: WritableSessionSlot;
  title: string;
  hint: string;
}

function PromptEditor(props: PromptEditorProps) {
  const { client, spaceId, sessionId, archived, revision, slot, title, hint } = props;
  const [text, setText] = useState<string | null>(null);
  // Typed and not saved yet: a change made elsewhere does not overwrite it.
  const [dirty, setDirty] = useState(false);
  const [status, setStatus] = useState('');
  const id = `prompt-${slot}`;

  useEffect(() => {
    if (dirty) return;
    const abort = new AbortController();
    client.sessions.getSlot({ spaceId, sessionId, slot, signal: abort.signal }).then(
      (content) => setText(content ?? ''),
      (failure) => !abort.signal.aborted && setStatus(describeError(failure)),
    );
    return () => abort.abort();
  }, [client, spaceId, sessionId, slot, revision]);

  const save = async (event: Event) => {
    event.preventDefault();
    setStatus('Saving…');
    try {
      await client.sessions.putSlot({ spaceId, sessionId, slot, content: text ?? '' });
      setDirty(false);
      setStatus('Saved.');
    } catch (failure) {
      setStatus(describeError(failure));
    }
  };

  return (
    <form class="slot" onSubmit={save}>
      <label for={id}>{title}</label>
      <p class="hint" id={`${id}-hint`}>
        {hint}
      </p>
      <textarea
        id={id}
        rows={4}
        aria-describedby={`${id}-hint`}
        value={text ?? ''}
        disabled={text === null || archived}
        onInput={(event) => {
          setText(event.currentTarget.value);
          setDirty(true);
        }}
      />
      <div class="actions">
        <button type="submit" disabled={text === null || archived}>
          Save {title.toLowerCase()}
        </button>
        <span class="meta" role="status">
          {status}
        </span>
      </div>
    </form>
  );
}
