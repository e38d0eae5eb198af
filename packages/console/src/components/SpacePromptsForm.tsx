import type { Space, StelloClient } from '@stello-ai/client';
import { useState } from 'preact/hooks';
import { describeError } from '../api/console-client';

const FIELDS = [
  { key: 'systemPrompt', title: 'Default system prompt' },
  { key: 'consolidatePrompt', title: 'Default consolidate prompt' },
  { key: 'integratePrompt', title: 'Default integrate prompt' },
] as const;
type PromptKey = (typeof FIELDS)[number]['key'];

/** Properties of {@link SpacePromptsForm}. */
export interface SpacePromptsFormProps {
  client: StelloClient;
  space: Space;
  onSaved: (space: Space) => void;
}

/**
 * The space's default prompts (`PATCH /spaces/:spaceId`): what a session uses when its own slot is
 * empty. An emptied field clears the default.
 */
export function SpacePromptsForm({ client, space, onSaved }: SpacePromptsFormProps) {
  const [values, setValues] = useState<Record<PromptKey, string>>({
    systemPrompt: space.systemPrompt ?? '',
    consolidatePrompt: space.consolidatePrompt ?? '',
    integratePrompt: space.integratePrompt ?? '',
  });
  const [status, setStatus] = useState('');

  const save = async (event: Event) => {
    event.preventDefault();
    setStatus('Saving…');
    try {
      const patch = Object.fromEntries(
        FIELDS.map(({ key }) => [key, values[key].trim() ? values[key] : null]),
      );
      onSaved(await client.spaces.update({ spaceId: space.id }, patch));
      setStatus('Saved.');
    } catch (failure) {
      setStatus(describeError(failure));
    }
  };

  return (
    <form class="slot" onSubmit={save} aria-labelledby="space-prompts-title">
      <h3 id="space-prompts-title">Space defaults</h3>
      <p class="hint">Used by every session of this space whose own prompt above is empty.</p>
      {FIELDS.map(({ key, title }) => (
        <div key={key}>
          <label for={`space-${key}`}>{title}</label>
          <textarea
            id={`space-${key}`}
            rows={3}
            value={values[key]}
            onInput={(event) => {
              const value = event.currentTarget.value;
              setValues((current) => ({ ...current, [key]: value }));
            }}
          />
        </div>
      ))}
      <div class="actions">
        <button type="submit">Save space defaults</button>
        <span class="meta" role="status">
          {status}
        </span>
      </div>
    </form>
  );
}
