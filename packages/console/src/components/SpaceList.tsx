import type { Space, StelloClient } from '@stello-ai/client';
import { useEffect, useState } from 'preact/hooks';
import { describeError } from '../api/console-client';

// The list shows this many spaces at most; more are reached through the API.
const MAX_LISTED_SPACES = 500;

/** The caller's spaces, and a form that creates one. */
export function SpaceList({ client, onOpen }: { client: StelloClient; onOpen: (space: Space) => void }) {
  const [spaces, setSpaces] = useState<Space[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [label, setLabel] = useState('');
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    const abort = new AbortController();
    (async () => {
      const found: Space[] = [];
      for await (const space of client.spaces.listAll({ signal: abort.signal })) {
        found.push(space);
        if (found.length >= MAX_LISTED_SPACES) break;
      }
      setSpaces(found);
    })().catch((failure) => {
      if (!abort.signal.aborted) setError(describeError(failure));
    });
    return () => abort.abort();
  }, [client]);

  const create = async (event: Event) => {
    event.preventDefault();
    if (!label.trim()) return setError('Give the space a label.');
    setBusy(true);
    setError(null);
    try {
      const space = await client.spaces.create({ label: label.trim() });
      setLabel('');
      onOpen(space);
    } catch (failure) {
      setError(describeError(failure));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div class="stack">
      <section class="card" aria-labelledby="new-space-title">
        <h2 id="new-space-title">New space</h2>
        <form class="inline-form" onSubmit={create}>
          <label for="space-label">Label</label>
          <input
            id="space-label"
            value={label}
            maxLength={200}
            onInput={(event) => setLabel(event.currentTarget.value)}
          />
          <button type="submit" disabled={busy}>
            Create space
          </button>
        </form>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
      </section>
      <section class="card" aria-labelledby="spaces-title" aria-busy={spaces === null}>
        <h2 id="spaces-title">Your spaces</h2>
        {spaces === null ? (
          <p>Loading…</p>
        ) : spaces.length === 0 ? (
          <p>No space yet: create one above.</p>
        ) : (
          <ul class="space-list">
            {spaces.map((space) => (
              <li key={space.id}>
                <button type="button" class="row-button" onClick={() => onOpen(space)}>
                  <span class="row-title">{space.label}</span>
                  <span class="meta">created {new Date(space.createdAt).toLocaleString()}</span>
                </button>
              </li>
            ))}
          </ul>
        )}
      </section>
    </div>
  );
}
