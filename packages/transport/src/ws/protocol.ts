import type { BootstrapResult, EngineTurnResult, SessionInfo } from '@stello-ai/core';
import { z } from 'zod';
import type { ErrorCode } from '../error-mapping';
import { forkOptions, sessionIdField, turnInput } from '../validation';
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
  'session.message': z.object({ type: z.literal('session.message'), input: turnInput }),
  'session.stream': z.object({ type: z.literal('session.stream'), input: turnInput }),
  'session.fork': z.object({ type: z.literal('session.fork'), options: forkOptions }),
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
  | { type: 'turn.complete'; result: EngineTurnResult }
  | { type: 'stream.delta'; chunk: string }
  | { type: 'stream.end'; result: EngineTurnResult }
  | { type: 'session.forked'; child: SessionInfo }
  | { type: 'error'; message: string; code: WsErrorCode; details?: unknown }
  | SpaceSubscriptionFrame;
