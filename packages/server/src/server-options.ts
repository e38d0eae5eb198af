import type {
  AgentPool,
  AgentPoolOptions,
  Logger,
  SpaceManager,
  SubtreeLimits,
  UserStore,
} from '@stello-ai/runtime';
import type { ControlChannel, PgStoresOptions } from '@stello-ai/storage';
import type { AuthEnv, TransportLimits } from '@stello-ai/transport';
import type { Hono } from 'hono';
import type pg from 'pg';
import type { StelloTelemetryOptions } from './telemetry';

// The options and defaults of `createStelloServer`, and the shapes it returns.

/** How long `close()` waits for running turns by default. */
export const DEFAULT_TURN_DRAIN_TIMEOUT_MS = 10_000;
/** How long `close()` waits for background consolidation/integration by default. */
export const DEFAULT_MEMORY_DRAIN_TIMEOUT_MS = 5_000;
/** How long `/readyz` waits for `SELECT 1` before it reports not ready. */
export const READINESS_TIMEOUT_MS = 2_000;

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
   * `GET /openapi.json` (the OpenAPI 3.1 document), `GET /asyncapi.json` (the AsyncAPI 3.0 document of the streams) and `GET /docs` (Swagger UI), no API key
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
