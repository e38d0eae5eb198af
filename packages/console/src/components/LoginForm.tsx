import { useState } from 'preact/hooks';
import { createConsoleClient, verifyApiKey } from '../api/console-client';

/** Asks for an API key and checks it with the server before keeping it. */
export function LoginForm({ onLogIn }: { onLogIn: (apiKey: string) => void }) {
  const [key, setKey] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: Event) => {
    event.preventDefault();
    const trimmed = key.trim();
    if (!trimmed) return setError('Type an API key.');
    setBusy(true);
    setError(null);
    try {
      await verifyApiKey(createConsoleClient(trimmed));
      onLogIn(trimmed);
    } catch (failure) {
      setError((failure as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="card narrow" aria-labelledby="login-title">
      <h2 id="login-title">Log in</h2>
      <p class="hint">
        Type an API key of this server (<code>pnpm stello users create</code> prints one). It is kept in this
        tab only, until you close it.
      </p>
      <form onSubmit={submit}>
        <label for="api-key">API key</label>
        <input
          id="api-key"
          name="api-key"
          type="password"
          autoComplete="off"
          value={key}
          onInput={(event) => setKey(event.currentTarget.value)}
          aria-describedby={error ? 'login-error' : undefined}
          aria-invalid={error ? true : undefined}
        />
        <button type="submit" disabled={busy}>
          {busy ? 'Checking…' : 'Log in'}
        </button>
        {error && (
          <p id="login-error" class="error" role="alert">
            {error}
          </p>
        )}
      </form>
    </section>
  );
}
