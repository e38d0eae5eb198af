import { type IncomingMessage, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { isUuid } from '@stello-ai/runtime';
import type { PublicError } from '../error-mapping';
import { errorBody } from '../error-mapping';
import { TransportError } from '../errors';
import { authenticateKey } from '../middleware/auth';
import { requireOwnedSpace } from '../middleware/space-access';
import type { TransportAuthenticator, TransportSpaceStore } from '../types';
import { WS_KEY_SUBPROTOCOL_PREFIX, WS_SUBPROTOCOL } from './protocol';

// Exactly `/spaces/<id>/ws`; the query string is split off before matching.
const WS_PATH = /^\/spaces\/([^/]+)\/ws$/;

/** Who may open a socket, once the upgrade request passed every check. */
export interface UpgradeIdentity {
  userId: string;
  spaceId: string;
}

/** The offered subprotocols of a handshake, in order. */
export function offeredSubprotocols(request: IncomingMessage): string[] {
  const header = request.headers['sec-websocket-protocol'];
  if (!header) return [];
  return header
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0);
}

/**
 * The API key of an upgrade: the `X-API-Key` header, else a `stello.key.<KEY>` subprotocol entry
 * (browsers cannot set headers), which is only valid when `stello.v1` is offered too.
 */
function upgradeKey(request: IncomingMessage): string | null {
  const header = request.headers['x-api-key'];
  if (typeof header === 'string' && header.length > 0) return header;
  const offered = offeredSubprotocols(request);
  const keyEntry = offered.find((entry) => entry.startsWith(WS_KEY_SUBPROTOCOL_PREFIX));
  if (keyEntry === undefined) return null;
  if (!offered.includes(WS_SUBPROTOCOL)) {
    throw new TransportError(
      'INVALID_HANDSHAKE',
      `the ${WS_KEY_SUBPROTOCOL_PREFIX}<key> subprotocol must be offered with ${WS_SUBPROTOCOL}`,
    );
  }
  return keyEntry.slice(WS_KEY_SUBPROTOCOL_PREFIX.length);
}

/**
 * Checks an upgrade request in the REST order: path (404), space id (400), key (401), space
 * ownership (404/403). Returns the identity of the connection or throws a coded error.
 */
export async function authorizeUpgrade(
  request: IncomingMessage,
  deps: { userStore: TransportAuthenticator; spaceManager: Pick<TransportSpaceStore, 'getSpace'> },
): Promise<UpgradeIdentity> {
  const path = (request.url ?? '').split('?', 1)[0] ?? '';
  const match = WS_PATH.exec(path);
  if (!match) throw new TransportError('NOT_FOUND', 'no such route');
  const spaceId = match[1] ?? '';
  if (!isUuid(spaceId)) throw new TransportError('INVALID_ID', 'invalid spaceId: expected a UUID');
  const userId = await authenticateKey(deps.userStore, upgradeKey(request));
  await requireOwnedSpace(deps.spaceManager, spaceId, userId);
  return { userId, spaceId };
}

/** Answers a refused upgrade with a plain HTTP response (`{ error, code }` JSON) and closes the socket. */
export function rejectUpgrade(socket: Duplex, error: PublicError): void {
  if (socket.destroyed) return;
  const body = JSON.stringify(errorBody(error));
  const head = [
    `HTTP/1.1 ${error.status} ${STATUS_CODES[error.status] ?? 'Error'}`,
    'Connection: close',
    'Content-Type: application/json; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
  ];
  socket.once('finish', () => socket.destroy());
  socket.end(`${head.join('\r\n')}\r\n\r\n${body}`);
}
