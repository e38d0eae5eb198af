import type { Space, StelloClient } from '@stello-ai/client';
import { useMemo, useState } from 'preact/hooks';
import { createConsoleClient } from '../api/console-client';
import { clearApiKey, readApiKey, storeApiKey } from '../api/session-key';
import { LoginForm } from './LoginForm';
import { SpaceList } from './SpaceList';
import { SpaceView } from './SpaceView';

/** The console: the login form until a key is accepted, then the spaces and one open space. */
export function App() {
  const [apiKey, setApiKey] = useState<string | null>(readApiKey);
  const [space, setSpace] = useState<Space | null>(null);
  const client = useMemo<StelloClient | null>(() => (apiKey ? createConsoleClient(apiKey) : null), [apiKey]);

  const logIn = (key: string) => {
    storeApiKey(key);
    setApiKey(key);
  };
  const logOut = () => {
    clearApiKey();
    setSpace(null);
    setApiKey(null);
  };

  return (
    <>
      <header class="top-bar">
        <h1 class="brand">
          Stello<span class="brand-sub"> console</span>
        </h1>
        {space && (
          <nav class="crumbs" aria-label="Breadcrumb">
            <button type="button" class="link" onClick={() => setSpace(null)}>
              All spaces
            </button>
            <span aria-hidden="true"> / </span>
            <span aria-current="page">{space.label}</span>
          </nav>
        )}
        {client && (
          <button type="button" class="secondary" onClick={logOut}>
            Log out
          </button>
        )}
      </header>
      <main id="main" class="main">
        {!client || !apiKey ? (
          <LoginForm onLogIn={logIn} />
        ) : space ? (
          <SpaceView client={client} apiKey={apiKey} space={space} onSpaceChange={setSpace} />
        ) : (
          <SpaceList client={client} onOpen={setSpace} />
        )}
      </main>
    </>
  );
}
