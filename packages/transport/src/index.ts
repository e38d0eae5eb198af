/**
 * @module @stello-ai/transport
 * The wire of Stello Server: the Hono REST app (`createApp`) and the WebSocket gateway on `ws`
 * (`attachWebSocketGateway`), with one table from error codes to HTTP statuses.
 */

// REST
export { createApp } from './create-app';
export { DEFAULT_BODY_BYTES, DEFAULT_WS_FRAME_BYTES } from './types';
export type { AuthEnv, TransportDeps, TransportLimits } from './types';
export { NEXT_CURSOR_HEADER } from './routes/spaces';
export type { RecordView } from './routes/sessions';

// WebSocket
export { attachWebSocketGateway, DEFAULT_HEARTBEAT_INTERVAL_MS } from './ws/attach-web-socket-gateway';
export type { WebSocketGateway, WebSocketGatewayOptions } from './ws/attach-web-socket-gateway';
export { WS_KEY_SUBPROTOCOL_PREFIX, WS_SUBPROTOCOL } from './ws/protocol';
export type { ClientMessage, ClientMessageType, ServerFrame, WsErrorCode, WsProtocolErrorCode } from './ws/protocol';

// Errors
export { TransportError } from './errors';
export type { TransportErrorCode } from './errors';
export { ERROR_STATUS, toPublicError } from './error-mapping';
export type { ErrorCode, InfrastructureErrorCode, PublicError } from './error-mapping';
