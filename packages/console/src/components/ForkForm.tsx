import type { StelloClient } from '@stello-ai/client';
import { useState } from 'preact/hooks';
import { describeError } from '../api/console-client';

/** Properties of {@link ForkForm}. */
export interface ForkFormProps {
  client: StelloClient;
  spaceId: string;
  sessionId: string;
  /** Fork from this record: the child inherits the history up to it. Absent: a fresh child. */
  fromRecordId?: string;
  onForked: (childId: string) => void;
  onCancel: () => void;
}

/** Asks for the new session's label (and, for a whole-session fork, whether to copy its history). */
export function ForkForm({ client, spaceId, sessionId, fromRecordId, onForked, onCancel }: ForkFormProps) {
  const [label, setLabel] = useState('');
  const [inherit, setInherit] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const idBase = `fork-${fromRecordId ?? 'session'}`;

  const submit = async (event: Event) => {
    event.preventDefault();
    if (!label.trim()) return setError('Give the new session a label.');
    setBusy(true);
    try {
      const child = await client.sessions.fork(
        { spaceId, sessionId },
        {
          label: label.trim(),
          ...(fromRecordId !== undefined ? { fromRecordId } : { context: inherit ? 'inherit' : 'none' }),
        },
      );
      onForked(child.id);
    } catch (failure) {
      setError(describeError(failure));
      setBusy(false);
    }
  };

  return (
    <form
      class="fork-form"
      onSubmit={submit}
      aria-label={fromRecordId ? 'Fork from this message' : 'Fork this session'}
    >
      <label for={`${idBase}-label`}>New session label</label>
      <input
        id={`${idBase}-label`}
        value={label}
        maxLength={200}
        // biome-ignore lint/a11y/noAutofocus: the form opens on a click that asks for exactly this field
        autoFocus
        onInput={(event) => setLabel(event.currentTarget.value)}
      />
      {fromRecordId === undefined && (
        <label class="check">
          <input
            type="checkbox"
            checked={inherit}
            onChange={(event) => setInherit(event.currentTarget.checked)}
          />
          Copy this session's history
        </label>
      )}
      <div class="actions">
        <button type="submit" disabled={busy}>
          Fork
        </button>
        <button type="button" class="secondary" onClick={onCancel}>
          Cancel
        </button>
      </div>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}
