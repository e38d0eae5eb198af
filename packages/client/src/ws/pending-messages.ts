import type { HttpClient } from '../http';
import type { CallOptions } from '../rest/options';
import type { TurnsApi } from '../rest/turns';
import type { RetryOptions } from '../retry';
import type { TurnStreamSink } from '../stream/turn-stream';
import type { ForkSessionBody, SpaceEvent, TurnConcurrency } from '../wire';
import type { WebSocketConstructor } from './web-socket-like';

// The options of a connection, and the messages it keeps until they are answered (re-sent after
// a reconnect).

/** Where a connection stands. */
export type ConnectionStatus = 'connecting' | 'open' | 'reconnecting' | 'closed';

/** Options of `client.connect(spaceId, options)`. */
export interface ConnectOptions extends CallOptions {
  /** Reconnects after a drop (default: 10 retries, 250 ms doubling to 5 s); `false` never. */
  reconnect?: RetryOptions | false;
  /** Called on every status change (a `reconnecting` … `open` pair is a reconnect). */
  onStatus?: (status: ConnectionStatus) => void;
}

/** A turn on the entered session of a connection. */
export interface ConnectionTurnOptions extends CallOptions {
  input: string;
  /** The turn's id; a new UUID when absent. */
  turnId?: string;
  concurrency?: TurnConcurrency;
}

/** The space's live events on a connection: iterate them; `close()` (or a `break`) stops them. */
export interface SpaceEventStream extends AsyncIterable<SpaceEvent> {
  close(): Promise<void>;
}

/** What the connection needs from its client. */
export interface ConnectionDeps {
  http: HttpClient;
  turns: TurnsApi;
  WebSocket: WebSocketConstructor;
}

/** A message that waits for its answer, before the promise around it is attached. */
export type Request =
  | { kind: 'enter'; sessionId: string }
  | { kind: 'leave' | 'subscribe' | 'unsubscribe' | 'integrate' }
  | { kind: 'fork'; options: ForkSessionBody }
  | { kind: 'consolidate'; sessionId: string | undefined };

export type Deferred = { resolve(value: unknown): void; reject(error: unknown): void };
export type Pending =
  | (Deferred & { kind: 'enter'; sessionId: string })
  | (Deferred & { kind: 'leave' | 'subscribe' | 'unsubscribe' | 'integrate' })
  | (Deferred & { kind: 'fork'; options: ForkSessionBody })
  | (Deferred & { kind: 'consolidate'; sessionId: string | undefined })
  | {
      kind: 'turn';
      mode: 'session.stream' | 'session.message';
      sessionId: string;
      input: string;
      concurrency: TurnConcurrency | undefined;
      sink: TurnStreamSink;
      /** Sent as `session.resume` on the current socket (after a reconnect). */
      resumed: boolean;
    };

/** The frame that (re)sends an entry: an unfinished turn that already sent frames is resumed. */
export function messageOf(entry: Pending, spaceId: string): Record<string, unknown> {
  switch (entry.kind) {
    case 'enter':
      return { type: 'session.enter', sessionId: entry.sessionId };
    case 'leave':
      return { type: 'session.leave' };
    case 'fork':
      return { type: 'session.fork', options: entry.options };
    case 'consolidate':
      return { type: 'session.consolidate', ...(entry.sessionId && { sessionId: entry.sessionId }) };
    case 'integrate':
      return { type: 'space.integrate' };
    case 'subscribe':
      return { type: 'space.subscribe', spaceId: spaceId };
    case 'unsubscribe':
      return { type: 'space.unsubscribe', spaceId: spaceId };
    case 'turn': {
      const { sink } = entry;
      entry.resumed = sink.started;
      if (sink.started) {
        return {
          type: 'session.resume',
          sessionId: entry.sessionId,
          turnId: sink.stream.turnId,
          afterSeq: sink.stream.lastSeq,
        };
      }
      return {
        type: entry.mode,
        input: entry.input,
        turnId: sink.stream.turnId,
        ...(entry.concurrency && { concurrency: entry.concurrency }),
      };
    }
  }
}
