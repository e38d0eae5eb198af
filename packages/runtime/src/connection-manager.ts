import { RuntimeError } from './errors';

/** What the server knows about one WebSocket connection. */
export interface ConnectionState {
  /** The id the transport gave the connection. */
  connectionId: string;
  /** The authenticated owner of the connection. */
  userId: string;
  /** The space the connection is bound to (one per connection). */
  spaceId: string;
  /** The entered session; `null` when the connection has entered none. */
  sessionId: string | null;
}

/**
 * In-memory state of WebSocket connections: which user and space each one is bound to, and the
 * session it entered. Pure bookkeeping: no I/O, no agent calls (the gateway does those).
 */
export class ConnectionManager {
  readonly #connections = new Map<string, ConnectionState>();

  /** Registers a connection with no entered session (re-binding an id replaces its state). */
  bind(connectionId: string, userId: string, spaceId: string): void {
    this.#connections.set(connectionId, { connectionId, userId, spaceId, sessionId: null });
  }

  /** Returns a copy of the connection's state, or `null` for an unknown connection. */
  getState(connectionId: string): ConnectionState | null {
    const state = this.#connections.get(connectionId);
    return state ? { ...state } : null;
  }

  /**
   * Records that the connection entered `sessionId` (replacing any previous one).
   * @throws RuntimeError `CONNECTION_NOT_BOUND` when the connection is unknown
   */
  attachSession(connectionId: string, sessionId: string): void {
    const state = this.#connections.get(connectionId);
    if (!state) {
      throw new RuntimeError('CONNECTION_NOT_BOUND', `connection "${connectionId}" is not bound`, {
        details: { connectionId },
      });
    }
    state.sessionId = sessionId;
  }

  /** Clears the entered session; returns the previous session id, or `null` (also for an unknown connection). */
  detachSession(connectionId: string): string | null {
    const state = this.#connections.get(connectionId);
    if (!state) return null;
    const previous = state.sessionId;
    state.sessionId = null;
    return previous;
  }

  /** Removes the connection; returns its final state, or `null` when it was unknown. */
  unbind(connectionId: string): ConnectionState | null {
    const state = this.#connections.get(connectionId);
    if (!state) return null;
    this.#connections.delete(connectionId);
    return state;
  }

  /** Number of bound connections. */
  get size(): number {
    return this.#connections.size;
  }
}
