import type { IncomingMessage, Server } from 'node:http';
import { createAdaptorServer } from '@hono/node-server';
import type { StelloAgent } from '@stello-ai/core';
import { migrate, traceSqlStatements } from '@stello-ai/db';
import {
  AgentPool,
  type AgentPoolOptions,
  KeyLimits,
  type Logger,
  SpaceEventHub,
  SpaceManager,
  type SubtreeLimits,
  SubtreeService,
  silentLogger,
  UserLimits,
  UserStore,
} from '@stello-ai/runtime';
import {
  type ControlChannel,
  type PgControlChannel,
  PgStores,
  type PgStoresOptions,
  TurnSweeper,
} from '@stello-ai/storage';
import {
  type AuthEnv,
  attachWebSocketGateway,
  createApp,
  DEFAULT_BODY_BYTES,
  drainRequest,
  type TransportLimits,
  TurnHub,
  TurnRelay,
  type WebSocketGateway,
} from '@stello-ai/transport';
import type { Hono } from 'hono';
import type pg from 'pg';
import { consoleEnabledByEnv } from './console/console-from-env';
import { registerConsoleRoutes } from './console/console-routes';
import {
  createControlChannel,
  resolveControlDatabaseUrl,
  spaceEventPublisher,
  syncThroughControlChannel,
} from './control';
import { docsEnabledByEnv } from './docs-from-env';
import { StelloServerError } from './errors';
import { createServerMetrics, withMetrics } from './metrics';
import { resolveTracer, type StelloTelemetryOptions } from './telemetry';

/** How long `close()` waits for running turns by default. */
export const DEFAULT_TURN_DRAIN_TIMEOUT_MS = 10_000;
/** How long `close()` waits for background consolidation/integration by default. */
export const DEFAULT_MEMORY_DRAIN_TIMEOUT_MS = 5_000;
/** How long `/readyz` waits for `SELECT 1` before it reports not ready. */
export const READINESS_TIMEOUT_MS = 2_000;

// Polling is the only contract-level way to observe `activeTurnCount`; 25 ms costs nothing.
const DRAIN_POLL_INTERVAL_MS = 25;
// After the drain, connections still open (a slow client reading its reply) get this long.
const HTTP_CLOSE_GRACE_MS = 1_000;

/** Path of the Prometheus metrics unless configured. */
export const DEFAULT_METRICS_PATH = '/metrics';

/** Default time a client has to send a request's headers: 10 s. */
export const DEFAULT_HEADERS_TIMEOUT_MS = 10_000;
/** Default time a client has to send a whole request: 60 s. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;
/** Default cap on open HTTP connections (WebSockets included): 10,000. */
export const DEFAULT_MAX_CONNECTIONS = 10_000;

/**
 * Limits of the server: the transport's (bodies, frames, sockets per user, list budgets) and the
 * HTTP server's own, against clients that hold connections open without finishing a request.
 */
export interface StelloServerLimits extends TransportLimits {
  /** Time a client has to send the request headers, in ms (default 10 s); then the socket is closed. */
  headersTimeoutMs?: number;
  /** Time a client has to send the whole request, in ms (default 60 s); then 408 and close. */
  requestTimeoutMs?: number;
  /** Open HTTP connections at most (default 10,000); more are refused at once. */
  maxConnections?: number;
  /** Spaces one user may hold (default 10,000); more get 403 `QUOTA_EXCEEDED`. */
  spacesPerUser?: number;
  /** Sessions one user may hold over all their spaces (default 100,000); more get 403 `QUOTA_EXCEEDED`. */
  sessionsPerUser?: number;
  /** Record bytes one user may store (default 10 GiB); past it turns and forks get 403 `QUOTA_EXCEEDED`. */
  storedBytesPerUser?: number;
  /** Turns one user may run at once in this process (default 64); more get 429 `TOO_MANY_TURNS`. */
  runningTurnsPerUser?: number;
  /**
   * Turns per minute of an API key without a limit of its own (default: none). Counted across
   * every server on the database; over it, 429 `RATE_LIMITED` with `Retry-After`.
   */
  turnsPerMinute?: number;
  /** Streams (REST SSE and WebSocket) an API key without a limit of its own may run at once (default: none). */
  streamsPerKey?: number;
  /** How often this server shares its use of the keys' limits with the others, in ms (default 1 s). */
  rateLimitSyncIntervalMs?: number;
}

/** Bounds of the graceful shutdown run by `close()`. */
export interface StelloServerShutdownOptions {
  /** Longest wait for running turns to finish (default 10 s); later they are left to the process exit. */
  turnTimeoutMs?: number;
  /** Longest wait for background consolidation and integration (default 5 s). */
  memoryTimeoutMs?: number;
}

/** Options of {@link createStelloServer}. */
export interface StelloServerOptions {
  /** The PostgreSQL pool every component uses. The caller owns it: `close()` never ends it. */
  pool: pg.Pool;
  /** How each space's agent is built (model, tools, prompts) and how long idle agents stay cached. */
  agentPoolOptions: AgentPoolOptions;
  /**
   * Options of the PostgreSQL stores: the history window cache and prepared statements (turn
   * those off behind a pooler that cannot keep them; this also covers the space lookup).
   */
  storage?: PgStoresOptions;
  /** Skips `migrate(pool)` at start-up (the schema is managed elsewhere). */
  skipMigrate?: boolean;
  /** Structured logger of the server, the gateway and the agent pool (default: silent). */
  logger?: Logger;
  /** Request body and WebSocket frame limits. */
  limits?: StelloServerLimits;
  /**
   * Bounds of one subtree export or import over REST (defaults: 1,000 sessions, 50,000 records,
   * 64 MiB); an import is also bounded by `limits.bodyBytes`.
   */
  subtreeLimits?: SubtreeLimits;
  /** The users and API keys store (default: `new UserStore(new PgStores(pool).users)`). */
  userStore?: UserStore;
  /**
   * Prometheus metrics at `GET /metrics` (on by default; no API key, so keep that path internal):
   * requests by route and status, turns and their latency, WebSockets, agents, pool connections,
   * memory-work failures, process metrics.
   */
  metrics?: { enabled?: boolean; path?: string };
  /** Origins allowed to call the REST API from a browser (CORS, off by default; `['*']`: any). */
  corsOrigins?: readonly string[];
  /**
   * `GET /openapi.json` (the OpenAPI 3.1 document) and `GET /docs` (Swagger UI), no API key
   * (default: on, unless env `STELLO_DOCS=off`); `false` turns both off.
   */
  docs?: boolean;
  /**
   * The web console at `GET /console` (static files of `@stello-ai/console`; the page needs no
   * key, it calls the API with the key a person types) (default: on, unless env
   * `STELLO_CONSOLE=off`); `false` turns it off.
   */
  console?: boolean;
  /** WebSocket ping interval in milliseconds (default 30 s); idle peers that do not answer are dropped. */
  heartbeatIntervalMs?: number;
  /** Bounds of the graceful shutdown. */
  shutdown?: StelloServerShutdownOptions;
  /**
   * Direct (non-pooled) database URL of the control channel, the one LISTEN connection that keeps
   * this process coherent with the others on the database (default: env
   * `STELLO_DIRECT_DATABASE_URL`, else the pool's connection string). Set it behind a
   * transaction pooler such as PgBouncer.
   */
  controlDatabaseUrl?: string;
  /**
   * The control channel to use instead of one made from `controlDatabaseUrl` (the server starts
   * and closes it), or `false` for a single process with no channel.
   */
  controlChannel?: ControlChannel | false;
  /**
   * OpenTelemetry spans of turns, their LLM calls and their SQL statements (off by default; env
   * `STELLO_OTEL=on` turns them on with the global provider; `false` keeps them off). Tracing
   * wraps `pool` itself. See the README's operations section.
   */
  telemetry?: StelloTelemetryOptions | false;
}

/** What `listen()` resolves to. */
export interface ListeningServer {
  /** The port actually bound (useful with port 0). */
  port: number;
  /**
   * Shuts down gracefully: stops accepting, closes WebSockets (code 1001), lets running turns
   * finish and background memory work settle (both bounded), disposes the agent pool and waits
   * for the HTTP server to close. It does not end the `pg.Pool`. Idempotent.
   */
  close: () => Promise<void>;
}

/** A Stello server: the Hono app, its components, and `listen`. */
export interface StelloServer {
  /** The Hono application (REST + `/healthz` + `/readyz`); `app.request()` works without listening. */
  app: Hono<AuthEnv>;
  /**
   * Starts HTTP and the WebSocket gateway on one `http.Server`; resolves once listening.
   * @throws StelloServerError `ALREADY_LISTENING` / `SERVER_CLOSED`
   */
  listen(port?: number, host?: string): Promise<ListeningServer>;
  /** Space CRUD; the same instance the agent pool listens to for refreshes. */
  spaceManager: SpaceManager;
  /** One agent per space, built lazily and evicted when idle. */
  agentPool: AgentPool;
  /** The pool passed in. */
  pool: pg.Pool;
  /** Users and API keys. */
  userStore: UserStore;
  /** This process's control channel (started by `listen()`, closed by `close()`), or `null`. */
  controlChannel: ControlChannel | null;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function nonNegative(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < 0) {
    throw new StelloServerError(
      'INVALID_OPTIONS',
      `${name} must be a non-negative number, got ${String(value)}`,
    );
  }
  return value;
}

async function waitForTurns(agents: StelloAgent[], timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const running = agents.reduce((sum, agent) => sum + agent.activeTurnCount, 0);
    if (running === 0 || Date.now() >= deadline) return running;
    await delay(DRAIN_POLL_INTERVAL_MS);
  }
}

function listenOn(server: Server, port: number, host: string): Promise<number> {
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

/**
 * Creates a Stello server on a PostgreSQL pool: migrates the schema (unless `skipMigrate`), then
 * wires one `SpaceManager`, the `AgentPool`, the `UserStore` and the Hono app. Nothing listens
 * until `listen()`.
 *
 * @example
 * ```ts
 * const pool = createPool({ connectionString: process.env.DATABASE_URL! });
 * const server = await createStelloServer({ pool, agentPoolOptions: { model: createOfflineAdapter() } });
 * const { port, close } = await server.listen(3000);
 * ```
 * @throws StelloServerError `INVALID_OPTIONS`; the errors of `migrate()` when the schema cannot be applied
 */
export async function createStelloServer(options: StelloServerOptions): Promise<StelloServer> {
  const { pool } = options;
  if (pool === null || typeof pool !== 'object' || typeof pool.query !== 'function') {
    throw new StelloServerError('INVALID_OPTIONS', 'pool must be a pg.Pool');
  }
  if (options.agentPoolOptions === null || typeof options.agentPoolOptions !== 'object') {
    throw new StelloServerError('INVALID_OPTIONS', 'agentPoolOptions must be an object');
  }
  const turnTimeoutMs = nonNegative(
    options.shutdown?.turnTimeoutMs,
    DEFAULT_TURN_DRAIN_TIMEOUT_MS,
    'shutdown.turnTimeoutMs',
  );
  const memoryTimeoutMs = nonNegative(
    options.shutdown?.memoryTimeoutMs,
    DEFAULT_MEMORY_DRAIN_TIMEOUT_MS,
    'shutdown.memoryTimeoutMs',
  );
  for (const name of ['turnsPerMinute', 'streamsPerKey', 'rateLimitSyncIntervalMs'] as const) {
    const value = options.limits?.[name];
    if (
      value !== undefined &&
      (!Number.isInteger(value) || value < (name === 'rateLimitSyncIntervalMs' ? 1 : 0))
    ) {
      throw new StelloServerError(
        'INVALID_OPTIONS',
        `limits.${name} must be a non-negative integer, got ${String(value)}`,
      );
    }
  }
  // Metrics are fed by the events the server logs, so the logger is wrapped once, here.
  let cachedAgents = () => 0;
  let openConnections = 0;
  const metrics =
    options.metrics?.enabled === false
      ? null
      : createServerMetrics({ pool, agents: () => cachedAgents(), connections: () => openConnections });
  const logger = metrics
    ? withMetrics(options.logger ?? silentLogger, metrics)
    : (options.logger ?? silentLogger);

  const tracer = resolveTracer(options.telemetry);
  // Statements of background work (rate sync, sweeps) are left out: only those under a turn.
  if (tracer) traceSqlStatements(pool, tracer, { requireParentSpan: true });

  if (!options.skipMigrate) {
    logger.info('server.migrating', {});
    const applied = await migrate(pool);
    logger.info('server.migrated', { applied, count: applied.length });
  }

  // Every store made once from the pool, and one SpaceManager for the app and the agent pool,
  // so a PATCH refreshes the cached agent at once.
  const controlChannel = makeControlChannel(options, logger);
  // Turn leases carry this process's identity (a dead process's sessions are free at once) and a
  // cancel reaches the process that runs the turn: both ride on the PostgreSQL control channel.
  const turnControl =
    controlChannel && 'notifySql' in controlChannel ? (controlChannel as PgControlChannel) : null;
  const stores = new PgStores(pool, { ...options.storage, ...(turnControl && { control: turnControl }) });
  const spaceManager = new SpaceManager(stores.spaces);
  const agentPool = new AgentPool(
    stores,
    {
      // The metrics' LLM time, first delta and tokens come from the timed model.
      observeModel: metrics !== null,
      ...options.agentPoolOptions,
      ...(tracer && { tracer }),
      logger: options.agentPoolOptions.logger ?? logger,
      ...(controlChannel && {
        publishEvent: spaceEventPublisher(controlChannel, logger),
        control: controlChannel,
      }),
    },
    spaceManager,
  );
  // Marks the turns of dead processes failed and forgets finished turns after 24 h.
  const turnSweeper = new TurnSweeper(pool, {
    onError: (error) => logger.warn('turns.sweep_failed', { error: (error as Error).message }),
  });
  const userStore = options.userStore ?? new UserStore(stores.users);
  const spaceEvents = controlChannel ? new SpaceEventHub(controlChannel) : undefined;
  const userLimits = new UserLimits({
    readUsage: (userId) => stores.usage.usageOf(userId),
    ...pickDefined(options.limits ?? {}, [
      'spacesPerUser',
      'sessionsPerUser',
      'storedBytesPerUser',
      'runningTurnsPerUser',
    ]),
  });
  cachedAgents = () => agentPool.size;
  // Decided in memory on every turn; shared with the other servers by a background sync (listen()).
  const keyLimits = new KeyLimits({
    store: stores.rateLimits,
    logger,
    ...(options.limits?.turnsPerMinute !== undefined && { turnsPerMinute: options.limits.turnsPerMinute }),
    ...(options.limits?.streamsPerKey !== undefined && { concurrentStreams: options.limits.streamsPerKey }),
    ...(options.limits?.rateLimitSyncIntervalMs !== undefined && {
      syncIntervalMs: options.limits.rateLimitSyncIntervalMs,
    }),
  });

  let closing = false;
  const readiness = async (): Promise<boolean> => {
    if (closing) return false;
    try {
      const result = await withTimeout(pool.query('SELECT 1'), READINESS_TIMEOUT_MS);
      return result !== 'timeout';
    } catch {
      return false;
    }
  };

  // One hub for the REST app and the gateway: either can resume a turn the other streams.
  const turnHub = new TurnHub();
  // A resume landing here follows a turn another process streams, live, over the control channel.
  const turnRelay = controlChannel
    ? new TurnRelay(turnHub, controlChannel, (error) =>
        logger.warn('turns.relay_failed', { error: (error as Error).message }),
      )
    : undefined;
  const deps = {
    turnHub,
    ...(turnRelay && { turnRelay }),
    spaceManager,
    agentPool,
    userStore,
    logger,
    keyLimits,
    ...(options.limits !== undefined && { limits: options.limits }),
    ...(options.corsOrigins !== undefined && { corsOrigins: options.corsOrigins }),
    readiness,
    userLimits,
    ...(spaceEvents && { spaceEvents }),
    ...(controlChannel && { publishEvent: spaceEventPublisher(controlChannel, logger) }),
    subtrees: new SubtreeService(stores, {
      ...(options.subtreeLimits && { limits: options.subtreeLimits }),
      ...(controlChannel && { publishEvent: spaceEventPublisher(controlChannel, logger) }),
    }),
    docs: options.docs ?? docsEnabledByEnv(),
    ...(tracer && { tracer }),
  };
  const app = createApp(deps);
  if (options.console ?? consoleEnabledByEnv()) registerConsoleRoutes(app);
  if (metrics) {
    // Outside `/spaces`: no API key. Expose it on an internal network only (see the README).
    app.get(options.metrics?.path ?? DEFAULT_METRICS_PATH, async (c) =>
      c.body(await metrics.render(), 200, { 'Content-Type': metrics.registry.contentType }),
    );
  }

  let active: { httpServer: Server; gateway: WebSocketGateway } | null = null;
  let stopSync: (() => void) | undefined;
  let closed = false;

  async function shutdown(httpServer: Server, gateway: WebSocketGateway): Promise<void> {
    closing = true;
    logger.info('server.closing', {});
    const httpClosed = new Promise<void>((resolve) => httpServer.close(() => resolve()));
    httpServer.closeIdleConnections();
    await gateway.close();

    const agents = agentPool.activeAgents();
    const stillRunning = await waitForTurns(agents, turnTimeoutMs);
    if (stillRunning > 0)
      logger.warn('server.turn_drain_timeout', { runningTurns: stillRunning, turnTimeoutMs });
    const memory = await withTimeout(
      Promise.allSettled(agents.map((agent) => agent.idle())),
      memoryTimeoutMs,
    );
    if (memory === 'timeout') logger.warn('server.memory_drain_timeout', { memoryTimeoutMs });
    agentPool.dispose();
    stopSync?.();
    turnRelay?.close();
    await keyLimits.stop();
    spaceEvents?.close();
    turnSweeper.stop();
    await controlChannel?.close();

    // Replies of drained turns are being written now; then only idle keep-alive sockets remain.
    httpServer.closeIdleConnections();
    if ((await withTimeout(httpClosed, HTTP_CLOSE_GRACE_MS)) === 'timeout') {
      httpServer.closeAllConnections();
      await httpClosed;
    }
    closed = true;
    active = null;
    logger.info('server.closed', {});
  }

  async function listen(port = 0, host = '127.0.0.1'): Promise<ListeningServer> {
    if (closed || closing) throw new StelloServerError('SERVER_CLOSED', 'the server was closed');
    if (active !== null) throw new StelloServerError('ALREADY_LISTENING', 'the server already listens');
    if (!Number.isInteger(port) || port < 0 || port > 65_535) {
      throw new StelloServerError(
        'INVALID_OPTIONS',
        `port must be an integer from 0 to 65535, got ${String(port)}`,
      );
    }
    const limits = options.limits ?? {};
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
        if (closing) {
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
    httpServer.on('connection', (socket) => {
      openConnections += 1;
      socket.once('close', () => {
        openConnections -= 1;
      });
    });
    const gateway = attachWebSocketGateway(httpServer, {
      ...deps,
      ...(options.heartbeatIntervalMs !== undefined && { heartbeatIntervalMs: options.heartbeatIntervalMs }),
    });
    active = { httpServer, gateway };
    let boundPort: number;
    try {
      if (controlChannel) {
        await controlChannel.start();
        turnSweeper.start();
        stopSync = syncThroughControlChannel(controlChannel, {
          spaceManager,
          userStore,
          logger,
        });
      }
      boundPort = await listenOn(httpServer, port, host);
      keyLimits.start();
    } catch (error) {
      active = null;
      stopSync?.();
      stopSync = undefined;
      await gateway.close();
      throw error;
    }
    logger.info('server.listening', { host, port: boundPort });

    let closePromise: Promise<void> | undefined;
    const close = (): Promise<void> => {
      closePromise ??= shutdown(httpServer, gateway);
      return closePromise;
    };
    return { port: boundPort, close };
  }

  return { app, listen, spaceManager, agentPool, pool, userStore, controlChannel };
}

function makeControlChannel(options: StelloServerOptions, logger: Logger): ControlChannel | null {
  if (options.controlChannel === false) return null;
  if (options.controlChannel !== undefined) return options.controlChannel;
  const url = resolveControlDatabaseUrl(options.pool, options.controlDatabaseUrl);
  if (url === null) {
    logger.warn('control.disabled', { reason: 'no database URL for the control channel' });
    return null;
  }
  return createControlChannel(url, options.pool, logger);
}

/** The entries of `source` named in `keys` whose value is set. */
function pickDefined<T extends object, K extends keyof T>(
  source: T,
  keys: readonly K[],
): Partial<Pick<T, K>> {
  const picked: Partial<Pick<T, K>> = {};
  for (const key of keys) if (source[key] !== undefined) picked[key] = source[key];
  return picked;
}
