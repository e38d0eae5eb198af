// One file over the size rule on purpose: one connection's message handlers share its private
// state (the ordered queue, the entered session, the streaming turn); parsing and delta batching
// are in parse-client-message.ts and delta-batcher.ts.
import type { Tracer } from '@opentelemetry/api';
import type { StelloAgent, TurnOptions } from '@stello-ai/core';
import { isCodedError } from '@stello-ai/errors';
import { type ConnectionManager, type Logger, type SpaceEventHub, withLogContext } from '@stello-ai/runtime';
import { type RawData, WebSocket } from 'ws';
import { admitSessions, admitTurn } from '../admission';
import { toPublicError } from '../error-mapping';
import { followTurn } from '../live/follow-turn';
import type { SeqFrame, TurnHub } from '../live/turn-hub';
import type { TurnRelay } from '../live/turn-relay';
import { admitKeyTurn, type TransportKeyLimits } from '../middleware/rate-limit';
import { toForkOptions } from '../routes/sessions';
import { runLoggedTurn, type TurnLogContext } from '../turn-log';
import type { TransportAgentSource, TransportUserLimits } from '../types';
import { DeltaBatcher } from './delta-batcher';
import { frameText, ProtocolFailure, parseClientMessage, turnOptions } from './parse-client-message';
import { CLIENT_MESSAGE_SCHEMAS, type ClientMessage, type ServerFrame, type WsErrorCode } from './protocol';
import { SpaceSubscription } from './space-subscription';

export { STREAM_HIGH_WATER_BYTES } from './delta-batcher';

/** Messages one connection may have pending (the running one included); more are refused with `TOO_MANY_MESSAGES`. */
export const MAX_PENDING_MESSAGES = 32;

/** Close code for a peer that broke the protocol too often (RFC 6455 "policy violation"). */
export const WS_CLOSE_POLICY_VIOLATION = 1008;
/** Close code for a peer that does not read what it is sent ("try again later"). */
export const WS_CLOSE_TRY_AGAIN_LATER = 1013;
/** How long a closing peer has to finish the close handshake before its socket is destroyed. */
const CLOSE_HANDSHAKE_MS = 1_000;

/** What one connection needs from the gateway. */
export interface WsConnectionOptions {
  connectionId: string;
  userId: string;
  spaceId: string;
  agentPool: TransportAgentSource;
  /** Source of `space.subscribe` (absent: the server has no space events). */
  spaceEvents?: Pick<SpaceEventHub, 'subscribe'>;
  connections: ConnectionManager;
  logger: Logger;
  /** Unsent bytes the peer may leave queued before it is disconnected (1013). */
  sendBufferBytes: number;
  /** Protocol errors the peer may cause before it is disconnected (1008). */
  maxProtocolErrors: number;
  /** Where streamed frames are kept for resumes. */
  turnHub: TurnHub;
  /** Live frames of turns streamed by other processes. */
  turnRelay?: TurnRelay;
  /** Per-user quotas and the running-turns cap (absent: unbounded). */
  userLimits?: TransportUserLimits;
  /** Per-key limits asked before each turn (absent: none). */
  keyLimits?: TransportKeyLimits;
  /** Opens a span per turn (absent: no tracing). */
  tracer?: Tracer;
}

/**
 * One WebSocket connection of the gateway: it handles the client's messages strictly in the
 * order received (a per-connection promise queue: a long stream delays only this connection),
 * tracks the entered session, and on disconnect detaches without leaving. A running turn is
 * never cancelled by a disconnect; messages still queued behind it are dropped.
 */
export class WsConnection {
  readonly #socket: WebSocket;
  readonly #options: WsConnectionOptions;
  #queue: Promise<void> = Promise.resolve();
  #pending = 0;
  #closed = false;
  // The agent that holds this connection's attachment; detach goes to the same instance.
  #agent: StelloAgent | null = null;
  #sessionId: string | null = null;
  readonly #deltas: DeltaBatcher;
  #protocolErrors = 0;
  #received = 0;
  // The streamed turn of this connection, and the seq of its next frame.
  #streamingTurnId: string | null = null;
  #streamSeq: (() => number) | null = null;
  // Set once the connection is being dropped for abuse: nothing more is read or sent.
  #dropped = false;
  #sendFailureLogged = false;
  readonly #spaceEvents: SpaceSubscription;

  constructor(socket: WebSocket, options: WsConnectionOptions) {
    this.#socket = socket;
    this.#options = options;
    this.#deltas = new DeltaBatcher(socket, (chunk) =>
      this.#send({ type: 'stream.delta', turnId: this.#streamingTurnId ?? '', seq: this.#nextSeq(), chunk }),
    );
    this.#spaceEvents = new SpaceSubscription(
      options.spaceEvents,
      options.spaceId,
      (frame) => this.#send(frame),
      (reason) => this.#drop(WS_CLOSE_TRY_AGAIN_LATER, reason),
    );
    options.connections.bind(options.connectionId, options.userId, options.spaceId);
  }

  /** The connection id (a random UUID). */
  get id(): string {
    return this.#options.connectionId;
  }

  /** Resolves when every queued message has been handled (and, after close, cleaned up). */
  idle(): Promise<void> {
    return this.#queue;
  }

  /** Queues one incoming frame. */
  receive(data: RawData, isBinary: boolean): void {
    if (this.#closed || this.#dropped) return;
    // A cancel must not wait behind the turn it cancels: it is handled as soon as it arrives.
    if (!isBinary && this.#cancelOutOfBand(data)) return;
    if (this.#pending >= MAX_PENDING_MESSAGES) {
      this.#protocolError('TOO_MANY_MESSAGES', 'too many messages are waiting on this connection');
      return;
    }
    this.#pending += 1;
    // Each message gets a request id of its own (the connection id and the message's number, cheap
    // under a flood): every line logged while it is handled carries it.
    this.#received += 1;
    const requestId = `${this.id}.${this.#received}`;
    this.#enqueue(() =>
      withLogContext({ requestId, connectionId: this.id }, async () => {
        try {
          if (!this.#closed) await this.#handle(data, isBinary);
        } finally {
          this.#pending -= 1;
        }
      }),
    );
  }

  /**
   * Marks the connection closed: queued messages that have not started are dropped, the running
   * one completes, then the session is detached (not left) and the connection unbound.
   */
  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#enqueue(() => this.#release());
    }
    return this.#queue;
  }

  #enqueue(task: () => Promise<void>): void {
    this.#queue = this.#queue.then(task).catch((error: unknown) => {
      this.#options.logger.error('ws.task_failed', { connectionId: this.id, error });
    });
  }

  async #release(): Promise<void> {
    const { connections, connectionId, logger } = this.#options;
    this.#spaceEvents.close();
    const sessionId = this.#sessionId;
    const agent = this.#agent;
    this.#sessionId = null;
    this.#agent = null;
    if (sessionId && agent) {
      try {
        await agent.detachSession(sessionId, connectionId);
      } catch (error) {
        logger.warn('ws.detach_failed', { connectionId, sessionId, error });
      }
    }
    connections.unbind(connectionId);
  }

  async #handle(data: RawData, isBinary: boolean): Promise<void> {
    try {
      await this.#dispatch(parseClientMessage(data, isBinary));
    } catch (error) {
      this.#sendFailure(error);
    }
  }

  async #dispatch(message: ClientMessage): Promise<void> {
    switch (message.type) {
      case 'session.enter':
        return this.#enter(message.sessionId);
      case 'session.leave':
        return this.#leave();
      case 'session.message': {
        const { agent, sessionId } = this.#entered();
        this.#admit(false);
        const release = await admitTurn(this.#options, this.#options.userId);
        try {
          const context = this.#turnContext(sessionId, false, message.turnId);
          const result = await runLoggedTurn(this.#options.logger, context, () =>
            agent.turn(sessionId, message.input, turnOptions(message)),
          );
          this.#send({ type: 'turn.complete', turnId: result.turnId, result });
        } finally {
          release();
        }
        return;
      }
      case 'session.stream': {
        this.#entered();
        const release = await admitTurn(this.#options, this.#options.userId);
        try {
          await this.#stream(message.input, turnOptions(message));
        } finally {
          release();
        }
        return;
      }
      case 'session.resume': {
        const agent = await this.#options.agentPool.getAgent(this.#options.spaceId);
        for await (const frame of followTurn(
          agent,
          this.#options.turnHub,
          message.sessionId,
          message.turnId,
          message.afterSeq,
          undefined,
          this.#options.turnRelay,
        )) {
          this.#send(frame as ServerFrame);
        }
        return;
      }
      case 'session.cancel':
        // Reached only when the cancel could not be handled out of band (it is queued like others).
        return this.#cancel(message.turnId);
      case 'session.fork': {
        const { agent, sessionId } = this.#entered();
        await admitSessions(this.#options, this.#options.userId);
        const child = await agent.forkSession(sessionId, toForkOptions(message.options));
        this.#send({ type: 'session.forked', child });
        return;
      }
      case 'session.consolidate': {
        const sessionId = message.sessionId ?? this.#entered().sessionId;
        const agent = await this.#options.agentPool.getAgent(this.#options.spaceId);
        const release = await admitTurn(this.#options, this.#options.userId);
        try {
          const memory = await agent.consolidateSession(sessionId);
          this.#send({ type: 'session.consolidated', sessionId, memory });
        } finally {
          release();
        }
        return;
      }
      case 'space.integrate': {
        const agent = await this.#options.agentPool.getAgent(this.#options.spaceId);
        const release = await admitTurn(this.#options, this.#options.userId);
        try {
          const { synthesis, insights } = await agent.integrate();
          this.#send({ type: 'space.integrated', synthesis, insights });
        } finally {
          release();
        }
        return;
      }
      case 'space.subscribe':
        return this.#spaceEvents.subscribe(message.spaceId);
      case 'space.unsubscribe':
        return this.#spaceEvents.unsubscribe(message.spaceId);
    }
  }

  #entered(): { agent: StelloAgent; sessionId: string } {
    if (!this.#sessionId || !this.#agent) throw new ProtocolFailure('NOT_ENTERED', 'not in a session');
    return { agent: this.#agent, sessionId: this.#sessionId };
  }

  /** Admits a turn under the key's limits (a `RATE_LIMITED` error frame when over); returns the release. */
  #admit(stream: boolean): () => void {
    const { keyLimits, userId, logger } = this.#options;
    return admitKeyTurn(keyLimits, userId, logger, { transport: 'ws', stream, connectionId: this.id });
  }

  #turnContext(sessionId: string, stream: boolean, turnId: string | undefined): TurnLogContext {
    const { spaceId, tracer } = this.#options;
    const context: TurnLogContext = { transport: 'ws', connectionId: this.id, spaceId, sessionId, stream };
    return tracer ? { ...context, tracer, turnId } : context;
  }

  async #enter(sessionId: string): Promise<void> {
    if (this.#sessionId) throw new ProtocolFailure('ALREADY_ENTERED', 'already in a session, leave first');
    const { agentPool, spaceId, connectionId, connections, logger } = this.#options;
    const agent = await agentPool.getAgent(spaceId);
    // Awaited: an unknown (or other space's) session rejects here, before any holder exists.
    await agent.attachSession(sessionId, connectionId);
    let bootstrap: Awaited<ReturnType<StelloAgent['enterSession']>>;
    try {
      bootstrap = await agent.enterSession(sessionId);
      connections.attachSession(connectionId, sessionId);
    } catch (error) {
      // Nothing may keep the holder of a failed enter (it would pin the agent forever).
      await agent.detachSession(sessionId, connectionId).catch((detachError: unknown) => {
        logger.warn('ws.detach_failed', { connectionId, sessionId, error: detachError });
      });
      throw error;
    }
    this.#agent = agent;
    this.#sessionId = sessionId;
    this.#send({ type: 'session.entered', sessionId, bootstrap });
  }

  async #leave(): Promise<void> {
    const { agent, sessionId } = this.#entered();
    const { connectionId, connections, logger } = this.#options;
    try {
      await agent.leaveSession(sessionId);
    } catch (error) {
      // The client is detached either way; a failed leave only loses its consolidation trigger.
      logger.warn('ws.leave_failed', { connectionId, sessionId, error });
    }
    this.#agent = null;
    this.#sessionId = null;
    connections.detachSession(connectionId);
    try {
      await agent.detachSession(sessionId, connectionId);
    } catch (error) {
      logger.warn('ws.detach_failed', { connectionId, sessionId, error });
    }
    this.#send({ type: 'session.left', sessionId });
  }

  async #stream(input: string, options: TurnOptions): Promise<void> {
    const { agent, sessionId } = this.#entered();
    const release = this.#admit(true);
    let seq = 0;
    let turnId = options.turnId ?? '';
    this.#streamSeq = () => {
      seq += 1;
      return seq;
    };
    try {
      const context = this.#turnContext(sessionId, true, options.turnId);
      await runLoggedTurn(this.#options.logger, context, async () => {
        const stream = agent.stream(sessionId, input, {
          ...options,
          onEvent: (event) => {
            if (event.type === 'delta') return;
            // Tool progress goes out in order with the deltas: pending text first.
            this.#deltas.flush();
            if (event.type === 'tool.call') {
              const { callId, name, input: toolInput } = event;
              this.#send({ type: 'tool.call', turnId, seq: this.#nextSeq(), callId, name, input: toolInput });
            } else {
              const { type: _type, ...outcome } = event;
              this.#send({ type: 'tool.result', turnId, seq: this.#nextSeq(), ...outcome });
            }
          },
        });
        turnId = stream.turnId;
        this.#streamingTurnId = turnId;
        this.#deltas.startTurn();
        // Observed below; this keeps a failure of the iteration from leaving the result unhandled.
        stream.result.catch(() => {});
        try {
          // Drained even when the client is gone, so the turn completes and is stored.
          for await (const chunk of stream) this.#deltas.push(chunk);
        } finally {
          this.#deltas.flush();
        }
        const result = await stream.result;
        this.#send({ type: 'stream.end', turnId, seq: this.#nextSeq(), result });
        return result;
      });
    } catch (error) {
      if (!isCodedError(error, 'TURN_CANCELLED') && !isCodedError(error, 'ABORTED')) {
        // A follower of this turn must learn that it ended; this client gets the usual error frame.
        if (turnId) {
          const { code, message } = toPublicError(error);
          this.#options.turnHub.record({ type: 'error', turnId, seq: this.#nextSeq(), code, message });
        }
        throw error;
      }
      this.#send({ type: 'turn.cancelled', turnId, seq: this.#nextSeq() });
    } finally {
      release();
      this.#streamingTurnId = null;
      this.#streamSeq = null;
    }
  }

  #nextSeq(): number {
    return this.#streamSeq?.() ?? 0;
  }

  /**
   * Handles a `session.cancel` frame at once when it is one (well-formed, in an entered session);
   * true when it did. Anything else goes through the ordered queue, which reports its errors.
   */
  #cancelOutOfBand(data: RawData): boolean {
    let value: unknown;
    try {
      value = JSON.parse(frameText(data));
    } catch {
      return false;
    }
    if ((value as { type?: unknown } | null)?.type !== 'session.cancel' || !this.#sessionId) return false;
    const parsed = CLIENT_MESSAGE_SCHEMAS['session.cancel'].safeParse(value);
    if (!parsed.success) return false;
    this.#cancel(parsed.data.turnId).catch((error: unknown) => this.#sendFailure(error));
    return true;
  }

  async #cancel(turnId: string): Promise<void> {
    const { agent, sessionId } = this.#entered();
    const outcome = await agent.cancelTurn(sessionId, turnId);
    // The stream of a turn running here reports its own end (`turn.cancelled` with its seq).
    if (this.#streamingTurnId !== turnId) this.#send({ type: 'turn.cancelled', turnId: outcome.turnId });
  }

  /** Answers a protocol error, and drops a peer that keeps making them. */
  #protocolError(code: WsErrorCode, message: string, details?: unknown): void {
    this.#protocolErrors += 1;
    if (this.#protocolErrors > this.#options.maxProtocolErrors) {
      this.#drop(WS_CLOSE_POLICY_VIOLATION, 'too many protocol errors');
      return;
    }
    this.#sendError(code, message, details);
  }

  /**
   * Disconnects an abusive peer: a close frame, then the socket is destroyed if the peer does not
   * answer it at once (one that does not read never will). Logged once per connection.
   */
  #drop(code: number, reason: string): void {
    if (this.#dropped) return;
    this.#dropped = true;
    this.#deltas.discard();
    const socket = this.#socket;
    this.#options.logger.warn('ws.dropped', {
      connectionId: this.id,
      code,
      reason,
      protocolErrors: this.#protocolErrors,
      bufferedBytes: socket.bufferedAmount,
    });
    if (socket.readyState === WebSocket.OPEN) socket.close(code, reason);
    const timer = setTimeout(() => {
      if (socket.readyState !== WebSocket.CLOSED) socket.terminate();
    }, CLOSE_HANDSHAKE_MS);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
  }

  #sendFailure(error: unknown): void {
    if (error instanceof ProtocolFailure) {
      this.#protocolError(error.code, error.message, error.details);
      return;
    }
    const publicError = toPublicError(error);
    if (publicError.status >= 500) {
      this.#options.logger.error('ws.handler_error', {
        connectionId: this.id,
        code: publicError.code,
        error,
      });
    }
    // Real faults are HANDLER_ERROR; anything with a stable code the client can act on keeps it.
    if (publicError.status === 500) this.#sendError('HANDLER_ERROR', 'internal error');
    else this.#sendError(publicError.code, publicError.message, publicError.details);
  }

  #sendError(code: WsErrorCode, message: string, details?: unknown): void {
    this.#send(
      details === undefined ? { type: 'error', message, code } : { type: 'error', message, code, details },
    );
  }

  #send(frame: ServerFrame): void {
    // A streamed turn's frames are kept for resumes, whether or not this peer is still there.
    if ('seq' in frame && this.#streamingTurnId !== null && frame.turnId === this.#streamingTurnId) {
      this.#options.turnHub.record(frame as SeqFrame);
    }
    // A closed or dropped peer is skipped: its turn still completes and is stored.
    if (this.#dropped || this.#socket.readyState !== WebSocket.OPEN) return;
    // A peer that does not read must not grow the server's memory: past the cap it is dropped.
    if (this.#socket.bufferedAmount > this.#options.sendBufferBytes) {
      this.#drop(WS_CLOSE_TRY_AGAIN_LATER, 'send buffer full: the client is not reading');
      return;
    }
    const text = JSON.stringify(frame);
    this.#socket.send(text, (error) => {
      if (!error || this.#sendFailureLogged) return;
      // One line per connection: a dead peer fails every later send the same way.
      this.#sendFailureLogged = true;
      this.#options.logger.warn('ws.send_failed', { connectionId: this.id, error: error.message });
    });
  }
}
