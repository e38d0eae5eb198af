import type { MiddlewareHandler } from 'hono';
import { TransportError } from '../errors';
import type { AuthEnv, TransportAuthenticator } from '../types';

// Real keys are far shorter; a longer header is refused before it is hashed.
const API_KEY_MAX_CHARS = 512;

/**
 * Authenticates the API key and returns the user id, or throws `MISSING_API_KEY` /
 * `INVALID_API_KEY` (401). Shared by the REST middleware and the WebSocket upgrade.
 */
export async function authenticateKey(
  userStore: TransportAuthenticator,
  apiKey: string | undefined | null,
): Promise<string> {
  if (!apiKey) throw new TransportError('MISSING_API_KEY', 'missing api key');
  if (apiKey.length > API_KEY_MAX_CHARS) throw new TransportError('INVALID_API_KEY', 'invalid api key');
  const result = await userStore.authenticate(apiKey);
  if (!result) throw new TransportError('INVALID_API_KEY', 'invalid api key');
  return result.userId;
}

/**
 * Requires a valid `X-API-Key` header and sets `userId`. The user store caches keys, so a warm
 * request costs no query.
 */
export function apiKeyAuth(userStore: TransportAuthenticator): MiddlewareHandler<AuthEnv> {
  return async (c, next) => {
    c.set('userId', await authenticateKey(userStore, c.req.header('x-api-key')));
    await next();
  };
}
