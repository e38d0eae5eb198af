import type { RecordView, SessionTreeNode, StelloClient } from '@stello-ai/client';
import { useEffect, useRef, useState } from 'preact/hooks';
import { describeError } from '../api/console-client';
import { applyFrame, type ReplyDraft, startDraft } from '../state/reply-draft';
import { MessageItem } from './MessageItem';
import { ReplyDraftView } from './ReplyDraftView';

/** Properties of {@link ChatPanel}. */
export interface ChatPanelProps {
  client: StelloClient;
  spaceId: string;
  session: SessionTreeNode;
  revision: number;
  onForked: (childId: string) => void;
}

/**
 * The session's history and a composer. A sent message streams its reply (SSE) into a live
 * region; tool calls show inline as they run. Any message can be forked from.
 */
export function ChatPanel({ client, spaceId, session, revision, onForked }: ChatPanelProps) {
  const [records, setRecords] = useState<RecordView[] | null>(null);
  const [draft, setDraft] = useState<ReplyDraft | null>(null);
  const [input, setInput] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [forkFrom, setForkFrom] = useState<string | null>(null);
  const streaming = draft !== null && !draft.done;
  const ref = { spaceId, sessionId: session.id };
  const cancelRef = useRef<(() => Promise<void>) | null>(null);

  const loadRecords = async (signal?: AbortSignal) => {
    try {
      const page = await client.sessions.messages({ ...ref, ...(signal && { signal }) });
      setRecords(page.items);
    } catch (failure) {
      if (!signal?.aborted) setError(describeError(failure));
    }
  };

  useEffect(() => {
    if (streaming) return;
    const abort = new AbortController();
    void loadRecords(abort.signal);
    return () => abort.abort();
  }, [session.id, revision]);

  const send = async () => {
    const text = input.trim();
    if (!text || streaming) return;
    setInput('');
    setError(null);
    let current = startDraft(text);
    setDraft(current);
    const stream = client.sessions.stream({ ...ref, input: text });
    cancelRef.current = () => stream.cancel();
    try {
      for await (const frame of stream) {
        current = applyFrame(current, frame);
        setDraft(current);
      }
      await stream.result;
      await loadRecords();
      setDraft(null);
    } catch (failure) {
      // A turn the person stopped is not an error: the draft says it was cancelled.
      if (!current.cancelled) setError(describeError(failure));
      setDraft({ ...current, done: true });
    } finally {
      cancelRef.current = null;
    }
  };

  const onKeyDown = (event: KeyboardEvent) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      void send();
    }
  };

  const archived = session.status === 'archived';
  const visible = (records ?? []).filter((record) => record.role !== 'system');

  return (
    <div class="chat">
      <ol class="messages" aria-label="Messages" data-testid="messages">
        {records === null && <li class="meta">Loading…</li>}
        {records !== null && visible.length === 0 && !draft && <li class="meta">No message yet.</li>}
        {visible.map((record) => (
          <MessageItem
            key={record.id}
            record={record}
            canFork={!archived && !streaming}
            forking={forkFrom === record.id}
            onForkToggle={() => setForkFrom((id) => (id === record.id ? null : record.id))}
            forkProps={{
              client,
              spaceId,
              sessionId: session.id,
              onForked,
              onCancel: () => setForkFrom(null),
            }}
          />
        ))}
      </ol>
      <ReplyDraftView draft={draft} />
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <form
        class="composer"
        onSubmit={(event) => {
          event.preventDefault();
          void send();
        }}
      >
        <label for="chat-input" class="sr-only">
          Message to {session.label}
        </label>
        <textarea
          id="chat-input"
          rows={2}
          value={input}
          disabled={archived}
          placeholder={
            archived ? 'This session is archived.' : 'Message (Enter sends, Shift+Enter for a new line)'
          }
          onInput={(event) => setInput(event.currentTarget.value)}
          onKeyDown={onKeyDown}
        />
        <div class="actions">
          <button type="submit" disabled={archived || streaming || !input.trim()}>
            Send
          </button>
          {streaming && (
            <button type="button" class="secondary" onClick={() => void cancelRef.current?.()}>
              Stop
            </button>
          )}
        </div>
      </form>
    </div>
  );
}
