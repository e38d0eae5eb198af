import type { Tracer } from '@opentelemetry/api';
import type {
  AgentPool,
  Logger,
  SpaceEventHub,
  SpaceEventPublisher,
  SpaceManager,
  SubtreeService,
  UserLimits,
  UserStore,
} from '@stello-ai/runtime';
import type { TurnHub } from './live/turn-hub';
import type { TurnRelay } from './live/turn-relay';
import type { TransportKeyLimits } from './middleware/rate-limit';

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

/** Default cap of unsent bytes queued for one WebSocket peer: 8 MiB. */
export const DEFAULT_WS_SEND_BUFFER_BYTES = 8 * 1024 * 1024;
/** Default number of protocol errors one WebSocket connection may cause before it is closed. */
export const DEFAULT_WS_MAX_PROTOCOL_ERRORS = 50;
/** Default number of open WebSockets per user (one user holds one active key). */
export const DEFAULT_WS_CONNECTIONS_PER_USER = 32;

/** Size limits of the transport. */
export interface TransportLimits {
  /** Largest accepted REST request body, in bytes (default 1 MiB); larger gets 413 `PAYLOAD_TOO_LARGE`. */
  bodyBytes?: number;
  /** Largest accepted WebSocket frame, in bytes (default 1 MiB); larger closes the socket with 1009. */
  wsFrameBytes?: number;
  /**
   * Unsent bytes a WebSocket peer may leave queued (default 8 MiB). A peer that stops reading
   * while frames pile up past it is disconnected (1013), so it cannot grow the server's memory.
   */
  wsSendBufferBytes?: number;
  /** Protocol errors (bad frames, over-limit messages) one connection may cause before it is closed with 1008 (default 50). */
  wsMaxProtocolErrors?: number;
  /** Open WebSockets per user (default 32); more are refused with 429 `TOO_MANY_CONNECTIONS`. */
  wsConnectionsPerUser?: number;
  /**
   * Byte budget of one list response (`GET /spaces`, `GET …/sessions`, `GET …/messages`; default
   * 4 MiB). A page stops once its JSON reaches it (messages: at the end of a chunk of 25 records;
   * spaces and sessions: before the one that would pass it); `X-Next-Cursor` (`X-Prev-Cursor` for
   * `before`) then points at the rest.
   */
  listBytes?: number;
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
/**
 * API-key authentication (the runtime's `UserStore` satisfies it). With `onKeysChanged`, a revoked
 * or replaced key also closes that user's open WebSockets at once.
 */
export type TransportAuthenticator = Pick<UserStore, 'authenticate'> &
  Partial<Pick<UserStore, 'onKeysChanged'>>;

/** The per-user bounds the transport asks before work (the runtime's `UserLimits` satisfies it). */
export type TransportUserLimits = Pick<UserLimits, 'admitTurn' | 'admitSpace' | 'admitSessions' | 'forget'>;
/** The subtree operations of the REST app (the runtime's `SubtreeService` satisfies it). */
export type TransportSubtreeSource = Pick<
  SubtreeService,
  'exportSubtree' | 'importSubtree' | 'archiveSubtree'
>;

/** What the REST app and the WebSocket gateway need from the runtime. */
export interface TransportDeps {
  /**
   * The frames of this process's streamed turns, for resumes. Give the REST app and the WebSocket
   * gateway the same one (createStelloServer does), so either can resume a turn the other streams.
   */
  turnHub?: TurnHub;
  /** Live frames of turns streamed by other processes, for resumes landing here (needs the control channel). */
  turnRelay?: TurnRelay;
  /**
   * Opens an OpenTelemetry span per turn (REST turn, SSE stream, WebSocket message or stream):
   * `stello.turn`, with the space, session and turn ids, the transport and the outcome. Off when absent.
   */
  tracer?: Tracer;
  /**
   * Origins allowed to call the REST API from a browser (CORS); off by default. `['*']` allows
   * any origin (the API key still guards every route).
   */
  corsOrigins?: readonly string[];
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
  /** Publishes the space events of changes the transport makes itself (a prompt slot written). */
  publishEvent?: SpaceEventPublisher;
  /** Space events of `GET /spaces/:spaceId/events` (SSE); without it the route does not exist. */
  spaceEvents?: Pick<SpaceEventHub, 'subscribe'>;
  /**
   * Per-user quotas (spaces, sessions, stored bytes) and the cap of turns a user runs at once;
   * without it nothing is bounded per user.
   */
  userLimits?: TransportUserLimits;
  /**
   * Subtree export, import and archive (`GET …/sessions/:id/export`, `POST …/sessions/:id/import`,
   * `POST …/sessions/:id/archive-subtree`); without it those routes do not exist.
   */
  subtrees?: TransportSubtreeSource;
  /**
   * Per-key limits asked before every turn (REST turn and stream, WebSocket message and stream):
   * over a limit the answer is 429 `RATE_LIMITED` with `Retry-After` (WebSocket: an error frame
   * with `details.retryAfterMs`). Without it turns are not limited.
   */
  keyLimits?: TransportKeyLimits;
  /** Readiness probe of `GET /readyz` (default: always ready); a throw counts as not ready. */
  readiness?: () => Promise<boolean>;
  /**
   * `GET /openapi.json` (the OpenAPI 3.1 document) and `GET /docs` (Swagger UI, served from
   * node_modules), both without an API key; on by default, `false` turns both off.
   */
  docs?: boolean;
}
