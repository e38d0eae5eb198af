/**
 * @module @stello-ai/protocol
 * The wire contract of Stello Server as zod schemas: what clients send (REST bodies and queries,
 * WebSocket messages), what the server answers (REST responses, error bodies and codes, WebSocket
 * and SSE frames). The server validates with these objects and its OpenAPI document is generated
 * from them; clients take their types from them. Depends on `zod` only: runs in Node and browsers.
 */

// Errors
export {
  ERROR_CODES,
  type ErrorBody,
  type ErrorCode,
  errorBody,
  errorCode,
  TURN_FAILED,
  type ValidationIssue,
  validationIssue,
  WS_PROTOCOL_ERROR_CODES,
  type WsErrorCode,
  type WsProtocolErrorCode,
  wsErrorCode,
} from './errors';
// Frames (WebSocket and SSE)
export {
  errorFrame,
  type ServerFrame,
  SPACE_EVENT_KINDS,
  type SpaceEvent,
  type SpaceEventKind,
  type SpaceSubscriptionFrame,
  serverFrameSchema,
  sessionEnteredFrame,
  sessionForkedFrame,
  sessionLeftFrame,
  spaceEventFrame,
  spaceEventSchema,
  spaceEventsOverflowFrame,
  spaceSubscribedFrame,
  spaceUnsubscribedFrame,
  streamDeltaFrame,
  streamEndFrame,
  type TurnStreamFrame,
  toolCallFrame,
  toolResultFrame,
  turnCancelledFrame,
  turnCompleteFrame,
  turnStartedFrame,
  turnStreamFrame,
} from './frames';
// Limits
export {
  CONTENT_MAX_CHARS,
  INPUT_MAX_CHARS,
  LABEL_MAX_CHARS,
  PAGE_MAX_LIMIT,
  SCOPE_MAX_CHARS,
  UUID_PATTERN,
} from './limits';
// Requests
export {
  type ContentBody,
  type CreateSpaceBody,
  concurrencyField,
  contentBody,
  createSpaceBody,
  type ForkOptionsBody,
  forkOptions,
  listSessionsQuery,
  listSpacesQuery,
  messagesQuery,
  sessionIdField,
  type TurnBody,
  turnBody,
  turnIdField,
  turnInput,
  type UpdateSpaceBody,
  updateSpaceBody,
  uuidField,
} from './requests';
// Responses
export {
  type ArchivedSession,
  archivedSessionSchema,
  type CancelTurnResult,
  cancelTurnResultSchema,
  healthSchema,
  type RecordView,
  readinessSchema,
  recordPageSchema,
  recordSchema,
  type SessionInfo,
  type SessionTreeNode,
  type SlotContent,
  type Space,
  sessionInfoSchema,
  sessionListSchema,
  sessionTreeNodeSchema,
  slotContentSchema,
  spacePageSchema,
  spaceSchema,
  type ToolCall,
  type TurnInfo,
  type TurnResult,
  type TurnStatus,
  toolCallSchema,
  turnInfoSchema,
  turnResultSchema,
  turnStatusSchema,
} from './responses';
// WebSocket client messages
export {
  CLIENT_MESSAGE_SCHEMAS,
  type ClientMessage,
  type ClientMessageInput,
  type ClientMessageType,
  clientMessageSchema,
  isClientMessageType,
  WS_CLOSE_GOING_AWAY,
  WS_KEY_SUBPROTOCOL_PREFIX,
  WS_SUBPROTOCOL,
} from './ws';
