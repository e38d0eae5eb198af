import { randomUUID } from 'node:crypto';
import { type Logger, withLogContext } from '@stello-ai/runtime';
import type { MiddlewareHandler } from 'hono';
import { matchedRoutes } from 'hono/route';
import type { AuthEnv } from '../types';

// A client-chosen request id is echoed and logged, so it must be short and harmless.
const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

/** The registered pattern of the route that answered (not the raw path, which holds ids). */
function routePattern(c: Parameters<MiddlewareHandler>[0]): string | null {
  const routes = matchedRoutes(c).filter((route) => route.method !== 'ALL');
  return routes.at(-1)?.path ?? null;
}

/**
 * Assigns the request id (`X-Request-Id` when sane, else a UUID), echoes it in the response
 * header and logs one `http.request` line per request: method, route pattern, status,
 * duration, request id and user id (never the key). Every line logged while the request runs
 * carries the request id too (`withLogContext`).
 */
export function requestContext(logger: Logger): MiddlewareHandler<AuthEnv> {
  return async (c, next) => {
    const startedAt = performance.now();
    const incoming = c.req.header('x-request-id');
    const requestId = incoming && REQUEST_ID_PATTERN.test(incoming) ? incoming : randomUUID();
    c.set('requestId', requestId);
    // Every line logged while the request runs (and by work it starts) carries its id.
    await withLogContext({ requestId }, next);
    c.res.headers.set('X-Request-Id', requestId);
    logger.info('http.request', {
      method: c.req.method,
      route: routePattern(c),
      status: c.res.status,
      durationMs: Math.round(performance.now() - startedAt),
      requestId,
      userId: c.get('userId') ?? null,
    });
  };
}
