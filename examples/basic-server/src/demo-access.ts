import { readFile, writeFile } from 'node:fs/promises';
import { seedApiKey, type UserStore } from '@stello-ai/server';

/** How clients of this run get an API key, as the banner explains it. */
export type DemoAccess =
  /** `STELLO_API_KEY` authenticates (a user was created for it when none had it). */
  | { kind: 'env'; userId: string; created: boolean }
  /** First start: a demo user was created; its key is shown once (and kept in `keyFile` when not null). */
  | { kind: 'new-demo'; userId: string; apiKey: string; keyFile: string | null }
  /** A demo key kept by an earlier start still works. */
  | { kind: 'stored-demo'; keyFile: string }
  /** Users exist and no key can be shown: the banner says how to create one. */
  | { kind: 'none'; staleKeyFile: string | null };

/** Options of {@link prepareDemoAccess}. */
export interface DemoAccessOptions {
  userStore: UserStore;
  /** `STELLO_API_KEY`, when set. */
  apiKey: string | undefined;
  /** Where the demo key is kept (0600), or `null` to keep it nowhere (a shared database). */
  keyFile: string | null;
}

async function readKeyFile(file: string): Promise<string | null> {
  try {
    const key = (await readFile(file, 'utf8')).trim();
    return key === '' ? null : key;
  } catch {
    return null;
  }
}

/**
 * Works out how the banner lets the user in. With `STELLO_API_KEY`, makes sure it authenticates.
 * Otherwise, on a database without users, creates a `demo` user; its key is printed once and, for
 * the embedded development database only, kept in `keyFile` with mode 0600 so later starts can
 * show a working curl line. Nothing else keeps a key in clear: the database stores hashes.
 */
export async function prepareDemoAccess(options: DemoAccessOptions): Promise<DemoAccess> {
  const { userStore, apiKey, keyFile } = options;
  if (apiKey !== undefined) {
    const seeded = await seedApiKey(userStore, apiKey, { name: 'default' });
    return { kind: 'env', ...seeded };
  }
  const stored = keyFile === null ? null : await readKeyFile(keyFile);
  if (stored !== null && keyFile !== null) {
    if ((await userStore.authenticate(stored)) !== null) return { kind: 'stored-demo', keyFile };
    return { kind: 'none', staleKeyFile: keyFile };
  }
  if ((await userStore.listUsers()).length > 0) return { kind: 'none', staleKeyFile: null };

  const { user, apiKey: demoKey } = await userStore.createUser('demo');
  if (keyFile !== null) await writeFile(keyFile, `${demoKey}\n`, { mode: 0o600 });
  return { kind: 'new-demo', userId: user.id, apiKey: demoKey, keyFile };
}
