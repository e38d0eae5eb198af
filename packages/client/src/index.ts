/**
 * @module @stello-ai/client
 * A typed client of Stello Server for Node 22+ and browsers: every REST route, WebSocket streams
 * that reconnect and resume, an SSE fallback on `fetch`, errors typed by code, `AbortSignal` on
 * every call, safe retries with turn ids, and helpers on the session tree. No Node built-ins.
 */

// Client
export { createStelloClient, type StelloClient, type StelloClientOptions } from './create-stello-client';
// Errors
export {
  type ClientErrorCode,
  isStelloError,
  StelloApiError,
  type StelloApiErrorOptions,
  type StelloErrorCode,
  type StreamErrorCode,
} from './errors';
// REST resources
export type { CallOptions, Page, PageOptions, SessionRef, SpaceRef, TurnRef } from './rest/options';
export type { ArchivedSession, SessionsApi } from './rest/sessions';
export type { SpacesApi } from './rest/spaces';
export type { SendTurnOptions, TurnsApi } from './rest/turns';
export { isRetryable, type RetryOptions } from './retry';
// Streams
export type { TurnStream } from './stream/turn-stream';
// Session tree
export {
  buildTree,
  findInTree,
  findSession,
  pathTo,
  type SessionInfoNode,
  type TreeVisit,
  walkTree,
} from './tree';
// Wire types
export type {
  CancelTurnResult,
  ConsolidateResult,
  CreateSpaceBody,
  ErrorCode,
  ForkSessionBody,
  IntegrateResult,
  RecordView,
  ServerFrame,
  SessionBootstrap,
  SessionInfo,
  SessionSlot,
  SessionTreeNode,
  Space,
  SpaceEvent,
  TurnConcurrency,
  TurnFrame,
  TurnInfo,
  TurnResult,
  TurnStatus,
  UpdateSpaceBody,
  WritableSessionSlot,
  WsProtocolErrorCode,
} from './wire';
export { WS_KEY_SUBPROTOCOL_PREFIX, WS_SUBPROTOCOL } from './wire';
// WebSocket
export type {
  ConnectionStatus,
  ConnectionTurnOptions,
  ConnectOptions,
  SpaceEventStream,
  StelloConnection,
} from './ws/stello-connection';
export type { WebSocketConstructor, WebSocketLike } from './ws/web-socket-like';
