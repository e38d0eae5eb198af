/**
 * The part of the standard `WebSocket` the client uses: the browsers' and Node's global one (Node
 * 22+) fit, and so do test doubles. Method syntax keeps it assignable from the DOM's event types.
 */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'open' | 'error', listener: () => void): void;
  addEventListener(type: 'close', listener: (event: { code: number; reason: string }) => void): void;
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
}

/** A `WebSocket` constructor. */
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike;

/** `WebSocket.OPEN`. */
export const WS_OPEN = 1;
