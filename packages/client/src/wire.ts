// Every wire type of the client comes through this one file. Type-only imports: they are erased at
// build time, so the client has no run-time dependency on the server's packages.
// They come from `@stello-ai/protocol`: the zod schemas the server validates with and the OpenAPI
// document is generated from, so the client cannot drift from the server.
import type { ClientMessage, ServerFrame } from '@stello-ai/protocol';

export type {
  CancelTurnResult,
  ClientMessage,
  CreateSpaceBody,
  ErrorCode,
  RecordView,
  ServerFrame,
  SessionTreeNode,
  Space,
  TurnInfo,
  TurnStatus,
  UpdateSpaceBody,
  WsProtocolErrorCode,
} from '@stello-ai/protocol';

/** The server frame of one `type`. */
export type FrameOf<TType extends ServerFrame['type']> = Extract<ServerFrame, { type: TType }>;

/** A session with its place in the tree: what `GET …/sessions/:id`, the flat list and `fork` return. */
export type SessionInfo = FrameOf<'session.forked'>['child'];
/** The result of a turn: `{ turnId, turn: { finalContent, toolRoundCount, toolCallsExecuted, rawResponse } }`. */
export type TurnResult = FrameOf<'stream.end'>['result'];
/** What `session.enter` answers with: the session and its assembled context. */
export type SessionBootstrap = FrameOf<'session.entered'>['bootstrap'];
/** A change of a space, as `GET /spaces/:spaceId/events` and WS `space.event` deliver it. */
export type SpaceEvent = FrameOf<'space.event'>['event'];

/** What consolidating a session on demand answers: the session's new memory. */
export type ConsolidateResult = Omit<FrameOf<'session.consolidated'>, 'type'>;
/** What integrating a space on demand answers: the root's synthesis and the insights it sent. */
export type IntegrateResult = Omit<FrameOf<'space.integrated'>, 'type'>;

/** The frames of a streamed turn, in `seq` order: deltas and tool progress, then one terminal frame. */
export type TurnFrame =
  | FrameOf<'stream.delta'>
  | FrameOf<'tool.call'>
  | FrameOf<'tool.result'>
  | FrameOf<'stream.end'>
  | FrameOf<'turn.cancelled'>;

/** The client message of one `type`. */
export type MessageOf<TType extends ClientMessage['type']> = Extract<ClientMessage, { type: TType }>;

/** The body of `POST …/sessions/:id/fork` (and the WS `session.fork` options). */
export type ForkSessionBody = MessageOf<'session.fork'>['options'];

/** How a turn behaves when the session is busy: wait its turn, or `SESSION_BUSY` at once. */
export type TurnConcurrency = NonNullable<MessageOf<'session.stream'>['concurrency']>;

/** The session data routes: `GET` each, `PUT` the writable ones. */
export type SessionSlot = 'system-prompt' | 'memory' | 'insight' | 'consolidate-prompt' | 'integrate-prompt';
/** The session data routes a `PUT` may write. */
export type WritableSessionSlot = 'system-prompt' | 'consolidate-prompt' | 'integrate-prompt';

// Values cannot come through a type-only import, but their literal types can: a change on the
// server's side is a compile error here.
import type {
  WS_KEY_SUBPROTOCOL_PREFIX as ServerKeyPrefix,
  WS_SUBPROTOCOL as ServerSubprotocol,
} from '@stello-ai/protocol';

/** The WebSocket subprotocol of the API (`stello.v1`). */
export const WS_SUBPROTOCOL: typeof ServerSubprotocol = 'stello.v1';
/** Prefix of the subprotocol entry that carries the API key, for browsers that cannot set headers. */
export const WS_KEY_SUBPROTOCOL_PREFIX: typeof ServerKeyPrefix = 'stello.key.';
