import { createStelloClient, isStelloError, type StelloClient } from '@stello-ai/client';

/**
 * A client of the server that serves this page (same origin), with the typed key. `onResponse`
 * sees each response as its headers arrive: the space events stream is open (subscribed on the
 * server) at that moment, before any event, which is when the page can say "live".
 */
export function createConsoleClient(apiKey: string, onResponse?: (response: Response) => void): StelloClient {
  const observed: typeof fetch | undefined = onResponse
    ? async (input, init) => {
        const response = await fetch(input, init);
        onResponse(response);
        return response;
      }
    : undefined;
  return createStelloClient({
    baseUrl: window.location.origin,
    apiKey,
    ...(observed && { fetch: observed }),
  });
}

/**
 * Checks a key by listing one space: resolves when the server accepts it, rejects with a message
 * fit for the login form otherwise.
 */
export async function verifyApiKey(client: StelloClient): Promise<void> {
  try {
    await client.spaces.list({ limit: 1 });
  } catch (error) {
    if (isStelloError(error, 'INVALID_API_KEY') || isStelloError(error, 'MISSING_API_KEY')) {
      throw new Error('This API key was not accepted.');
    }
    throw new Error(describeError(error));
  }
}

/** One line for a failed call: the server's message and code when it sent them. */
export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' ? `${error.message} (${code})` : error.message;
  }
  return String(error);
}
