/**
 * @module @stello-ai/transport
 * The wire of Stello Server: the Hono REST app (`createApp`) and the WebSocket gateway on `ws`
 * (`attachWebSocketGateway`), with one table from error codes to HTTP statuses.
 */

// OpenAPI: the document of `GET /openapi.json`, generated from @stello-ai/protocol's schemas.
export { createAsyncApiDocument } from './asyncapi/document';
// REST
export { createApp } from './create-app';
export type { ErrorCode, InfrastructureErrorCode, PublicError } from './error-mapping';
export { ERROR_STATUS, toPublicError } from './error-mapping';
export type { TransportErrorCode } from './errors';
// Errors
export { TransportError } from './errors';
// Live turns: the frames of this process's streamed turns, for resumes.
export { DEFAULT_TURN_FRAMES_TTL_MS, type SeqFrame, TurnHub, type TurnHubOptions } from './live/turn-hub';
export {
  type RelayChannel,
  TURN_FOLLOW_EVENT,
  TURN_FRAMES_EVENT,
  TurnRelay,
} from './live/turn-relay';
export { DRAIN_MAX_BYTES, DRAIN_MAX_MS, drainRequest } from './middleware/drain-request';
export type { TransportKeyLimits } from './middleware/rate-limit';
export { API_VERSION, createOpenApiDocument } from './openapi/document';
export type { RecordView } from './routes/sessions';
export { NEXT_CURSOR_HEADER, PREV_CURSOR_HEADER } from './routes/spaces';
export type {
  AuthEnv,
  TransportAgentSource,
  TransportAuthenticator,
  TransportDeps,
  TransportLimits,
  TransportSpaceStore,
  TransportSubtreeSource,
  TransportUserLimits,
} from './types';
export { DEFAULT_BODY_BYTES, DEFAULT_WS_FRAME_BYTES } from './types';
export type { WebSocketGateway, WebSocketGatewayOptions } from './ws/attach-web-socket-gateway';
// WebSocket
export { attachWebSocketGateway, DEFAULT_HEARTBEAT_INTERVAL_MS } from './ws/attach-web-socket-gateway';
export type {
  ClientMessage,
  ClientMessageType,
  ServerFrame,
  WsErrorCode,
  WsProtocolErrorCode,
} from './ws/protocol';
export { WS_KEY_SUBPROTOCOL_PREFIX, WS_SUBPROTOCOL } from './ws/protocol';
