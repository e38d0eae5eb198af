import type { IncomingMessage, Server } from 'node:http';
import { createAdaptorServer } from '@hono/node-server';
import { type AuthEnv, DEFAULT_BODY_BYTES, drainRequest } from '@stello-ai/transport';
import type { Hono } from 'hono';
import { StelloServerError } from './errors';
import {
  DEFAULT_HEADERS_TIMEOUT_MS,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_REQUEST_TIMEOUT_MS,
  type StelloServerLimits,
} from './server-options';

/**
 * The HTTP server of `app`: header and request timeouts, a connection cap, 503 while closing,
 * and a 413 the client can read for a declared body over `limits.bodyBytes`.
 */
export function createHttpServer(
  app: Hono<AuthEnv>,
  limits: StelloServerLimits,
  isClosing: () => boolean,
): Server {
  const bodyBytes = limits.bodyBytes ?? DEFAULT_BODY_BYTES;
  const headersTimeout = limits.headersTimeoutMs ?? DEFAULT_HEADERS_TIMEOUT_MS;
  const httpServer = createAdaptorServer({
    // Node checks the header and request timeouts on this interval: check often enough that
    // a socket holding partial headers is closed close to its deadline.
    serverOptions: {
      headersTimeout,
      requestTimeout: limits.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
      connectionsCheckingInterval: Math.max(250, Math.min(5_000, Math.floor(headersTimeout / 4))),
    },
    fetch: (request, env) => {
      if (isClosing()) {
        return Response.json(
          { error: 'server is shutting down', code: 'UNAVAILABLE' },
          { status: 503, headers: { connection: 'close' } },
        );
      }
      // A declared length over the limit is refused before anything reads the body; the body is
      // discarded first (bounded), so the client, still uploading, reads the 413.
      const declared = Number(request.headers.get('content-length') ?? '0');
      if (declared > bodyBytes && !request.headers.has('transfer-encoding')) {
        const incoming = (env as { incoming?: IncomingMessage } | undefined)?.incoming;
        return drainRequest(incoming).then(() =>
          Response.json(
            { error: 'request body is too large', code: 'PAYLOAD_TOO_LARGE' },
            { status: 413, headers: { connection: 'close' } },
          ),
        );
      }
      return app.fetch(request, env);
    },
  }) as Server;
  httpServer.maxConnections = limits.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
  return httpServer;
}

/** Binds `server`; resolves to the bound port. A port in use is explained in one line. */
export function listenOn(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') {
        reject(
          new StelloServerError(
            'PORT_IN_USE',
            `port ${port} on ${host} is already in use: stop the other server, or choose another port (PORT or --port)`,
            { cause: error },
          ),
        );
      } else reject(error);
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      const address = server.address();
      resolve(typeof address === 'object' && address !== null ? address.port : port);
    });
  });
}
