import type { IncomingMessage } from 'node:http';
import { silentLogger } from '@stello-ai/runtime';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { cors } from 'hono/cors';
import { errorBody, toPublicError } from './error-mapping';
import { TransportError } from './errors';
import { TurnHub } from './live/turn-hub';
import { apiKeyAuth } from './middleware/auth';
import { drainRequest } from './middleware/drain-request';
import { retryAfterHeader } from './middleware/rate-limit';
import { requestContext } from './middleware/request-context';
import { type SpaceEnv, spaceAccess } from './middleware/space-access';
import { registerDocsRoutes } from './openapi/docs-routes';
import { registerMemoryWorkRoutes } from './routes/memory-work';
import { registerSessionDataRoutes } from './routes/session-data';
import { registerSessionRoutes } from './routes/sessions';
import { registerSpaceEventRoutes } from './routes/space-events';
import { registerSpaceListRoutes, registerSpaceRoutes } from './routes/spaces';
import { registerSubtreeRoutes } from './routes/subtree';
import { registerTurnStreamRoutes } from './routes/turn-streams';
import { registerTurnRoutes } from './routes/turns';
import { type AuthEnv, DEFAULT_BODY_BYTES, type TransportDeps } from './types';

/**
 * Builds the REST app: every route of the seeds under `/spaces` (behind the `X-API-Key`
 * header), `GET /healthz`, `GET /readyz`, and unless `docs: false` `GET /openapi.json` and
 * `GET /docs` (no key). Order of checks: key (401), space
 * ownership (404/403), then the request (400/413). Errors are JSON `{ error, code, details? }`
 * with statuses from one code table; unknown faults are a generic 500, logged with the request id.
 *
 * @example
 * const app = createApp({ spaceManager, agentPool, userStore, logger });
 * serve({ fetch: app.fetch, port: 3000 });
 */
export function createApp(deps: TransportDeps): Hono<AuthEnv> {
  const logger = deps.logger ?? silentLogger;
  const app = new Hono<AuthEnv>();

  app.use('*', requestContext(logger));
  if (deps.corsOrigins && deps.corsOrigins.length > 0) {
    const origins = [...deps.corsOrigins];
    app.use(
      '*',
      cors({
        origin: origins.includes('*') ? '*' : origins,
        allowHeaders: ['Content-Type', 'X-API-Key', 'X-Request-Id', 'Idempotency-Key', 'Last-Event-ID'],
        exposeHeaders: ['X-Next-Cursor', 'X-Prev-Cursor', 'X-Request-Id', 'Retry-After'],
        maxAge: 600,
      }),
    );
  }

  app.onError((error, c) => {
    const publicError = toPublicError(error);
    // Faults are logged with their cause; provider and availability failures (5xx but not 500) as warnings.
    const fields = { requestId: c.get('requestId'), code: publicError.code, error };
    if (publicError.status === 500) logger.error('http.error', fields);
    else if (publicError.status > 500) logger.warn('http.error', fields);
    const retryAfter = retryAfterHeader(publicError);
    if (retryAfter !== undefined) c.header('Retry-After', retryAfter);
    return c.json(errorBody(publicError), publicError.status as 500);
  });

  app.notFound((c) =>
    c.json(errorBody(toPublicError(new TransportError('NOT_FOUND', 'no such route'))), 404),
  );

  app.get('/healthz', (c) => c.json({ status: 'ok' }));

  app.get('/readyz', async (c) => {
    let ready = true;
    try {
      ready = deps.readiness ? await deps.readiness() : true;
    } catch (error) {
      logger.warn('readiness.failed', { requestId: c.get('requestId'), error });
      ready = false;
    }
    if (ready) return c.json({ status: 'ready' });
    return c.json({ status: 'not_ready', error: 'the server is not ready', code: 'NOT_READY' }, 503);
  });

  if (deps.docs !== false) registerDocsRoutes(app);

  const auth = apiKeyAuth(deps.userStore);
  const limit = bodyLimit({
    maxSize: deps.limits?.bodyBytes ?? DEFAULT_BODY_BYTES,
    onError: async (c) => {
      // Read the rest of the body first (bounded), then close: the client can read the 413.
      await drainRequest((c.env as { incoming?: IncomingMessage } | undefined)?.incoming);
      c.header('Connection', 'close');
      throw new TransportError('PAYLOAD_TOO_LARGE', 'request body is too large');
    },
  });
  // Hono's `/spaces/*` matches `/spaces` itself too.
  app.use('/spaces/*', auth, limit);
  registerSpaceListRoutes(app, deps);

  const space = new Hono<SpaceEnv>();
  space.use('*', spaceAccess(deps.spaceManager));
  registerSpaceRoutes(space, deps);
  registerSessionRoutes(space, deps, logger);
  registerTurnRoutes(space, deps);
  registerTurnStreamRoutes(space, deps, deps.turnHub ?? new TurnHub(), logger);
  registerSessionDataRoutes(space, deps);
  registerMemoryWorkRoutes(space, deps, logger);
  if (deps.subtrees) registerSubtreeRoutes(space, deps.subtrees, deps);
  if (deps.spaceEvents) registerSpaceEventRoutes(space, { spaceEvents: deps.spaceEvents });
  app.route('/spaces/:spaceId', space);

  return app;
}
