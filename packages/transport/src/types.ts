import type { AgentPool, Logger, SpaceEventHub, SpaceManager, UserStore } from '@stello-ai/runtime';

/** Default request body limit of the REST app: 1 MiB. */
export const DEFAULT_BODY_BYTES = 1024 * 1024;
/** Default limit of one incoming WebSocket frame: 1 MiB. */
export const DEFAULT_WS_FRAME_BYTES = 1024 * 1024;

/**
 * Hono environment of the REST app: what the middlewares put on the context.
 * `userId` is set by the API-key middleware on every `/spaces` route.
 */
export type AuthEnv = {
  Variables: {
    /** The authenticated user (set on `/spaces*` routes only). */
    userId: string;
    /** The request id: the `X-Request-Id` header when it is sane, else a random UUID. */
    requestId: string;
  };
};

/** Size limits of the transport. */
export interface TransportLimits {
  /** Largest accepted REST request body, in bytes (default 1 MiB); larger gets 413 `PAYLOAD_TOO_LARGE`. */
  bodyBytes?: number;
  /** Largest accepted WebSocket frame, in bytes (default 1 MiB); larger closes the socket with 1009. */
  wsFrameBytes?: number;
}

/**
 * The space operations the transport calls. Structural (not the class itself), so any
 * implementation serves: the runtime's `SpaceManager`, or an in-memory stack in tests and benchmarks.
 */
export type TransportSpaceStore = Pick<
  SpaceManager,
  'createSpace' | 'getSpace' | 'listSpaces' | 'updateSpace' | 'deleteSpace'
>;
/** The agent lookup the transport calls (the runtime's `AgentPool` satisfies it). */
export type TransportAgentSource = Pick<AgentPool, 'getAgent'>;
/** API-key authentication (the runtime's `UserStore` satisfies it). */
export type TransportAuthenticator = Pick<UserStore, 'authenticate'>;

/** What the REST app and the WebSocket gateway need from the runtime. */
export interface TransportDeps {
  /** Space CRUD (create, list, update, delete), and the cached read of the ownership check. */
  spaceManager: TransportSpaceStore;
  /** The per-space agents. */
  agentPool: TransportAgentSource;
  /** API-key authentication (cached, so a warm request costs no query). */
  userStore: TransportAuthenticator;
  /** Structured logs: one line per request and per turn (default: silent). */
  logger?: Logger;
  /** Size limits. */
  limits?: TransportLimits;
  /** Space events of `GET /spaces/:spaceId/events` (SSE); without it the route does not exist. */
  spaceEvents?: Pick<SpaceEventHub, 'subscribe'>;
  /** Readiness probe of `GET /readyz` (default: always ready); a throw counts as not ready. */
  readiness?: () => Promise<boolean>;
}
