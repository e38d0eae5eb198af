import type { Server } from 'node:http';
import { migrate, traceSqlStatements } from '@stello-ai/db';
import {
  AgentPool,
  KeyLimits,
  type Logger,
  SpaceEventHub,
  SpaceManager,
  SubtreeService,
  silentLogger,
  UserLimits,
  UserStore,
} from '@stello-ai/runtime';
import { type ControlChannel, type PgControlChannel, PgStores, TurnSweeper } from '@stello-ai/storage';
import {
  attachWebSocketGateway,
  createApp,
  TurnHub,
  TurnRelay,
  type WebSocketGateway,
} from '@stello-ai/transport';
import { checkServerOptions } from './check-server-options';
import { consoleEnabledByEnv } from './console/console-from-env';
import { registerConsoleRoutes } from './console/console-routes';
import {
  createControlChannel,
  resolveControlDatabaseUrl,
  spaceEventPublisher,
  syncThroughControlChannel,
} from './control';
import { docsEnabledByEnv } from './docs-from-env';
import { waitForTurns, withTimeout } from './drain';
import { StelloServerError } from './errors';
import { createHttpServer, listenOn } from './http-server';
import { createServerMetrics, withMetrics } from './metrics';
import {
  DEFAULT_METRICS_PATH,
  type ListeningServer,
  READINESS_TIMEOUT_MS,
  type StelloServer,
  type StelloServerOptions,
} from './server-options';
import { resolveTracer } from './telemetry';

export {
  DEFAULT_HEADERS_TIMEOUT_MS,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_MEMORY_DRAIN_TIMEOUT_MS,
  DEFAULT_METRICS_PATH,
  DEFAULT_REQUEST_TIMEOUT_MS,
  DEFAULT_TURN_DRAIN_TIMEOUT_MS,
  type ListeningServer,
  READINESS_TIMEOUT_MS,
  type StelloServer,
  type StelloServerLimits,
  type StelloServerOptions,
  type StelloServerShutdownOptions,
} from './server-options';

// After the drain, connections still open (a slow client reading its reply) get this long.
const HTTP_CLOSE_GRACE_MS = 1_000;

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
  const { turnTimeoutMs, memoryTimeoutMs } = checkServerOptions(options);
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
    const httpServer = createHttpServer(app, options.limits ?? {}, () => closing);
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
