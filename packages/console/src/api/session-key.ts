// The API key lives in sessionStorage: it survives a reload of the tab, and is gone when the tab
// closes. It is never written to localStorage, a cookie or the URL.

const KEY_NAME = 'stello.console.apiKey';

/** The key typed in this tab, or `null`. */
export function readApiKey(): string | null {
  try {
    return sessionStorage.getItem(KEY_NAME);
  } catch {
    return null;
  }
}

/** Keeps the key for this tab. */
export function storeApiKey(apiKey: string): void {
  sessionStorage.setItem(KEY_NAME, apiKey);
}

/** Forgets the key (log out). */
export function clearApiKey(): void {
  sessionStorage.removeItem(KEY_NAME);
}
