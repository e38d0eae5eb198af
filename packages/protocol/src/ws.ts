import { z } from 'zod';
import { concurrencyField, forkOptions, sessionIdField, turnIdField, turnInput } from './requests';

// The WebSocket protocol at `GET /spaces/:spaceId/ws`: what a client sends. The frames the server
// sends are in `frames.ts`.

/** The subprotocol the server selects when a browser authenticates through `Sec-WebSocket-Protocol`. */
export const WS_SUBPROTOCOL = 'stello.v1';
/** Prefix of the subprotocol entry carrying the API key: `stello.key.<KEY>` (offered with `stello.v1`). */
export const WS_KEY_SUBPROTOCOL_PREFIX = 'stello.key.';

/** Close code sent to every client when the gateway shuts down (RFC 6455 "going away"). */
export const WS_CLOSE_GOING_AWAY = 1001;

/**
 * Schemas of the client messages, by `type`. Unknown fields are ignored. (`unusedIO: 'input'`
 * tells OpenAPI generators to render them as what a client sends, defaults unapplied.)
 */
export const CLIENT_MESSAGE_SCHEMAS = {
  'session.enter': z
    .object({ type: z.literal('session.enter'), sessionId: sessionIdField })
    .meta({ id: 'SessionEnterMessage', unusedIO: 'input' }),
  'session.leave': z
    .object({ type: z.literal('session.leave') })
    .meta({ id: 'SessionLeaveMessage', unusedIO: 'input' }),
  'session.message': z
    .object({
      type: z.literal('session.message'),
      input: turnInput,
      turnId: turnIdField.optional(),
      concurrency: concurrencyField.optional(),
    })
    .meta({ id: 'SessionMessageMessage', unusedIO: 'input' }),
  'session.stream': z
    .object({
      type: z.literal('session.stream'),
      input: turnInput,
      turnId: turnIdField.optional(),
      concurrency: concurrencyField.optional(),
    })
    .meta({ id: 'SessionStreamMessage', unusedIO: 'input' }),
  // Any connection, any process: the frames after `afterSeq`, then the live ones, then the end.
  'session.resume': z
    .object({
      type: z.literal('session.resume'),
      sessionId: sessionIdField,
      turnId: turnIdField,
      afterSeq: z.number().int().min(0).default(0),
    })
    .meta({ id: 'SessionResumeMessage', unusedIO: 'input' }),
  // Handled at once, not queued behind the running turn it cancels.
  'session.cancel': z
    .object({ type: z.literal('session.cancel'), turnId: turnIdField })
    .meta({ id: 'SessionCancelMessage', unusedIO: 'input' }),
  'session.fork': z
    .object({ type: z.literal('session.fork'), options: forkOptions })
    .meta({ id: 'SessionForkMessage', unusedIO: 'input' }),
  // Memory work on demand: the entered session unless `sessionId` names another of the space.
  'session.consolidate': z
    .object({ type: z.literal('session.consolidate'), sessionId: sessionIdField.optional() })
    .meta({ id: 'SessionConsolidateMessage', unusedIO: 'input' }),
  'space.integrate': z
    .object({ type: z.literal('space.integrate') })
    .meta({ id: 'SpaceIntegrateMessage', unusedIO: 'input' }),
  // The connection's space's events, live only, as `space.event` frames.
  'space.subscribe': z
    .object({ type: z.literal('space.subscribe'), spaceId: z.uuid() })
    .meta({ id: 'SpaceSubscribeMessage', unusedIO: 'input' }),
  'space.unsubscribe': z
    .object({ type: z.literal('space.unsubscribe'), spaceId: z.uuid() })
    .meta({ id: 'SpaceUnsubscribeMessage', unusedIO: 'input' }),
} as const;

/** The `type` of a client message. */
export type ClientMessageType = keyof typeof CLIENT_MESSAGE_SCHEMAS;

/** Any client message (for documentation and clients; the server looks the schema up by `type`). */
export const clientMessageSchema = z
  .discriminatedUnion('type', [
    CLIENT_MESSAGE_SCHEMAS['session.enter'],
    CLIENT_MESSAGE_SCHEMAS['session.leave'],
    CLIENT_MESSAGE_SCHEMAS['session.message'],
    CLIENT_MESSAGE_SCHEMAS['session.stream'],
    CLIENT_MESSAGE_SCHEMAS['session.resume'],
    CLIENT_MESSAGE_SCHEMAS['session.cancel'],
    CLIENT_MESSAGE_SCHEMAS['session.fork'],
    CLIENT_MESSAGE_SCHEMAS['session.consolidate'],
    CLIENT_MESSAGE_SCHEMAS['space.integrate'],
    CLIENT_MESSAGE_SCHEMAS['space.subscribe'],
    CLIENT_MESSAGE_SCHEMAS['space.unsubscribe'],
  ])
  .meta({ id: 'ClientMessage', unusedIO: 'input' });

/** A validated client message. */
export type ClientMessage = {
  [T in ClientMessageType]: z.output<(typeof CLIENT_MESSAGE_SCHEMAS)[T]>;
}[ClientMessageType];

/** A client message as a client sends it. */
export type ClientMessageInput = z.input<typeof clientMessageSchema>;

/** True when `type` is a message type of the protocol. */
export function isClientMessageType(type: string): type is ClientMessageType {
  return Object.hasOwn(CLIENT_MESSAGE_SCHEMAS, type);
}
