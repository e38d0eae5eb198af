// One file over the size rule on purpose: sending, receiving and reconnecting share the socket and
// the pending messages (pending-messages.ts holds their types and wire form).
import { errorFromFrame, StelloApiError } from '../errors';
import type { CallOptions } from '../rest/options';
import { backoffDelayMs, sleep } from '../retry';
import { PushQueue } from '../stream/push-queue';
import { createTurnStream, type TurnStream, type TurnStreamSink } from '../stream/turn-stream';
import {
  type ConsolidateResult,
  type ForkSessionBody,
  type IntegrateResult,
  type SessionBootstrap,
  type SessionInfo,
  type SpaceEvent,
  type TurnResult,
  WS_KEY_SUBPROTOCOL_PREFIX,
  WS_SUBPROTOCOL,
} from '../wire';
import {
  type ConnectionDeps,
  type ConnectionStatus,
  type ConnectionTurnOptions,
  type ConnectOptions,
  type Deferred,
  messageOf,
  type Pending,
  type Request,
  type SpaceEventStream,
} from './pending-messages';
import { type WebSocketLike, WS_OPEN } from './web-socket-like';

export type {
  ConnectionDeps,
  ConnectionStatus,
  ConnectionTurnOptions,
  ConnectOptions,
  SpaceEventStream,
} from './pending-messages';

const DEFAULT_RECONNECT_RETRIES = 10;
const DEFAULT_RECONNECT_MIN_DELAY_MS = 250;
const CLOSE_NORMAL = 1000;
const TERMINAL_FRAMES: ReadonlySet<string> = new Set(['stream.end', 'turn.cancelled', 'error']);

/**
 * A WebSocket connection to one space (`client.connect(spaceId)`). Messages are answered in the
 * order sent, as the server handles them. After a drop it reconnects with backoff, enters its
 * session again, and resumes every unfinished turn with `session.resume` after the last `seq` it
 * saw, so a stream loses and repeats no frame (a turn that had sent nothing yet is sent again
 * under the same turn id, which the server runs at most once).
 */
export class StelloConnection {
  readonly spaceId: string;
  readonly #deps: ConnectionDeps;
  readonly #options: ConnectOptions;
  #socket: WebSocketLike | null = null;
  #pending: Pending[] = [];
  /** The session the caller entered (and has not left): entered again after a reconnect. */
  #sessionId: string | null = null;
  /** The session the current socket is in, as the server confirmed. */
  #enteredId: string | null = null;
  #subscribers = new Set<PushQueue<SpaceEvent>>();
  #status: ConnectionStatus = 'connecting';
  #closed = false;

  private constructor(spaceId: string, deps: ConnectionDeps, options: ConnectOptions) {
    this.spaceId = spaceId;
    this.#deps = deps;
    this.#options = options;
  }

  /**
   * Opens a connection; resolves once it is open. A refused upgrade is reported with the space's
   * REST answer (401, 403, 404 …) when there is one, since a WebSocket never shows the status.
   * @internal use `client.connect()`
   */
  static async open(
    spaceId: string,
    deps: ConnectionDeps,
    options: ConnectOptions = {},
  ): Promise<StelloConnection> {
    const connection = new StelloConnection(spaceId, deps, options);
    try {
      await connection.#openSocket(options.signal);
    } catch (error) {
      if (options.signal?.aborted) throw options.signal.reason;
      const path = `/spaces/${encodeURIComponent(spaceId)}`;
      await deps.http.json({ method: 'GET', path, signal: options.signal });
      throw new StelloApiError('CONNECTION_FAILED', `could not open the WebSocket of space "${spaceId}"`, {
        cause: error,
      });
    }
    connection.#setStatus('open');
    return connection;
  }

  /** Where the connection stands. */
  get status(): ConnectionStatus {
    return this.#status;
  }

  /** `session.enter`: binds the connection to a session (entered again after reconnects). */
  enter(sessionId: string, options: CallOptions = {}): Promise<SessionBootstrap> {
    this.#sessionId = sessionId;
    return this.#request({ kind: 'enter', sessionId }, options.signal) as Promise<SessionBootstrap>;
  }

  /** `session.leave`: leaves the entered session (its memory is consolidated). */
  async leave(options: CallOptions = {}): Promise<void> {
    this.#sessionId = null;
    await this.#request({ kind: 'leave' }, options.signal);
  }

  /** `session.fork`: a child of the entered session. Rejects with `CONNECTION_LOST` after a drop. */
  fork(options: ForkSessionBody & CallOptions): Promise<SessionInfo> {
    const { signal, ...body } = options;
    return this.#request({ kind: 'fork', options: body }, signal) as Promise<SessionInfo>;
  }

  /**
   * `session.consolidate`: consolidates a session's memory now (the entered one unless
   * `sessionId` names another of the space) and answers the new memory.
   */
  consolidate(options: { sessionId?: string } & CallOptions = {}): Promise<ConsolidateResult> {
    const request = { kind: 'consolidate' as const, sessionId: options.sessionId };
    return this.#request(request, options.signal) as Promise<ConsolidateResult>;
  }

  /** `space.integrate`: integrates the space now: the root's synthesis and the insights it sent. */
  integrate(options: CallOptions = {}): Promise<IntegrateResult> {
    return this.#request({ kind: 'integrate' }, options.signal) as Promise<IntegrateResult>;
  }

  /**
   * `session.stream`: a streamed turn on the entered session. Iterate it with `for await`; it
   * survives reconnects (resumed after its last `seq`). Aborting `signal` stops listening; the
   * turn goes on unless cancelled.
   */
  stream(options: ConnectionTurnOptions): TurnStream {
    return this.#turn('session.stream', options).stream;
  }

  /** `session.message`: a turn on the entered session, resolved with its result once stored. */
  send(options: ConnectionTurnOptions): Promise<TurnResult> {
    return this.#turn('session.message', options).stream.result;
  }

  /**
   * Cancels a turn: `session.cancel` on this connection when it is in the turn's session, else
   * the REST route. The turn's stream then ends with `turn.cancelled`.
   */
  async cancel(turnId: string, options: CallOptions = {}): Promise<void> {
    const socket = this.#socket;
    const sessionId = this.#turnEntry(turnId)?.sessionId ?? this.#sessionId;
    // The server cancels in the socket's entered session: a turn of another one goes by REST.
    if (socket?.readyState === WS_OPEN && this.#enteredId !== null && sessionId === this.#enteredId) {
      socket.send(JSON.stringify({ type: 'session.cancel', turnId }));
      return;
    }
    if (sessionId === null) throw new StelloApiError('NOT_ENTERED', "cancel needs the turn's session");
    await this.#deps.turns.cancel({ spaceId: this.spaceId, sessionId, turnId, signal: options.signal });
  }

  /**
   * `space.subscribe`: the space's events, live only (re-read the state after subscribing and
   * after a reconnect). Several subscribers share one subscription.
   */
  async subscribe(options: CallOptions = {}): Promise<SpaceEventStream> {
    const queue: PushQueue<SpaceEvent> = new PushQueue(() => {
      this.#unsubscribe(queue);
    });
    const first = this.#subscribers.size === 0;
    this.#subscribers.add(queue);
    if (first) {
      try {
        await this.#request({ kind: 'subscribe' }, options.signal);
      } catch (error) {
        this.#subscribers.delete(queue);
        throw error;
      }
    }
    return {
      [Symbol.asyncIterator]: () => queue,
      close: async () => {
        await queue.return();
      },
    };
  }

  /** Closes the connection for good: pending calls and unfinished streams fail with `CONNECTION_LOST`. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const socket = this.#socket;
    this.#socket = null;
    socket?.close(CLOSE_NORMAL, 'client closed');
    this.#failAll(new StelloApiError('CONNECTION_LOST', 'the connection was closed by the client'));
    this.#setStatus('closed');
  }

  #turn(mode: 'session.stream' | 'session.message', options: ConnectionTurnOptions): TurnStreamSink {
    const turnId = options.turnId ?? crypto.randomUUID();
    const sink = createTurnStream(turnId, { cancel: () => this.cancel(turnId) });
    if (this.#closed) {
      sink.fail(new StelloApiError('CONNECTION_LOST', 'the connection is closed'));
      return sink;
    }
    if (this.#sessionId === null) {
      sink.fail(new StelloApiError('NOT_ENTERED', 'enter a session before a turn'));
      return sink;
    }
    const signal = options.signal;
    if (signal?.aborted) {
      sink.fail(signal.reason);
      return sink;
    }
    // The entry stays until the turn's end arrives, so later answers keep their order.
    signal?.addEventListener('abort', () => sink.fail(signal.reason), { once: true });
    const entry: Pending = {
      kind: 'turn',
      mode,
      sessionId: this.#sessionId,
      input: options.input,
      concurrency: options.concurrency,
      sink,
      resumed: false,
    };
    this.#enqueue(entry);
    return sink;
  }

  #request(request: Request, signal: AbortSignal | undefined): Promise<unknown> {
    if (this.#closed)
      return Promise.reject(new StelloApiError('CONNECTION_LOST', 'the connection is closed'));
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      let settled = false;
      const settle = (fn: () => void) => {
        if (settled) return;
        settled = true;
        fn();
      };
      // An aborted call stops waiting; its entry stays until the server answers it, to keep order.
      signal?.addEventListener('abort', () => settle(() => reject(signal.reason)), { once: true });
      this.#enqueue({
        ...request,
        resolve: (value) => settle(() => resolve(value)),
        reject: (error) => settle(() => reject(error)),
      } as Pending);
    });
  }

  #enqueue(entry: Pending): void {
    this.#pending.push(entry);
    const socket = this.#socket;
    if (socket?.readyState === WS_OPEN) socket.send(JSON.stringify(messageOf(entry, this.spaceId)));
  }

  #unsubscribe(queue: PushQueue<SpaceEvent>): void {
    if (!this.#subscribers.delete(queue) || this.#subscribers.size > 0 || this.#closed) return;
    this.#request({ kind: 'unsubscribe' }, undefined).catch(() => {});
  }

  #openSocket(signal?: AbortSignal): Promise<void> {
    const url = `${this.#deps.http.baseUrl.replace(/^http/, 'ws')}/spaces/${encodeURIComponent(this.spaceId)}/ws`;
    // Browsers cannot set headers on a WebSocket: the key goes in a subprotocol entry.
    const socket = new this.#deps.WebSocket(url, [
      WS_SUBPROTOCOL,
      `${WS_KEY_SUBPROTOCOL_PREFIX}${this.#deps.http.apiKey}`,
    ]);
    return new Promise((resolve, reject) => {
      let opened = false;
      const onAbort = () => {
        socket.close(CLOSE_NORMAL, 'aborted');
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      socket.addEventListener('open', () => {
        signal?.removeEventListener('abort', onAbort);
        if (this.#closed) {
          socket.close(CLOSE_NORMAL, 'client closed');
          reject(new StelloApiError('CONNECTION_LOST', 'the connection was closed by the client'));
          return;
        }
        opened = true;
        this.#socket = socket;
        this.#enteredId = null;
        resolve();
      });
      socket.addEventListener('close', (event) => {
        signal?.removeEventListener('abort', onAbort);
        if (!opened) {
          reject(
            new StelloApiError('CONNECTION_FAILED', `the WebSocket closed before it opened (${event.code})`),
          );
          return;
        }
        if (this.#socket === socket) this.#onDrop();
      });
      socket.addEventListener('message', (event) => {
        if (this.#socket === socket && typeof event.data === 'string') this.#onFrame(event.data);
      });
      // A failed socket also fires `close`, which does the work.
      socket.addEventListener('error', () => {});
    });
  }

  #onDrop(): void {
    this.#socket = null;
    this.#enteredId = null;
    if (this.#closed) return;
    if (this.#options.reconnect === false) {
      this.#closed = true;
      this.#failAll(new StelloApiError('CONNECTION_LOST', 'the WebSocket closed'));
      this.#setStatus('closed');
      return;
    }
    this.#reconnect().catch(() => {});
  }

  async #reconnect(): Promise<void> {
    const policy = this.#options.reconnect || {};
    const retries = policy.retries ?? DEFAULT_RECONNECT_RETRIES;
    const delays = { minDelayMs: DEFAULT_RECONNECT_MIN_DELAY_MS, ...policy };
    this.#setStatus('reconnecting');
    for (let attempt = 1; attempt <= retries; attempt += 1) {
      await sleep(backoffDelayMs(attempt, delays));
      if (this.#closed) return;
      try {
        await this.#openSocket();
      } catch {
        continue;
      }
      this.#resendAll();
      this.#setStatus('open');
      return;
    }
    this.#closed = true;
    this.#failAll(
      new StelloApiError('CONNECTION_LOST', `the WebSocket could not reconnect after ${retries} tries`),
    );
    this.#setStatus('closed');
  }

  /** After a reconnect: enter and subscribe again, resume unfinished turns, send what waited. */
  #resendAll(): void {
    const kept: Pending[] = [];
    for (const entry of this.#pending) {
      // The new socket is in no session: a leave is done; a fork's outcome is unknown.
      if (entry.kind === 'leave') entry.resolve(undefined);
      else if (entry.kind === 'fork') {
        entry.reject(
          new StelloApiError('CONNECTION_LOST', 'the connection dropped before the fork was answered'),
        );
      } else kept.push(entry);
    }
    const again: Pending[] = [];
    const ignore = { resolve: () => {}, reject: () => {} };
    if (this.#sessionId !== null && !kept.some((entry) => entry.kind === 'enter')) {
      again.push({ kind: 'enter', sessionId: this.#sessionId, ...ignore });
    }
    if (this.#subscribers.size > 0 && !kept.some((entry) => entry.kind === 'subscribe')) {
      again.push({ kind: 'subscribe', ...ignore });
    }
    this.#pending = [...again, ...kept];
    const socket = this.#socket;
    for (const entry of this.#pending) socket?.send(JSON.stringify(messageOf(entry, this.spaceId)));
  }

  #onFrame(text: string): void {
    let frame: { type?: unknown; turnId?: unknown; [field: string]: unknown };
    try {
      frame = JSON.parse(text) as typeof frame;
    } catch {
      return;
    }
    switch (frame.type) {
      case 'space.event':
        for (const queue of this.#subscribers) queue.push(frame.event as SpaceEvent);
        return;
      case 'session.entered':
        this.#enteredId = frame.sessionId as string;
        this.#take('enter')?.resolve(frame.bootstrap);
        return;
      case 'session.left':
        this.#enteredId = null;
        this.#take('leave')?.resolve(undefined);
        return;
      case 'session.forked':
        this.#take('fork')?.resolve(frame.child);
        return;
      case 'session.consolidated':
        this.#take('consolidate')?.resolve({ sessionId: frame.sessionId, memory: frame.memory });
        return;
      case 'space.integrated':
        this.#take('integrate')?.resolve({ synthesis: frame.synthesis, insights: frame.insights });
        return;
      case 'space.subscribed':
        this.#take('subscribe')?.resolve(undefined);
        return;
      case 'space.unsubscribed':
        this.#take('unsubscribe')?.resolve(undefined);
        return;
    }
    const turn =
      typeof frame.turnId === 'string' && frame.turnId !== '' ? this.#turnEntry(frame.turnId) : undefined;
    if (turn) {
      if (frame.type === 'turn.complete') {
        turn.sink.complete(frame.result as TurnResult);
        this.#remove(turn);
      } else {
        turn.sink.accept(frame as Parameters<TurnStreamSink['accept']>[0]);
        // A `session.message` answers a cancel with `turn.cancelled` and later its own error
        // (without a turn id): the entry waits for that error, so it cannot answer a later message.
        const ends = turn.mode === 'session.stream' || turn.resumed || frame.type === 'error';
        if (ends && TERMINAL_FRAMES.has(frame.type as string)) this.#remove(turn);
      }
      return;
    }
    // An error without a turn id answers the oldest message, the one the server was handling.
    if (frame.type === 'error' && typeof frame.turnId !== 'string') {
      const head = this.#pending.shift();
      if (!head) return;
      const error = errorFromFrame(frame);
      if (head.kind === 'turn') head.sink.fail(error);
      else head.reject(error);
    }
  }

  /** Takes the oldest entry of a kind: the server answers messages in order. */
  #take(kind: Exclude<Pending['kind'], 'turn'>): Deferred | undefined {
    const entry = this.#pending.find((candidate) => candidate.kind === kind);
    if (!entry || entry.kind === 'turn') return undefined;
    this.#remove(entry);
    return entry;
  }

  #turnEntry(turnId: string): Extract<Pending, { kind: 'turn' }> | undefined {
    return this.#pending.find(
      (entry): entry is Extract<Pending, { kind: 'turn' }> =>
        entry.kind === 'turn' && entry.sink.stream.turnId === turnId,
    );
  }

  #remove(entry: Pending): void {
    const index = this.#pending.indexOf(entry);
    if (index >= 0) this.#pending.splice(index, 1);
  }

  #failAll(error: StelloApiError): void {
    const pending = this.#pending;
    this.#pending = [];
    for (const entry of pending) {
      if (entry.kind === 'turn') entry.sink.fail(error);
      else entry.reject(error);
    }
    for (const queue of this.#subscribers) queue.fail(error);
    this.#subscribers.clear();
  }

  #setStatus(status: ConnectionStatus): void {
    if (this.#status === status) return;
    this.#status = status;
    this.#options.onStatus?.(status);
  }
}
