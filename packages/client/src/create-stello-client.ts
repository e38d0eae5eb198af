import { StelloApiError } from './errors';
import { HttpClient } from './http';
import type { CallOptions } from './rest/options';
import { SessionsApi } from './rest/sessions';
import { SpacesApi } from './rest/spaces';
import { TurnsApi } from './rest/turns';
import { type ConnectOptions, StelloConnection } from './ws/stello-connection';
import type { WebSocketConstructor } from './ws/web-socket-like';

/** Options of {@link createStelloClient}. */
export interface StelloClientOptions {
  /** The server's origin (and optional path prefix), e.g. `https://stello.example.com`. */
  baseUrl: string;
  /** The API key (`stello user create` prints one). */
  apiKey: string;
  /** A `fetch` to use instead of the global one. */
  fetch?: typeof fetch;
  /** A `WebSocket` constructor to use instead of the global one (Node 22+ and browsers have one). */
  WebSocket?: WebSocketConstructor;
}

/** The client: REST resources, and `connect()` for a WebSocket to one space. */
export interface StelloClient {
  readonly spaces: SpacesApi;
  readonly sessions: SessionsApi;
  readonly turns: TurnsApi;
  /** Opens a WebSocket to a space; resolves once open. */
  connect(spaceId: string, options?: ConnectOptions): Promise<StelloConnection>;
  /** `GET /healthz` (no key needed): true when the server answers. */
  health(options?: CallOptions): Promise<boolean>;
  /** `GET /readyz`: true when the server is ready (its database answers). */
  ready(options?: CallOptions): Promise<boolean>;
}

/**
 * Makes a client of a Stello Server. Uses the global `fetch` and `WebSocket` unless given others;
 * no Node built-in, so the same code runs in Node 22+ and in browsers.
 *
 * @example
 * const client = createStelloClient({ baseUrl: 'http://127.0.0.1:3000', apiKey });
 * const space = await client.spaces.create({ label: 'Trip' });
 * const [root] = await client.sessions.list({ spaceId: space.id });
 * const { turn } = await client.turns.send({ spaceId: space.id, sessionId: root.id, input: 'Hi' });
 */
export function createStelloClient(options: StelloClientOptions): StelloClient {
  const http = new HttpClient(options);
  const turns = new TurnsApi(http);
  const probe = async (path: string, signal: AbortSignal | undefined) => {
    try {
      await http.send({ method: 'GET', path, signal });
      return true;
    } catch (error) {
      if (error instanceof StelloApiError && error.status > 0) return false;
      throw error;
    }
  };
  return {
    spaces: new SpacesApi(http),
    sessions: new SessionsApi(http, turns),
    turns,
    connect(spaceId, connectOptions) {
      const WebSocket = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
      if (!WebSocket) {
        return Promise.reject(
          new StelloApiError('CONNECTION_FAILED', 'no WebSocket here: pass one as the `WebSocket` option'),
        );
      }
      return StelloConnection.open(spaceId, { http, turns, WebSocket }, connectOptions);
    },
    health: (callOptions = {}) => probe('/healthz', callOptions.signal),
    ready: (callOptions = {}) => probe('/readyz', callOptions.signal),
  };
}
