import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { ConnectionManager, silentLogger } from '@stello-ai/runtime';
import { WebSocket, WebSocketServer } from 'ws';
import { toPublicError } from '../error-mapping';
import { TransportError } from '../errors';
import { TurnHub } from '../live/turn-hub';
import {
  DEFAULT_WS_CONNECTIONS_PER_USER,
  DEFAULT_WS_FRAME_BYTES,
  DEFAULT_WS_MAX_PROTOCOL_ERRORS,
  DEFAULT_WS_SEND_BUFFER_BYTES,
  type TransportDeps,
} from '../types';
import { startKeepAlive } from './keep-alive';
import { WS_CLOSE_GOING_AWAY, WS_SUBPROTOCOL } from './protocol';
import { authorizeUpgrade, rejectUpgrade, type UpgradeIdentity } from './upgrade';
import { WS_CLOSE_POLICY_VIOLATION, WsConnection } from './ws-connection';

/** Default interval of the heartbeat ping: 30 s. */
export const DEFAULT_HEARTBEAT_INTERVAL_MS = 30_000;
// How long close() waits for clients to answer the close handshake before cutting them off.
const CLOSE_GRACE_MS = 2_000;

/** Options of `attachWebSocketGateway`: the transport deps plus the WebSocket settings. */
export interface WebSocketGatewayOptions extends TransportDeps {
  /** Connection state (default: a new `ConnectionManager`). */
  connections?: ConnectionManager;
  /** Interval of the heartbeat ping; a peer that missed the previous pong is terminated (default 30 s). */
  heartbeatIntervalMs?: number;
}

/** The running WebSocket gateway. */
export interface WebSocketGateway {
  /** The connection state of every open socket. */
  readonly connections: ConnectionManager;
  /** Number of open sockets. */
  readonly size: number;
  /** Closes every socket (code 1001), refuses new upgrades (503) and stops the heartbeat. */
  close(): Promise<void>;
}

/**
 * Serves the WebSocket protocol on `GET /spaces/:spaceId/ws` of an `http.Server` (`ws` in
 * `noServer` mode on the `upgrade` event). The key comes from the `X-API-Key` header, or for
 * browsers from a `stello.key.<KEY>` subprotocol offered with `stello.v1` (the server selects
 * `stello.v1` and never echoes the key). Refused upgrades get a plain HTTP response with the REST
 * status and `{ error, code }` body; no failure during an upgrade escapes.
 *
 * @example
 * const server = serve({ fetch: app.fetch, port: 3000 });
 * const gateway = attachWebSocketGateway(server, { spaceManager, agentPool, userStore });
 */
export function attachWebSocketGateway(server: Server, options: WebSocketGatewayOptions): WebSocketGateway {
  const logger = options.logger ?? silentLogger;
  const connections = options.connections ?? new ConnectionManager();
  const live = new Map<WebSocket, WsConnection>();
  const turnHub = options.turnHub ?? new TurnHub();
  const limits = options.limits ?? {};
  const sendBufferBytes = limits.wsSendBufferBytes ?? DEFAULT_WS_SEND_BUFFER_BYTES;
  const maxProtocolErrors = limits.wsMaxProtocolErrors ?? DEFAULT_WS_MAX_PROTOCOL_ERRORS;
  const connectionsPerUser = limits.wsConnectionsPerUser ?? DEFAULT_WS_CONNECTIONS_PER_USER;
  // Open (and opening) sockets per user: a slot is taken when the upgrade is authorized.
  const slots = new Map<string, number>();
  const socketsOfUser = new Map<string, Set<WebSocket>>();
  const takeSlot = (userId: string): boolean => {
    const used = slots.get(userId) ?? 0;
    if (used >= connectionsPerUser) return false;
    slots.set(userId, used + 1);
    return true;
  };
  const freeSlot = (userId: string): void => {
    const used = (slots.get(userId) ?? 1) - 1;
    if (used <= 0) slots.delete(userId);
    else slots.set(userId, used);
  };
  // A revoked or replaced key closes its user's sockets at once (the next upgrade needs a valid key).
  const stopKeyWatch = options.userStore.onKeysChanged?.((userId) => {
    for (const socket of socketsOfUser.get(userId) ?? []) {
      logger.info('ws.key_revoked', { userId });
      socket.close(WS_CLOSE_POLICY_VIOLATION, 'API key revoked');
    }
  });
  const keepAlive = startKeepAlive(options.heartbeatIntervalMs ?? DEFAULT_HEARTBEAT_INTERVAL_MS);
  let closing: Promise<void> | null = null;

  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: options.limits?.wsFrameBytes ?? DEFAULT_WS_FRAME_BYTES,
    perMessageDeflate: false,
    clientTracking: false,
    // Select stello.v1 when offered; the key entry is never echoed back.
    handleProtocols: (protocols) => (protocols.has(WS_SUBPROTOCOL) ? WS_SUBPROTOCOL : false),
  });
  wss.on('error', (error) => logger.error('ws.server_error', { error }));

  const onConnection = (socket: WebSocket, identity: UpgradeIdentity): void => {
    socket.on('error', (error) => logger.warn('ws.socket_error', { error: error.message }));
    if (closing) {
      freeSlot(identity.userId);
      socket.close(WS_CLOSE_GOING_AWAY, 'server shutting down');
      return;
    }
    const userSockets = socketsOfUser.get(identity.userId) ?? new Set<WebSocket>();
    socketsOfUser.set(identity.userId, userSockets);
    userSockets.add(socket);
    const connection = new WsConnection(socket, {
      connectionId: randomUUID(),
      userId: identity.userId,
      spaceId: identity.spaceId,
      agentPool: options.agentPool,
      ...(options.spaceEvents && { spaceEvents: options.spaceEvents }),
      ...(options.userLimits && { userLimits: options.userLimits }),
      ...(options.turnRelay && { turnRelay: options.turnRelay }),
      connections,
      logger,
      sendBufferBytes,
      maxProtocolErrors,
      turnHub,
      ...(options.keyLimits && { keyLimits: options.keyLimits }),
      ...(options.tracer && { tracer: options.tracer }),
    });
    live.set(socket, connection);
    keepAlive.track(socket);
    logger.info('ws.connect', {
      connectionId: connection.id,
      userId: identity.userId,
      spaceId: identity.spaceId,
    });
    socket.on('message', (data, isBinary) => connection.receive(data, isBinary));
    socket.on('close', (code) => {
      live.delete(socket);
      freeSlot(identity.userId);
      userSockets.delete(socket);
      if (userSockets.size === 0) socketsOfUser.delete(identity.userId);
      keepAlive.untrack(socket);
      logger.info('ws.disconnect', { connectionId: connection.id, code });
      void connection.close();
    });
  };

  const handleUpgrade = async (request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> => {
    const onSocketError = (error: Error) => logger.warn('ws.upgrade_socket_error', { error: error.message });
    socket.on('error', onSocketError);
    let identity: UpgradeIdentity;
    try {
      if (closing) throw new TransportError('UNAVAILABLE', 'server shutting down');
      identity = await authorizeUpgrade(request, options);
      if (!takeSlot(identity.userId)) {
        throw new TransportError(
          'TOO_MANY_CONNECTIONS',
          `at most ${connectionsPerUser} WebSockets may be open per user; close one first`,
        );
      }
    } catch (error) {
      const publicError = toPublicError(error);
      const fields = { status: publicError.status, code: publicError.code, error };
      if (publicError.status >= 500) logger.error('ws.upgrade_rejected', fields);
      else logger.info('ws.upgrade_rejected', { status: publicError.status, code: publicError.code });
      rejectUpgrade(socket, publicError);
      return;
    }
    // The client may have gone while we checked its key.
    if (socket.destroyed) {
      freeSlot(identity.userId);
      return;
    }
    // ws answers a malformed handshake itself and never calls back: the slot is freed on close.
    let connected = false;
    socket.once('close', () => {
      if (!connected) freeSlot(identity.userId);
    });
    wss.handleUpgrade(request, socket, head, (ws) => {
      connected = true;
      socket.off('error', onSocketError);
      onConnection(ws, identity);
    });
  };

  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer): void => {
    handleUpgrade(request, socket, head).catch((error: unknown) => {
      logger.error('ws.upgrade_failed', { error });
      socket.destroy();
    });
  };
  server.on('upgrade', onUpgrade);

  const closeAll = async (): Promise<void> => {
    keepAlive.stop();
    stopKeyWatch?.();
    const sockets = [...live.keys()];
    const closed = sockets.map(
      (socket) =>
        new Promise<void>((resolve) => {
          if (socket.readyState === WebSocket.CLOSED) return resolve();
          socket.once('close', () => resolve());
          socket.close(WS_CLOSE_GOING_AWAY, 'server shutting down');
        }),
    );
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, CLOSE_GRACE_MS);
      timer.unref();
    });
    await Promise.race([Promise.all(closed), grace]);
    clearTimeout(timer);
    for (const socket of sockets) {
      if (socket.readyState !== WebSocket.CLOSED) socket.terminate();
    }
    await new Promise<void>((resolve) => wss.close(() => resolve()));
  };

  return {
    connections,
    get size() {
      return live.size;
    },
    close() {
      closing ??= closeAll();
      return closing;
    },
  };
}
