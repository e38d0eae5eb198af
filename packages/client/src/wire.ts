// Every wire type of the client comes through this one file. Type-only imports: they are erased at
// build time, so the client has no run-time dependency on the server's packages.
// TODO(protocol): take these from `@stello-ai/protocol` (the shared zod schemas) once it exists.
import type { ClientMessage, ServerFrame } from '@stello-ai/transport';

export type {
  ClientMessage,
  ErrorCode,
  RecordView,
  ServerFrame,
  WsProtocolErrorCode,
} from '@stello-ai/transport';

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

/** Status of a turn in the server's ledger. */
// TODO(protocol): declared by hand; transport exports no type for it.
export type TurnStatus = 'queued' | 'running' | 'completed' | 'cancelled' | 'failed';

/** `GET …/turns/:turnId`. */
// TODO(protocol): declared by hand after the route's answer.
export interface TurnInfo {
  turnId: string;
  sessionId: string;
  status: TurnStatus;
  /** The completed turn's result. */
  result?: TurnResult;
  /** Why a failed or cancelled turn ended. */
  error?: { code: string; message: string };
  /** The last frame number the server recorded for the turn. */
  lastSeq?: number;
}

/** `POST …/turns/:turnId/cancel` (202). */
// TODO(protocol): declared by hand after the route's answer.
export interface CancelTurnResult {
  turnId: string;
  status: TurnStatus;
}

/** A space as the REST routes return it. */
// TODO(protocol): declared by hand after the route's answer (runtime's `Space`).
export interface Space {
  id: string;
  userId: string;
  label: string;
  systemPrompt: string | null;
  consolidatePrompt: string | null;
  integratePrompt: string | null;
  config: Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
}

/** The body of `POST /spaces`. */
// TODO(protocol): the input type of transport's `createSpaceBody` schema.
export interface CreateSpaceBody {
  label: string;
  systemPrompt?: string | null;
  consolidatePrompt?: string | null;
  integratePrompt?: string | null;
  config?: Record<string, unknown>;
}

/** The body of `PATCH /spaces/:spaceId`; `null` clears a prompt. */
// TODO(protocol): the input type of transport's `updateSpaceBody` schema.
export interface UpdateSpaceBody {
  label?: string;
  systemPrompt?: string | null;
  consolidatePrompt?: string | null;
  integratePrompt?: string | null;
  config?: Record<string, unknown>;
}

/** The client message of one `type`. */
export type MessageOf<TType extends ClientMessage['type']> = Extract<ClientMessage, { type: TType }>;

/** The body of `POST …/sessions/:id/fork` (and the WS `session.fork` options). */
export type ForkSessionBody = MessageOf<'session.fork'>['options'];

/** How a turn behaves when the session is busy: wait its turn, or `SESSION_BUSY` at once. */
export type TurnConcurrency = NonNullable<MessageOf<'session.stream'>['concurrency']>;

/** One node of `GET /spaces/:spaceId/sessions?view=tree`. */
// TODO(protocol): declared by hand after core's `SessionTreeNode`.
export interface SessionTreeNode {
  id: string;
  label: string;
  sourceSessionId: string | null;
  status: SessionInfo['status'];
  turnCount: number;
  depth: number;
  index: number;
  scope: string | null;
  children: SessionTreeNode[];
}

/** The session data routes: `GET` each, `PUT` the writable ones. */
export type SessionSlot = 'system-prompt' | 'memory' | 'insight' | 'consolidate-prompt' | 'integrate-prompt';
/** The session data routes a `PUT` may write. */
export type WritableSessionSlot = 'system-prompt' | 'consolidate-prompt' | 'integrate-prompt';

// Values cannot come through a type-only import, but their literal types can: a change on the
// server's side is a compile error here.
import type {
  WS_KEY_SUBPROTOCOL_PREFIX as ServerKeyPrefix,
  WS_SUBPROTOCOL as ServerSubprotocol,
} from '@stello-ai/transport';

/** The WebSocket subprotocol of the API (`stello.v1`). */
export const WS_SUBPROTOCOL: typeof ServerSubprotocol = 'stello.v1';
/** Prefix of the subprotocol entry that carries the API key, for browsers that cannot set headers. */
export const WS_KEY_SUBPROTOCOL_PREFIX: typeof ServerKeyPrefix = 'stello.key.';
