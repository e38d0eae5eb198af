// The WebSocket protocol's messages and frames live in @stello-ai/protocol (as zod schemas, with
// their types inferred), so clients and the OpenAPI document share them; re-exported here.
export {
  CLIENT_MESSAGE_SCHEMAS,
  type ClientMessage,
  type ClientMessageType,
  isClientMessageType,
  type ServerFrame,
  WS_CLOSE_GOING_AWAY,
  WS_KEY_SUBPROTOCOL_PREFIX,
  WS_SUBPROTOCOL,
  type WsErrorCode,
  type WsProtocolErrorCode,
} from '@stello-ai/protocol';
