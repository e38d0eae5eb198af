import type { BootstrapResult, EngineTurnResult, SessionInfo } from '@stello-ai/core';
import type { IntegrateResult } from '@stello-ai/session';
import { z } from 'zod';
import type { ErrorCode } from '../error-mapping';
import { concurrencyField, forkOptions, sessionIdField, turnIdField, turnInput } from '../validation';
import { type SpaceSubscriptionFrame, spaceSubscriptionSchemas } from './space-subscription';

/** The subprotocol the server selects when a browser authenticates through `Sec-WebSocket-Protocol`. */
export const WS_SUBPROTOCOL = 'stello.v1';
/** Prefix of the subprotocol entry carrying the API key: `stello.key.<KEY>` (offered with `stello.v1`). */
export const WS_KEY_SUBPROTOCOL_PREFIX = 'stello.key.';

/** Close code sent to every client when the gateway shuts down (RFC 6455 "going away"). */
export const WS_CLOSE_GOING_AWAY = 1001;

/** Codes of the protocol's own `error` frames; handler failures may carry a runtime code instead. */
export type WsProtocolErrorCode =
  /** The frame is not valid JSON. */
  | 'PARSE_ERROR'
  /** Not a JSON object, a binary frame, or a field missing or mistyped (`details` lists the issues). */
  | 'INVALID_MESSAGE'
  /** `type` names no message of the protocol. */
  | 'UNKNOWN_TYPE'
  /** The message needs an entered session. */
  | 'NOT_ENTERED'
  /** `session.enter` while a session is entered; leave first. */
  | 'ALREADY_ENTERED'
  /** Too many messages are waiting on this connection; this one was dropped. */
  | 'TOO_MANY_MESSAGES'
  /** The handler failed for a reason the client cannot act on; the details are only in the logs. */
  | 'HANDLER_ERROR';

/** Code of an `error` frame: a protocol code, or the stable code of the failure (`SESSION_NOT_FOUND`, …). */
export type WsErrorCode = WsProtocolErrorCode | ErrorCode;

/** Schemas of the client messages, by `type`. Unknown fields are ignored. */
export const CLIENT_MESSAGE_SCHEMAS = {
  'session.enter': z.object({ type: z.literal('session.enter'), sessionId: sessionIdField }),
  'session.leave': z.object({ type: z.literal('session.leave') }),
  'session.message': z.object({
    type: z.literal('session.message'),
    input: turnInput,
    turnId: turnIdField.optional(),
    concurrency: concurrencyField.optional(),
  }),
  'session.stream': z.object({
    type: z.literal('session.stream'),
    input: turnInput,
    turnId: turnIdField.optional(),
    concurrency: concurrencyField.optional(),
  }),
  // Any connection, any process: the frames after `afterSeq`, then the live ones, then the end.
  'session.resume': z.object({
    type: z.literal('session.resume'),
    sessionId: sessionIdField,
    turnId: turnIdField,
    afterSeq: z.number().int().min(0).default(0),
  }),
  // Handled at once, not queued behind the running turn it cancels.
  'session.cancel': z.object({ type: z.literal('session.cancel'), turnId: turnIdField }),
  'session.fork': z.object({ type: z.literal('session.fork'), options: forkOptions }),
  // Memory work on demand: the entered session unless `sessionId` names another of the space.
  'session.consolidate': z.object({
    type: z.literal('session.consolidate'),
    sessionId: sessionIdField.optional(),
  }),
  'space.integrate': z.object({ type: z.literal('space.integrate') }),
  ...spaceSubscriptionSchemas,
} as const;

/** The `type` of a client message. */
export type ClientMessageType = keyof typeof CLIENT_MESSAGE_SCHEMAS;

/** A validated client message. */
export type ClientMessage = {
  [T in ClientMessageType]: z.output<(typeof CLIENT_MESSAGE_SCHEMAS)[T]>;
}[ClientMessageType];

/** True when `type` is a message type of the protocol. */
export function isClientMessageType(type: string): type is ClientMessageType {
  return Object.hasOwn(CLIENT_MESSAGE_SCHEMAS, type);
}

/** A frame the server sends. */
export type ServerFrame =
  | { type: 'session.entered'; sessionId: string; bootstrap: BootstrapResult }
  | { type: 'session.left'; sessionId: string }
  | { type: 'turn.complete'; turnId: string; result: EngineTurnResult }
  | { type: 'stream.delta'; turnId: string; seq: number; chunk: string }
  | { type: 'stream.end'; turnId: string; seq: number; result: EngineTurnResult }
  | { type: 'tool.call'; turnId: string; seq: number; callId: string; name: string; input: unknown }
  | {
      type: 'tool.result';
      turnId: string;
      seq: number;
      callId: string;
      ok: boolean;
      output?: unknown;
      error?: string;
    }
  | { type: 'turn.cancelled'; turnId: string; seq?: number }
  | { type: 'session.forked'; child: SessionInfo }
  | { type: 'session.consolidated'; sessionId: string; memory: string | null }
  | { type: 'space.integrated'; synthesis: string; insights: IntegrateResult['insights'] }
  | { type: 'error'; message: string; code: WsErrorCode; details?: unknown }
  | SpaceSubscriptionFrame;
